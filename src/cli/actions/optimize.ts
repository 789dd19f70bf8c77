/**
 * What `visionpipe optimize` does (flags and help: ../optimize.ts). Streams: rows (or JSON
 * array items) are printed as each file finishes, so memory stays flat however many
 * inputs there are.
 */
import path from 'node:path';
import { type PreprocessOptions, resolvePreprocessOptions } from '../../image/options.js';
import { countInputs, expandInputs, explicitFilePaths } from '../../runs/inputs.js';
import { type OptimizeFileResult, OptimizeTotals, optimizeInputs } from '../../runs/optimize.js';
import { assertOutDirUsable, OutputWriter } from '../../runs/output-paths.js';
import { pageSelectionFrom } from '../document-flags.js';
import { EXIT } from '../exit-codes.js';
import { fixedWidth, formatBytes, formatDuration, formatRate, plural } from '../format.js';
import { handleInterrupts } from '../interrupt.js';
import type { OptimizeFlags } from '../optimize.js';
import { createProgress } from '../progress.js';
import { skippedFilesText } from '../summary-print.js';

function describeSide(side: { width: number; height: number; bytes: number }): string {
  return `${`${side.width}×${side.height}`.padStart(9)} ${fixedWidth(formatBytes(side.bytes), 8, 'right')}`;
}

function row(result: OptimizeFileResult): string {
  const shown = path.relative(process.cwd(), result.output ?? '') || result.output;
  if (result.status === 'ok' && result.page !== undefined && result.after) {
    const which = `page ${result.page}/${result.pages}${result.blank ? ' (blank)' : ''}`;
    return `  ok  ${fixedWidth(which, 18, 'right')} → ${describeSide(result.after)}        ${result.input} → ${shown}`;
  }
  if (result.status === 'ok' && result.before && result.after) {
    const change =
      result.before.bytes === 0 ? 0 : Math.round((result.after.bytes / result.before.bytes - 1) * 100);
    const frame = result.frames === undefined ? '' : ` (frame ${result.frame} of ${result.frames})`;
    // Said on the row: the file written is the input itself, and why.
    const kept = result.kept_original ? `\n      kept the original: ${result.larger_because}` : '';
    return `  ok  ${describeSide(result.before)} → ${describeSide(result.after)} ${fixedWidth(`${change > 0 ? '+' : ''}${change}%`, 5, 'right')}  ${result.input} → ${shown}${frame}${kept}`;
  }
  return ` ERR  ${fixedWidth(result.error?.code ?? 'INTERNAL', 18)} ${result.error?.message ?? ''}`;
}

/** Runs the command; returns the exit code (1 when some inputs failed). */
export async function runOptimize(inputs: string[], flags: OptimizeFlags): Promise<number> {
  const preprocessOptions: PreprocessOptions = {
    profile: flags.profile as PreprocessOptions['profile'],
    format: flags.format,
    quality: flags.quality,
    mozjpeg: flags.mozjpeg ?? false,
    flatten: flags.flatten,
    background: flags.background,
    limitInputPixels: flags.maxPixels,
    ...(flags.maxSize === undefined ? {} : { maxSize: flags.maxSize }),
    ...(flags.crop === undefined ? {} : { crop: flags.crop }),
  };
  const preprocess = resolvePreprocessOptions(preprocessOptions);
  await assertOutDirUsable(inputs, flags.outDir);
  const writer = await OutputWriter.create(flags.outDir, await explicitFilePaths(inputs));
  const exclude = [path.resolve(flags.outDir)];

  const progress = createProgress({ label: 'optimize', mode: flags.progress ? undefined : 'off' });
  countInputs(inputs, { exclude }).then(
    (total) => progress.setTotal(total),
    () => {},
  );
  const interrupt = handleInterrupts(() =>
    progress.log('Stopping: finishing images in flight (Ctrl-C again to abort)'),
  );
  const totals = new OptimizeTotals();
  const started = performance.now();
  const out = process.stdout;
  const printRow = (line: string) => (out.isTTY ? progress.log(line) : out.write(`${line}\n`));

  if (flags.json) out.write('{"files":[');
  let first = true;
  const ticked = new Set<string>();
  /** Files in the folders that are not images or documents (runs/inputs.ts): said, not optimized. */
  let skippedFiles = 0;
  try {
    const expanded = expandInputs(inputs, { exclude, onSkipped: () => skippedFiles++ });
    for await (const result of optimizeInputs(expanded, {
      writer,
      preprocess,
      concurrency: flags.concurrency,
      sourceLimits: {
        maxInputBytes: flags.maxInputBytes,
        allowPrivateNetworks: flags.allowPrivateUrls ?? false,
        timeoutMs: flags.timeout,
      },
      stop: interrupt.stop,
      pages: pageSelectionFrom(flags),
    })) {
      totals.add(result);
      // The progress counts inputs: a document's pages arrive together, one tick for them all.
      if (!ticked.has(result.input)) {
        ticked.add(result.input);
        progress.tick(result.status === 'error');
      }
      // Said on stderr in both modes (the JSON result carries it too): the table may be piped away.
      if (result.warning) progress.log(`warning: ${result.warning}`);
      if (flags.json) {
        out.write(`${first ? '' : ','}\n${JSON.stringify(result)}`);
        first = false;
      } else {
        printRow(row(result));
      }
    }
  } finally {
    progress.stop();
    interrupt.dispose();
  }
  const elapsed = performance.now() - started;
  if (flags.json) {
    out.write(`\n],"total":${JSON.stringify({ ...totals.toJSON(), skipped_files: skippedFiles })}}\n`);
  } else {
    const byCode = [...totals.errorsByCode].map(([code, n]) => `${code} ${n}`).join(', ');
    const done = totals.ok + totals.errors;
    out.write(
      `\n${plural(done, 'file')}: ${totals.ok} ok${totals.keptOriginal ? ` (${totals.keptOriginal} kept as given: re-encoding was larger)` : ''}, ${totals.errors} failed${byCode ? ` (${byCode})` : ''}${skippedFiles > 0 ? `; ${skippedFilesText(skippedFiles)}` : ''}\n` +
        `${sizes(totals)} in ${formatDuration(elapsed)} ${rate(totals.ok, elapsed)}\n`,
    );
    if (interrupt.stop.aborted) out.write('Stopped early: inputs not started were skipped.\n');
  }
  return optimizeExitCode(totals, inputs, interrupt.stop.aborted);
}

/** "1.2 MB → 300 kB (-75%)", or "nothing optimized" when no file was. */
function sizes(totals: OptimizeTotals): string {
  const pct = totals.reductionPct;
  if (pct === null) return 'nothing optimized';
  return `${formatBytes(totals.beforeBytes)} → ${formatBytes(totals.afterBytes)} (${pct >= 0 ? '-' : '+'}${Math.abs(pct)}%)`;
}

/**
 * As `run` ends (run-summary.ts runExitCode): 2 when nothing was named or every input is
 * missing or unreadable as an input (a typo in the command, reason on stderr), 1 when some
 * input failed, else 0.
 */
function optimizeExitCode(totals: OptimizeTotals, inputs: readonly string[], stopped: boolean): number {
  const done = totals.ok + totals.errors;
  const missing =
    (totals.errorsByCode.get('NOT_FOUND') ?? 0) + (totals.errorsByCode.get('INVALID_INPUT') ?? 0);
  if (done === 0 && !stopped) {
    process.stderr.write(`visionpipe optimize: no input found in ${inputs.join(', ') || 'the arguments'}\n`);
    return EXIT.usage;
  }
  if (missing === done) {
    process.stderr.write(
      `visionpipe optimize: none of the ${plural(done, 'input')} exists or is readable (NOT_FOUND / INVALID_INPUT)\n`,
    );
    return EXIT.usage;
  }
  return totals.errors > 0 ? EXIT.inputsFailed : EXIT.ok;
}

/**
 * ` (N images/s)` over the images optimized in `elapsedMs` ms, or nothing when none was:
 * failed and missing inputs are not images processed, so no rate is made of them.
 */
function rate(optimized: number, elapsedMs: number): string {
  return optimized > 0 && elapsedMs > 0 ? ` (${formatRate(optimized / (elapsedMs / 1000))} images/s)` : '';
}
