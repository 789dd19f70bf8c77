/**
 * What `visionpipe run` does (its flags and help are ../run.ts): checks every flag and
 * file before writing anything (run-checks.ts, pipelines.ts), runs the inputs through the
 * pipelines with resume (runs/run.ts, or the batch API: run-batch-api.ts), hands each
 * result to its sinks (run-records.ts) and prints the summary (run-summary.ts) while the
 * session (run-session.ts) shows progress and handles Ctrl-C.
 */
import path from 'node:path';
import { openCache } from '../../cache/open-cache.js';
import { configFileFor } from '../../config/file.js';
import { defaultConcurrency } from '../../image/parallelism.js';
import { checkReportTarget } from '../../report/target.js';
import { recordCostEstimator, requirePrices } from '../../runs/budget.js';
import { CombinedWriter } from '../../runs/combine.js';
import { FailureLog } from '../../runs/failures.js';
import { commonRoot } from '../../runs/format-paths.js';
import { argumentsAndList, countInputs, expandInputs } from '../../runs/inputs.js';
import { checkOutputTargets, resultOutputs } from '../../runs/output-guard.js';
import { type ConfidencePolicy, defaultMinConfidence } from '../../runs/quality.js';
import { RenderOutputs } from '../../runs/render-outputs.js';
import { planResume } from '../../runs/resume.js';
import { runBatch } from '../../runs/run.js';
import { acquireRunLock, lockPath } from '../../runs/run-lock.js';
import { RunSummary } from '../../runs/summary.js';
import { defaultConcurrencyFor, limiterFrom } from '../provider-settings.js';
import type { RunFlags } from '../run.js';
import { resumingLine } from '../summary-print.js';
import { buildPipelineSet, planPipelines } from './pipelines.js';
import { batchBackendFor, runThroughBatchApi } from './run-batch-api.js';
import { checkRunFlags } from './run-checks.js';
import { runPipelineSettings } from './run-pipelines.js';
import { recordHandler } from './run-records.js';
import { startRunSession } from './run-session.js';
import { printRunSummary, runExitCode } from './run-summary.js';
import { checkWatchDir, watchedInputs } from './run-watch.js';

/** Said once on stderr by a run with `--cache memory`: nothing it caches outlives it. */
export const MEMORY_CACHE_NOTE =
  'note: --cache memory keeps results for this run only: nothing is kept between runs, so a rerun pays again (the default, sqlite, keeps them)';

/** Runs the command; returns the exit code (run-summary.ts runExitCode). */
export async function runCommand(inputs: string[], flags: RunFlags): Promise<number> {
  const checked = checkRunFlags(inputs, flags);
  if (flags.watch !== undefined) await checkWatchDir(flags.watch);
  // Pattern, rules and providers first: a bad one stops the command before anything is written.
  const setup = await planPipelines(flags, checked.profile ? { profile: checked.profile } : {});
  const batchBackend = flags.batchApi ? batchBackendFor(flags.provider, setup.providerOptions) : undefined;
  // A report that cannot be written fails now, not after the images were paid for.
  if (flags.report) await checkReportTarget(flags.report, '--report');
  // No output is the pattern, a rules, list or config file, an input, another output, or a
  // file visionpipe did not write: checked before the log, --failures or -o is opened.
  await checkOutputTargets({
    outputs: [
      ...resultOutputs(flags),
      flags.report ? { flag: '--report', option: 'report', file: flags.report, kind: 'report' } : undefined,
      flags.logFile ? { flag: '--log-file', option: 'logFile', file: flags.logFile, kind: 'log' } : undefined,
    ],
    reads: {
      pattern: flags.pattern,
      routes: flags.route,
      list: flags.list,
      config: configFileFor(flags.config),
    },
    inputs: flags.watch ? [...inputs, flags.watch] : inputs,
    overwrite: flags.overwrite ?? false,
  });
  const session = await startRunSession(flags);
  const { progress, warn, observers, interrupt } = session;
  try {
    const stateDir = path.resolve(flags.stateDir);
    // Never read our own outputs back as inputs: the results file, the format folder, the state.
    const exclude = [
      flags.out,
      lockPath(flags.out),
      stateDir,
      ...(flags.formatDir ? [flags.formatDir] : []),
      ...(flags.failures ? [flags.failures] : []),
      ...(flags.combine ? [flags.combine, `${flags.combine}.${process.pid}.tmp`] : []),
    ].map((p) => path.resolve(p));
    // Counted from the start, beside the work: a stop even during start-up (the local engine
    // loading, a first call waiting on the rate limit) names how many inputs were not processed.
    let knownTotal: number | undefined;
    const counted: Promise<number | undefined> = flags.watch
      ? Promise.resolve(undefined)
      : countInputs(argumentsAndList(inputs, flags.list), { exclude, onDuplicate: () => {} }).then(
          (total) => {
            knownTotal = total;
            progress.setTotal(total);
            observers.expect(total);
            return total;
          },
          () => undefined,
        );
    const cache = await openCache({ spec: flags.cache, stateDir, ttlMs: flags.cacheTtl, warn });
    if (cache.mode === 'memory') progress.log(MEMORY_CACHE_NOTE);
    const limiter = limiterFrom(flags, warn);
    const pipelines = buildPipelineSet(setup, runPipelineSettings(flags, checked, { cache, limiter, warn }));
    let completed = false;
    let confidence: ConfidencePolicy | undefined;
    let combined: CombinedWriter | undefined;
    const failures = await FailureLog.open(flags.failures, flags.minConfidence !== undefined);
    let describe = { provider: flags.provider, model: flags.model ?? '' };
    // A second Ctrl-C exits at once: it prints the summary of the records so far first.
    session.partialSummary = () => {
      const summary = session.summary.toJSON();
      const done = summary.total - summary.aborted;
      const left = flags.watch ? 0 : Math.max(0, (knownTotal ?? summary.total) - done);
      printRunSummary(flags, {
        summary,
        completed: false,
        stop: { reason: 'signal', notProcessed: left },
        failures: failures.report(),
        describe,
        confidenceSource: confidence?.source,
        combined: undefined,
      });
    };
    let releaseLock = () => {};
    const watchDone = new AbortController();
    // A Ctrl-C that left files of the watched folder unread (found, not yet stable, or the
    // first scan still under way): a stopped run like any other, not an empty one.
    let watchStopped: { notHandedOut: number; found: number; scanning: boolean } | undefined;
    try {
      pipelines.checkCredentials(); // a missing key stops the run before anything is written
      // A budget counts every call: a model without a price stops the run here (runs/budget.ts).
      if (flags.maxCostUsd !== undefined)
        requirePrices(pipelines.models(), flags.maxCostUsd, flags.priceTable);
      const main = await pipelines.defaultPipeline();
      observers.estimateCostsWith(recordCostEstimator(main, flags.priceTable));
      describe = { provider: main.provider.id, model: main.model };
      const calibrated = defaultMinConfidence(main.provider.id);
      if (flags.minConfidence !== undefined)
        confidence = { min: flags.minConfidence, enforce: true, source: '--min-confidence' };
      else if (calibrated !== undefined)
        confidence = { min: calibrated, enforce: false, source: 'engine calibration' };
      session.summary = new RunSummary(confidence ? { minConfidence: confidence.min } : {});
      session.summary.setCacheMode(cache.mode);
      observers.judgeWith(confidence?.min);
      const concurrency = flags.concurrency ?? defaultConcurrencyFor(main.provider.id, defaultConcurrency());
      observers.started({
        ...describe,
        concurrency,
        pattern: flags.pattern,
        results: path.resolve(flags.out),
      });
      const lock = acquireRunLock(flags.out, warn); // one run per results file (run-lock.ts)
      releaseLock = () => lock.release();
      session.releaseLock = releaseLock;
      const plan = await planResume({
        out: flags.out,
        stateDir,
        fresh: flags.fresh ?? false,
        signature: await pipelines.signature(),
        onChanged: (label) =>
          progress.log(
            `Resuming: the earlier results for ${label} are for a different version of it and will be replaced`,
          ),
      });
      if (plan.reason) warn(plan.reason);
      session.summary.setEarlierResults(plan.earlier);
      if (plan.earlier > 0) progress.log(resumingLine(plan.earlier));
      const renders = flags.formatDir
        ? await RenderOutputs.open(flags.formatDir, {
            overwrite: flags.overwrite ?? false,
            ...(flags.keepCsvFormulas ? { csvFormulas: 'keep' as const } : {}),
            patternFor: async (item) => (await pipelines.pipelineFor(item)).pattern,
            warn,
          })
        : undefined;
      combined = flags.combine ? await CombinedWriter.open(flags.combine, warn) : undefined;
      // --format-dir writes each output at its input's path below the inputs' common root.
      const formatRoot = !flags.formatDir
        ? undefined
        : flags.watch
          ? path.resolve(flags.watch)
          : await commonRoot(argumentsAndList(inputs, flags.list));
      try {
        const sources = flags.watch
          ? await watchedInputs(
              flags.watch,
              flags.watchStable,
              AbortSignal.any([interrupt.stop, watchDone.signal]),
              exclude,
              progress.log.bind(progress),
              (stopped) => {
                watchStopped = stopped;
              },
            )
          : argumentsAndList(inputs, flags.list);
        // Files in the folders that are not images or documents: counted, not records.
        const expanded = expandInputs(sources, {
          exclude,
          onSkipped: () => session.summary.addSkippedFile(),
          // One input per path (a watch hands a changed file out again, on purpose).
          ...(flags.watch ? {} : { onDuplicate: () => session.summary.addDuplicateInput() }),
        });
        // The budget admits inputs as records come in: the batch API's come too late for it.
        const items = batchBackend ? expanded : observers.gate(expanded);
        const handle = recordHandler({
          progress,
          plan,
          pipelines,
          summary: session.summary,
          failures,
          confidence,
          renders,
          combined,
          formatRoot,
          latestPerPath: flags.watch !== undefined,
        });
        if (batchBackend) {
          await runThroughBatchApi(items, {
            backend: batchBackend,
            pipelines,
            stateDir,
            out: flags.out,
            concurrency,
            plan,
            pollIntervalMs: flags.batchPoll,
            interrupt,
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
      session.stopWatching();
      await pipelines.close();
      await batchBackend?.close();
      await limiter?.close();
      await cache.close();
      await failures.close();
    }
    const combinedFile = combined ? await combined.close() : undefined;
    const result = session.summary.toJSON();
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
    // A stop names how many inputs were left, in the summary and in the exit code; Ctrl-C is
    // how a watch ends: nothing was left unstarted.
    // Images aborted in flight (ABORTED records, redone by the next run) were not processed either.
    const done = result.total - result.aborted;
    const notProcessed = async () => Math.max(0, ((await counted) ?? result.total) - done);
    const end = {
      summary: result,
      completed,
      stop: observers.budgetStopped
        ? { reason: 'budget' as const, notProcessed: await notProcessed() }
        : !completed && !flags.watch
          ? { reason: 'signal' as const, notProcessed: await notProcessed() }
          : watchStopped && interrupt.stop.aborted
            ? {
                reason: 'signal' as const,
                // A file handed out as the stop came may never have been started (no record):
                // what the folder holds beyond the records done counts too (a race under load).
                notProcessed: Math.max(watchStopped.notHandedOut + result.aborted, watchStopped.found - done),
                ...(watchStopped.scanning ? { scanning: true } : {}),
              }
            : undefined,
      failures: failures.report(),
      describe,
      confidenceSource: confidence?.source,
      combined: combinedFile,
    };
    printRunSummary(flags, end);
    await observers.linger(interrupt.stop);
    return runExitCode(flags, end, inputs);
  } finally {
    // Every exit path (a thrown error included) closes the metrics server, the alert timer
    // and the log, and gives SIGINT/SIGTERM back: nothing may keep the process alive.
    await session.close();
  }
}
