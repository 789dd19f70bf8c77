/**
 * What `visionpipe run` does (its flags and help are ../run.ts): checks every flag and
 * file before writing anything, runs the inputs through the pipelines with resume, and
 * prints the summary.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { openCache } from '../../cache/open-cache.js';
import { VisionpipeError } from '../../errors.js';
import { defaultConcurrency } from '../../image/parallelism.js';
import { isProfileName, PROFILE_NAMES, type ProfileName } from '../../image/profiles.js';
import { loadPattern } from '../../patterns/index.js';
import { createBatchBackend } from '../../providers/batch/index.js';
import { createProvider } from '../../providers/registry.js';
import { checkReportTarget } from '../../report/target.js';
import { runWithBatchApi } from '../../runs/batch-api-run.js';
import { CombinedWriter } from '../../runs/combine.js';
import { FailureLog } from '../../runs/failures.js';
import { formatRelativePath } from '../../runs/format-paths.js';
import { countInputs, expandInputs, type InputItem, readListFile } from '../../runs/inputs.js';
import { checkResultsTarget } from '../../runs/output-guard.js';
import { PipelineSet } from '../../runs/pipeline-set.js';
import { type ConfidencePolicy, defaultMinConfidence, enforceConfidence } from '../../runs/quality.js';
import { RenderOutputs } from '../../runs/render-outputs.js';
import { planResume } from '../../runs/resume.js';
import { loadRouter } from '../../runs/routes.js';
import { type BatchResult, runBatch } from '../../runs/run.js';
import { acquireRunLock } from '../../runs/run-lock.js';
import { RunSummary } from '../../runs/summary.js';
import { parseModelRef } from '../cost-flags.js';
import { documentOptionsFrom } from '../document-flags.js';
import { EXIT } from '../exit-codes.js';
import { plural } from '../format.js';
import { handleInterrupts } from '../interrupt.js';
import { createProgress } from '../progress.js';
import { defaultConcurrencyFor, limiterFrom, providerOptionsFrom, retryFrom } from '../provider-settings.js';
import type { RunFlags } from '../run.js';
import { printSummary } from '../summary-print.js';
import { WaitWatch } from '../wait-watch.js';
import { startRunObservers } from './observe.js';

/** The files of `run --watch DIR` (runs/watch-inputs.ts, loaded only then). */
async function watchedInputs(
  dir: string,
  stableMs: number,
  stop: AbortSignal,
  exclude: string[],
  log: (message: string) => void,
): Promise<AsyncGenerator<string>> {
  const { watchInputs } = await import('../../runs/watch-inputs.js');
  return watchInputs(dir, {
    stop,
    stableMs,
    exclude,
    onReady: (existing) =>
      log(
        `Watching ${dir} (${plural(existing, 'file')} there now): new and changed files are processed until Ctrl-C`,
      ),
    onError: (message) => log(`warning: ${message}`),
  });
}

/**
 * How long (ms) images in flight may finish after the first SIGINT/SIGTERM before they are
 * aborted: calls about to answer finish, but an image waiting on a rate limit or a
 * Retry-After (minutes at a low --rpm) does not hold a stopped process past a container's
 * grace period (30 s by default in Kubernetes).
 */
const STOP_GRACE_MS = 10_000;

async function* allInputs(inputs: readonly string[], list: string | undefined): AsyncGenerator<string> {
  yield* inputs;
  if (list) yield* readListFile(list);
}

/** --watch is the run's only input and needs an answer per file now. */
function checkWatchFlags(inputs: string[], flags: RunFlags): void {
  const clash =
    inputs.length > 0
      ? 'input arguments'
      : flags.list
        ? '--list'
        : flags.batchApi
          ? '--batch-api'
          : undefined;
  if (clash)
    throw new VisionpipeError(
      'INVALID_OPTION',
      `--watch cannot be combined with ${clash}: it watches one folder`,
      {
        option: 'watch',
      },
    );
}

function checkFlags(inputs: string[], flags: RunFlags): ProfileName | undefined {
  if (flags.watch !== undefined) checkWatchFlags(inputs, flags);
  else if (inputs.length === 0 && !flags.list) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      'give at least one input (file, folder, glob, URL) or --list FILE',
      {
        option: 'inputs',
      },
    );
  }
  if (flags.profile === undefined) return undefined;
  if (!isProfileName(flags.profile)) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `--profile "${flags.profile}" is not a profile; choose one of ${PROFILE_NAMES.join(', ')}`,
      { option: 'profile' },
    );
  }
  return flags.profile;
}

/** Runs the command; returns the exit code (0, or 1 with --fail-on-error when any image failed). */
export async function runCommand(inputs: string[], flags: RunFlags): Promise<number> {
  const profile = checkFlags(inputs, flags);
  if (flags.watch !== undefined)
    await (await import('../../runs/watch-inputs.js')).checkWatchDir(flags.watch);
  const triage = flags.triage ? parseModelRef(flags.triage, '--triage') : undefined;
  const escalation = flags.escalateTo ? parseModelRef(flags.escalateTo, '--escalate-to') : undefined;
  if (flags.batchApi && escalation) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      '--batch-api and --escalate-to cannot be combined: escalation needs an answer now',
      {
        option: 'batchApi',
      },
    );
  }
  if (flags.batchApi && flags.maxCostUsd !== undefined) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      '--max-cost-usd cannot be combined with --batch-api: batch results arrive too late to stop in time',
      {
        option: 'maxCostUsd',
      },
    );
  }
  if (flags.escalateBelow !== undefined && !escalation) {
    throw new VisionpipeError('INVALID_OPTION', '--escalate-below needs --escalate-to provider:model', {
      option: 'escalateBelow',
    });
  }
  // Pattern, rules and providers first: a bad one stops the command before anything is written.
  const pattern = await loadPattern(flags.pattern);
  const defaults = { pattern, provider: flags.provider, model: flags.model, profile };
  const router = flags.route ? await loadRouter(flags.route, defaults) : undefined;
  const extraBaseUrls = {
    ...(triage && flags.triageBaseUrl ? { [triage.provider]: flags.triageBaseUrl } : {}),
    ...(escalation && flags.escalateBaseUrl ? { [escalation.provider]: flags.escalateBaseUrl } : {}),
  };
  const providerOptions = providerOptionsFrom(flags, extraBaseUrls);
  const mainProvider = createProvider(flags.provider, providerOptions); // unknown id, bad option: fail now
  const batchBackend = flags.batchApi
    ? createBatchBackend(flags.provider, {
        openai: { ...(providerOptions.openai ?? {}) },
        anthropic: { ...(providerOptions.anthropic ?? {}) },
      })
    : undefined;
  // A report that cannot be written fails now, not after the images were paid for.
  if (flags.report) await checkReportTarget(flags.report, '--report');
  let summary = new RunSummary();
  // Retries and rate-limit pauses show in the progress line while they last (wait-watch.ts).
  const waits = new WaitWatch({
    onWait: (status) => progress.log(status),
    onRetry: () => summary.addRetry(),
  });
  const progress = createProgress({
    label: 'run',
    mode: flags.progress ? undefined : 'off',
    status: () => waits.status(),
  });
  const warn = (message: string) => progress.log(`warning: ${message}`);
  const observers = await startRunObservers(flags, progress, path.resolve(flags.out));
  const interrupt = handleInterrupts(
    () =>
      progress.log(
        `Stopping: finishing images in flight for up to ${STOP_GRACE_MS / 1000} s (Ctrl-C again to abort)`,
      ),
    {
      graceMs: STOP_GRACE_MS,
      onGraceOver: () =>
        progress.log('Stopping: images still in flight are aborted (ABORTED; the next run redoes them)'),
    },
  );
  try {
    const stateDir = path.resolve(flags.stateDir);
    const cache = await openCache({ spec: flags.cache, stateDir, ttlMs: flags.cacheTtl, warn });
    const limiter = limiterFrom(flags, warn);
    const retry = retryFrom(flags);
    const pipelines = new PipelineSet({
      defaults,
      ...(router ? { router } : {}),
      providers: [mainProvider],
      providerOptions,
      cache,
      warn,
      ...(limiter ? { limiter } : {}),
      ...(retry ? { retry } : {}),
      sourceLimits: {
        maxInputBytes: flags.maxInputBytes,
        allowPrivateNetworks: flags.allowPrivateUrls ?? false,
        passUrls: flags.passUrls ?? false,
      },
      timeoutMs: flags.timeout,
      ...(flags.nearDup === undefined ? {} : { nearDuplicateDistance: flags.nearDup }),
      ...(flags.retryFailed ? { retryFailed: true } : {}),
      ...(flags.maxImageTokens === undefined ? {} : { maxImageTokens: flags.maxImageTokens }),
      documents: documentOptionsFrom(flags),
      ...(triage
        ? { triage: { ...triage, ...(flags.triageQuestion ? { question: flags.triageQuestion } : {}) } }
        : {}),
      ...(escalation
        ? {
            escalation: {
              ...escalation,
              // --min-confidence escalates first: only what the stronger model cannot lift is an error.
              ...((flags.escalateBelow ?? flags.minConfidence) === undefined
                ? {}
                : { below: flags.escalateBelow ?? flags.minConfidence }),
            },
          }
        : {}),
      ...(flags.priceTable ? { priceTable: flags.priceTable } : {}),
    });
    let completed = false;
    let confidence: ConfidencePolicy | undefined;
    let combined: CombinedWriter | undefined;
    const failures = await FailureLog.open(flags.failures);
    let counted: Promise<number | undefined> = Promise.resolve(undefined);
    let describe = { provider: flags.provider, model: flags.model ?? '' };
    let releaseLock = () => {};
    const watchDone = new AbortController();
    try {
      pipelines.checkCredentials(); // a missing key stops the run before anything is written
      const main = await pipelines.defaultPipeline();
      describe = { provider: main.provider.id, model: main.model };
      const calibrated = defaultMinConfidence(main.provider.id);
      if (flags.minConfidence !== undefined)
        confidence = { min: flags.minConfidence, enforce: true, source: '--min-confidence' };
      else if (calibrated !== undefined)
        confidence = { min: calibrated, enforce: false, source: 'engine calibration' };
      summary = new RunSummary(confidence ? { minConfidence: confidence.min } : {});
      const concurrency = flags.concurrency ?? defaultConcurrencyFor(main.provider.id, defaultConcurrency());
      observers.started({
        ...describe,
        concurrency,
        pattern: flags.pattern,
        results: path.resolve(flags.out),
      });
      // Never read our own outputs back as inputs: the results file, the format folder, the state.
      const exclude = [
        flags.out,
        stateDir,
        ...(flags.formatDir ? [flags.formatDir] : []),
        ...(flags.failures ? [flags.failures] : []),
        ...(flags.combine ? [flags.combine, `${flags.combine}.${process.pid}.tmp`] : []),
      ].map((p) => path.resolve(p));
      // -o is never the pattern, a rules or list file, an input, or a file visionpipe did not write.
      await checkResultsTarget({
        out: flags.out,
        reads: { pattern: flags.pattern, routes: flags.route, list: flags.list },
        inputs,
        overwrite: flags.overwrite ?? false,
      });
      const lock = acquireRunLock(stateDir, flags.out, warn); // one run per results file (run-lock.ts)
      releaseLock = () => lock.release();
      const plan = await planResume({
        out: flags.out,
        stateDir,
        fresh: flags.fresh ?? false,
        signature: await pipelines.signature(),
      });
      if (plan.reason) warn(plan.reason);
      if (plan.earlier > 0)
        progress.log(`Resuming: ${plan.earlier} results from an earlier run of this command are kept`);
      const renders = flags.formatDir
        ? await RenderOutputs.open(flags.formatDir, {
            overwrite: flags.overwrite ?? false,
            ...(flags.keepCsvFormulas ? { csvFormulas: 'keep' as const } : {}),
            patternFor: async (item) => (await pipelines.pipelineFor(item)).pattern,
            warn,
          })
        : undefined;
      combined = flags.combine ? await CombinedWriter.open(flags.combine, warn) : undefined;
      // --format-dir keeps the inputs' folders when several arguments are given (format-paths.ts).
      const severalArguments = inputs.length + (flags.list ? 1 : 0) > 1;
      const placed = (item: InputItem): InputItem =>
        item.kind === 'error' ? item : { ...item, rel: formatRelativePath(item, severalArguments) };
      if (!flags.watch)
        counted = countInputs(allInputs(inputs, flags.list), { exclude }).then(
          (total) => {
            progress.setTotal(total);
            observers.expect(total);
            return total;
          },
          () => undefined,
        );
      try {
        const sources = flags.watch
          ? await watchedInputs(
              flags.watch,
              flags.watchStable,
              AbortSignal.any([interrupt.stop, watchDone.signal]),
              exclude,
              progress.log.bind(progress),
            )
          : allInputs(inputs, flags.list);
        const expanded = expandInputs(sources, { exclude });
        // The budget admits inputs as records come in: the batch API's come too late for it.
        const items = batchBackend ? expanded : observers.gate(expanded);
        const handle = async ({ item, record: raw, resumed }: BatchResult) => {
          const produced = resumed ? raw : enforceConfidence(raw, confidence);
          progress.tick(produced.status === 'error');
          if (combined && produced.status === 'ok' && item.kind !== 'error') {
            await combined.add(produced.input, (await pipelines.pipelineFor(item)).pattern, produced.output);
          }
          if (resumed) {
            plan.kept(produced);
            summary.addResumed(produced);
            await renders?.restore(placed(item), produced); // its file may be missing after a kill
            return;
          }
          // Rendered first, so the record names the file it was rendered to.
          const record = renders ? await renders.render(placed(item), produced) : produced;
          plan.writer.write(record);
          plan.processed(record);
          summary.add(record);
          failures.add(record);
        };
        if (batchBackend) {
          const signature = await pipelines.signature();
          await runWithBatchApi(items, {
            backend: batchBackend,
            pipelineFor: (i) => pipelines.pipelineFor(i),
            stateDir,
            jobKey: createHash('sha256')
              .update(JSON.stringify([signature, path.resolve(flags.out)]))
              .digest('hex')
              .slice(0, 32),
            concurrency,
            reuse: (candidate, sha256) => plan.reuse(candidate, sha256),
            pollIntervalMs: flags.batchPoll,
            stop: interrupt.stop,
            signal: interrupt.abort,
            onStatus: (message) => progress.log(message),
            onResult: handle,
          });
        } else {
          for await (const result of runBatch(items, (i) => pipelines.pipelineFor(i), {
            concurrency,
            stop: interrupt.stop,
            signal: interrupt.abort,
            reuse: (candidate, sha256) => plan.reuse(candidate, sha256),
            onRecord: (record) => observers.record(record),
          })) {
            await handle(result);
          }
        }
        completed = !interrupt.stop.aborted && observers.budgetStopped === undefined;
      } finally {
        watchDone.abort(); // a failed run closes the watcher too
        // The Ctrl-C handler stays until the summary is out: a Ctrl-C during cleanup must not
        // kill the process before the journal is closed and the summary printed.
        progress.stop();
        await plan.finish(completed);
      }
    } finally {
      releaseLock();
      progress.stop();
      waits.close();
      await pipelines.close();
      await batchBackend?.close();
      await limiter?.close();
      await cache.close();
      await failures.close();
    }
    const combinedFile = combined ? await combined.close() : undefined;
    const result = summary.toJSON();
    if (observers.budgetStopped) result.alerts.push(observers.budgetStopped);
    await observers.finish(result, {
      results: flags.out,
      completed,
      config: {
        command: 'run',
        ...describe,
        pattern: flags.pattern,
        concurrency: String(flags.concurrency ?? 'default'),
      },
    });
    // A budget stop names how many inputs were left, in the summary and in the exit code.
    const notProcessed = observers.budgetStopped
      ? Math.max(0, ((await counted) ?? result.total) - result.total)
      : undefined;
    const budgetStop = notProcessed === undefined ? {} : { stopped: 'budget', not_processed: notProcessed };
    if (flags.json)
      process.stdout.write(`${JSON.stringify({ ...result, ...budgetStop, failures: failures.report() })}\n`);
    else
      printSummary(result, {
        results: flags.out,
        // Ctrl-C is how a watch ends: nothing was left unstarted.
        stopped: !completed && !flags.watch,
        ...(notProcessed === undefined ? {} : { budgetStop: { notProcessed } }),
        ...describe,
        ...(confidence ? { confidenceSource: confidence.source } : {}),
        failures: failures.report(),
        ...(flags.formatDir ? { formatDir: flags.formatDir } : {}),
        ...(combinedFile ? { combined: combinedFile } : {}),
      });
    await observers.linger(interrupt.stop);
    if (result.total > 0 && result.errors_by_code.NOT_FOUND === result.total) {
      // Nothing named exists: a typo in the command, not a batch with failures.
      process.stderr.write(
        `visionpipe run: none of the ${plural(result.total, 'input')} exists (NOT_FOUND); check the paths\n`,
      );
      return 2;
    }
    if (notProcessed !== undefined) return EXIT.budgetStopped;
    // A script must not read a run cut short by a signal as a complete one.
    if (!completed && !flags.watch) return EXIT.stopped;
    return flags.failOnError && result.errors > 0 ? EXIT.inputsFailed : EXIT.ok;
  } finally {
    // Every exit path (a thrown error included) closes the metrics server, the alert timer
    // and the log, and gives SIGINT/SIGTERM back: nothing may keep the process alive.
    interrupt.dispose();
    await observers.close().catch(() => {});
  }
}
