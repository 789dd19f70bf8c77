/**
 * `visionpipe optimize`: preprocess images for vision providers and write them to a folder.
 * Streams: rows (or JSON array items) are printed as each file finishes, so memory stays
 * flat however many inputs there are.
 */
import path from 'node:path';
import { Command } from 'commander';
import { type OutputFormat, type PreprocessOptions, resolvePreprocessOptions } from '../image/options.js';
import { PROFILE_NAMES, SIZE_PROFILES } from '../image/profiles.js';
import { DEFAULT_MAX_INPUT_BYTES } from '../image/source.js';
import { defaultConcurrency } from '../image/tuning.js';
import { countInputs, expandInputs, explicitFilePaths } from '../runs/inputs.js';
import { type OptimizeFileResult, OptimizeTotals, optimizeInputs } from '../runs/optimize.js';
import { assertOutDirUsable, OutputWriter } from '../runs/output-paths.js';
import { fixedWidth, formatBytes, formatDuration, formatRate, plural } from './format.js';
import { handleInterrupts } from './interrupt.js';
import { byteSize, integer, oneOf, pixelCount } from './parsers.js';
import { createProgress } from './progress.js';

interface OptimizeFlags {
  outDir: string;
  profile: string;
  maxSize?: number;
  format: OutputFormat;
  quality: number;
  mozjpeg?: boolean;
  crop?: string;
  flatten: boolean;
  background: string;
  concurrency: number;
  maxInputBytes: number;
  maxPixels: number;
  allowPrivateUrls?: boolean;
  timeout: number;
  json?: boolean;
  progress: boolean;
}

const EXAMPLES = `
Examples:
  $ visionpipe optimize ./scans --out-dir out
  $ visionpipe optimize 'photos/**/*.jpg' --out-dir out --profile anthropic
  $ visionpipe optimize invoice.png --out-dir out --crop 0,0,100%,50% --format webp --quality 80
  $ visionpipe optimize https://example.com/receipt.jpg --out-dir out --json

Profiles:
${PROFILE_NAMES.map((name) => `  ${name.padEnd(12)} ${SIZE_PROFILES[name].description}`).join('\n')}

Exit codes: 0 all files optimized, 1 some inputs failed (the rest are written), 2 usage error.`;

function describeSide(side: { width: number; height: number; bytes: number }): string {
  return `${`${side.width}×${side.height}`.padStart(9)} ${fixedWidth(formatBytes(side.bytes), 8, 'right')}`;
}

function row(result: OptimizeFileResult): string {
  const shown = path.relative(process.cwd(), result.output ?? '') || result.output;
  if (result.status === 'ok' && result.before && result.after) {
    const change =
      result.before.bytes === 0 ? 0 : Math.round((result.after.bytes / result.before.bytes - 1) * 100);
    return `  ok  ${describeSide(result.before)} → ${describeSide(result.after)} ${fixedWidth(`${change > 0 ? '+' : ''}${change}%`, 5, 'right')}  ${result.input} → ${shown}`;
  }
  return ` ERR  ${fixedWidth(result.error?.code ?? 'INTERNAL', 18)} ${result.error?.message ?? ''}`;
}

async function runOptimize(inputs: string[], flags: OptimizeFlags): Promise<number> {
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
  try {
    for await (const result of optimizeInputs(expandInputs(inputs, { exclude }), {
      writer,
      preprocess,
      concurrency: flags.concurrency,
      sourceLimits: {
        maxInputBytes: flags.maxInputBytes,
        allowPrivateNetworks: flags.allowPrivateUrls ?? false,
        timeoutMs: flags.timeout,
      },
      stop: interrupt.stop,
    })) {
      totals.add(result);
      progress.tick(result.status === 'error');
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
    out.write(`\n],"total":${JSON.stringify(totals.toJSON())}}\n`);
  } else {
    const byCode = [...totals.errorsByCode].map(([code, n]) => `${code} ${n}`).join(', ');
    const done = totals.ok + totals.errors;
    out.write(
      `\n${plural(done, 'file')}: ${totals.ok} ok, ${totals.errors} failed${byCode ? ` (${byCode})` : ''}\n` +
        `${formatBytes(totals.beforeBytes)} → ${formatBytes(totals.afterBytes)} (${totals.reductionPct >= 0 ? '-' : '+'}${Math.abs(totals.reductionPct)}%) in ${formatDuration(elapsed)} (${formatRate(done / (elapsed / 1000))} images/s)\n`,
    );
    if (interrupt.stop.aborted) out.write('Stopped early: inputs not started were skipped.\n');
  }
  return totals.errors > 0 ? 1 : 0;
}

export function optimizeCommand(): Command {
  return new Command('optimize')
    .description(
      'Orient, crop, resize, flatten and strip images the way vision providers want them, and write them to a folder',
    )
    .argument('<inputs...>', 'files, directories (recursive), globs or http(s) URLs')
    .requiredOption('-o, --out-dir <dir>', 'folder for the optimized files (relative paths are kept)')
    .option('-p, --profile <name>', `size profile: ${PROFILE_NAMES.join(', ')}`, 'max2048')
    .option('--max-size <px>', "longest edge in pixels (overrides the profile's)", integer(16, 65_535))
    .option(
      '-f, --format <format>',
      'output format: jpeg, png or webp',
      oneOf(['jpeg', 'png', 'webp'] as const),
      'jpeg',
    )
    .option(
      '-q, --quality <1-100>',
      'JPEG/WebP quality (never above a JPEG source’s own)',
      integer(1, 100),
      85,
    )
    .option('--mozjpeg', 'mozjpeg encoder: ~10% smaller JPEGs, ~4x slower')
    .option('--crop <l,t,w,h>', 'keep a region: pixels (120), percentages (50%) or fractions (0.5)')
    .option('--no-flatten', 'keep transparency in PNG/WebP output (JPEG is always flattened)')
    .option('--background <hex>', 'colour under transparent pixels', '#ffffff')
    .option('-c, --concurrency <n>', 'images processed at once', integer(1, 1024), defaultConcurrency())
    .option('--max-input-bytes <size>', 'refuse larger inputs (e.g. 50MB)', byteSize, DEFAULT_MAX_INPUT_BYTES)
    .option('--max-pixels <n>', 'refuse images with more pixels (e.g. 100MP)', pixelCount, 100_000_000)
    .option('--allow-private-urls', 'allow URLs that resolve to loopback/private/link-local addresses')
    .option('--timeout <ms>', 'timeout for each URL download', integer(1), 30_000)
    .option('--json', 'print one JSON summary object instead of the table')
    .option('--no-progress', 'no progress bar or progress lines')
    .addHelpText('after', EXAMPLES)
    .action(async (inputs: string[], flags: OptimizeFlags) => {
      process.exitCode = await runOptimize(inputs, flags);
    });
}
