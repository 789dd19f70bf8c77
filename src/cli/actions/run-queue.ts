/**
 * `visionpipe run … --queue redis://…`, the command around runs/queue-run.ts: the same
 * inputs, results file, resume, progress, Ctrl-C handling and summary as a local run,
 * with the workers of the service doing the reading. The run's `--provider` (when chosen),
 * `--model` and `--base-url` travel in each job and the workers read with them, using
 * their own API keys (no key leaves this process); limits and cache are the workers'. The
 * run's own pipeline flags (--route, --triage, --escalate-to, --batch-api) and --max-cost-usd are refused
 * here, naming the flag. Documents (PDF, multi-page TIFF, HEIC) go as one job each, or in
 * `--pages each` mode one job per selected page, records coming back with `page`.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { checkDatabaseUrl, checkRedisUrl } from '../../config/urls.js';
import { VisionpipeError } from '../../errors.js';
import { loadPattern, render } from '../../patterns/index.js';
import { closeRedis, connectRedis } from '../../queue/connection.js';
import { IngestQueue } from '../../queue/ingest-queue.js';
import { type ProviderSetting, providerSetting, settingKey } from '../../queue/provider-setting.js';
import { countInputs, expandInputs, readListFile } from '../../runs/inputs.js';
import { checkOutputTargets, resultOutputs } from '../../runs/output-guard.js';
import { OutputWriter } from '../../runs/output-paths.js';
import { isAborted } from '../../runs/quality.js';
import { type QueueDocuments, runOnQueue } from '../../runs/queue-run.js';
import { planResume } from '../../runs/resume.js';
import { RunSummary } from '../../runs/summary.js';
import { openStore } from '../../store/index.js';
import type { DocumentFlags } from '../document-flags.js';
import { EXIT } from '../exit-codes.js';
import { ABORT_GRACE_MS, handleInterrupts } from '../interrupt.js';
import { createProgress } from '../progress.js';
import type { QueueRunFlags } from '../run-queue-flags.js';
import { inputsGiven, printSummary, resumingLine } from '../summary-print.js';
import { failOnErrorExit } from './run-summary.js';

export interface QueueRunCommandFlags extends QueueRunFlags, DocumentFlags {
  pattern: string;
  out: string;
  stateDir: string;
  fresh?: boolean;
  concurrency?: number;
  formatDir?: string;
  json?: boolean;
  failOnError?: boolean;
  list?: string;
  /** Outputs the output guard checks (runs/output-guard.ts), like a local run's. */
  failures?: string;
  combine?: string;
  overwrite?: boolean;
  allowPrivateUrls?: boolean;
  maxInputBytes: number;
  progress: boolean;
  route?: string;
  triage?: string;
  escalateTo?: string;
  batchApi?: boolean;
  /** Refused with --queue (the workers price and pay; the coordinator cannot stop them exactly). */
  maxCostUsd?: number;
  /** The coordinator's provider: sent to the workers when chosen (flag, env, config) rather than defaulted. */
  provider?: string;
  providerChosen?: boolean;
  model?: string;
  baseUrl?: string;
}

/** The provider setting the jobs carry, or undefined when the workers' own applies. Names a bad flag. */
function providerSettingOf(flags: QueueRunCommandFlags): ProviderSetting | undefined {
  if (!flags.providerChosen && flags.model === undefined && flags.baseUrl === undefined) return undefined;
  const parsed = providerSetting.safeParse({
    id: flags.provider ?? 'local',
    ...(flags.model === undefined ? {} : { model: flags.model }),
    ...(flags.baseUrl === undefined ? {} : { baseUrl: flags.baseUrl }),
  });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const option =
    issue?.path[0] === 'id' ? '--provider' : issue?.path[0] === 'baseUrl' ? '--base-url' : '--model';
  throw new VisionpipeError('INVALID_OPTION', `${option}: ${issue?.message ?? 'invalid'}`, { option });
}

/** The resume signature's part for documents: empty for the default (one record per document, every page). */
function documentSignature(documents: QueueDocuments): string {
  if (documents.pages === 'each') return 'pages:each';
  return documents.pageRange ? `pages:document:${documents.pageRange}` : '';
}

const EXTENSIONS = { json: '.json', yaml: '.yaml', xml: '.xml', csv: '.csv', text: '.txt' } as const;
/** How long a coordinator waits for a worker on its prefix before it warns that none listens. */
const NO_WORKER_WARNING_MS = 10_000;
/** Inputs in flight on the queue when --concurrency is not given. */
const DEFAULT_IN_FLIGHT = 64;

async function* allInputs(inputs: readonly string[], list: string | undefined): AsyncGenerator<string> {
  yield* inputs;
  if (list) yield* readListFile(list);
}

export async function runQueueCommand(inputs: string[], flags: QueueRunCommandFlags): Promise<number> {
  if (inputs.length === 0 && !flags.list)
    throw new VisionpipeError(
      'INVALID_OPTION',
      'give at least one input (file, folder, glob, URL) or --list FILE',
      {
        option: 'inputs',
      },
    );
  for (const [flag, set] of [
    ['--route', flags.route],
    ['--triage', flags.triage],
    ['--escalate-to', flags.escalateTo],
    ['--batch-api', flags.batchApi],
  ] as const) {
    if (set)
      throw new VisionpipeError(
        'INVALID_OPTION',
        `${flag} cannot be combined with --queue: the workers' settings decide how images are read`,
        {
          option: flag,
        },
      );
  }
  // The workers price and pay each call; the coordinator sees a cost only once a job is done,
  // so it cannot promise to stop before the budget is passed: refused before anything is sent.
  if (flags.maxCostUsd !== undefined)
    throw new VisionpipeError(
      'INVALID_OPTION',
      '--max-cost-usd cannot be combined with --queue: the workers pay for the calls and the coordinator cannot stop them before the budget is passed (run `visionpipe estimate` first, or run locally for a hard budget)',
      { option: '--max-cost-usd' },
    );
  const setting = providerSettingOf(flags);
  const documents: QueueDocuments = {
    pages: flags.pages ?? 'document',
    ...(flags.pageRange ? { pageRange: flags.pageRange } : {}),
    ...(flags.maxPages === undefined ? {} : { maxPages: flags.maxPages }),
  };
  const redisUrl = checkRedisUrl(flags.queue);
  const databaseUrl = checkDatabaseUrl(flags.databaseUrl);
  const pattern = await loadPattern(flags.pattern);
  // The same guard as a local run, before Redis or the database is reached: no output is the
  // pattern, the list, an input, another output, or a file visionpipe did not write.
  await checkOutputTargets({
    outputs: [...resultOutputs(flags)],
    reads: { pattern: flags.pattern, list: flags.list },
    inputs,
    overwrite: flags.overwrite ?? false,
  });
  const stateDir = path.resolve(flags.stateDir);
  const store = await openStore({ url: databaseUrl, poolSize: 4 });
  const progress = createProgress({ label: 'run', mode: flags.progress ? undefined : 'off' });
  let redis: Awaited<ReturnType<typeof connectRedis>> | undefined;
  let queue: IngestQueue | undefined;
  const summary = new RunSummary();
  let completed = false;
  // What a stop does to work already queued: nothing cancels it. The workers read it (and
  // pay) whatever the coordinator does; a stop only decides what this process waits for.
  let partialSummary: (() => void) | undefined;
  const interrupt = handleInterrupts(
    () =>
      progress.log(
        'Stopping: nothing new is sent; the images already on the queue keep running on the workers and are waited for (Ctrl-C again to stop waiting: they still run, and the same command collects them without paying again)',
      ),
    {
      // A second Ctrl-C stops the waits: ABORTED records, the summary, exit 130, as a local
      // run; if that takes longer than ABORT_GRACE_MS (or on a third), the partial summary.
      abortGraceMs: ABORT_GRACE_MS,
      onSecond: () => partialSummary?.(),
    },
  );
  let counted: Promise<number | undefined> = Promise.resolve(undefined);
  let knownTotal: number | undefined;
  let provider = 'queue';
  let model = '';
  let lookAgain: NodeJS.Timeout | undefined;
  partialSummary = () => {
    progress.stop();
    printQueueSummary(summary, flags, { completed: false, knownTotal, provider, model });
  };
  try {
    redis = await connectRedis(redisUrl);
    queue = new IngestQueue(redis, { prefix: flags.queuePrefix });
    // Workers on another prefix (or Redis database) never see these jobs: say which prefix is waited on.
    const prefix = flags.queuePrefix;
    if ((await queue.workers()) === 0) {
      progress.log(
        `No worker is connected yet on queue prefix '${prefix}': images wait on the queue until one is`,
      );
      const waiting = queue;
      lookAgain = setTimeout(() => {
        waiting.workers().then(
          (count) => {
            if (count === 0)
              progress.log(
                `warning: no worker listens on queue prefix '${prefix}' after ${NO_WORKER_WARNING_MS / 1000} s: start one on the same Redis with --queue-prefix ${prefix} (VISIONPIPE_QUEUE_PREFIX)`,
              );
          },
          () => {},
        );
      }, NO_WORKER_WARNING_MS);
      lookAgain.unref();
    }
    const exclude = [flags.out, stateDir, ...(flags.formatDir ? [flags.formatDir] : [])].map((p) =>
      path.resolve(p),
    );
    const plan = await planResume({
      out: flags.out,
      stateDir,
      fresh: flags.fresh ?? false,
      signature: {
        pattern: createHash('sha256').update(`queue:${pattern.fingerprint}`).digest('hex'),
        provider: setting ? `queue:${settingKey(setting)}` : 'queue',
        model: flags.queuePrefix,
        // The pages mode changes what a record is; in document mode the page range changes the answer.
        profile: documentSignature(documents),
      },
    });
    if (plan.reason) progress.log(`warning: ${plan.reason}`);
    summary.setEarlierResults(plan.earlier);
    if (plan.earlier > 0) progress.log(resumingLine(plan.earlier));
    const formatWriter = flags.formatDir ? await OutputWriter.create(flags.formatDir) : undefined;
    counted = countInputs(allInputs(inputs, flags.list), { exclude }).then(
      (total) => {
        progress.setTotal(total);
        knownTotal = total;
        return total;
      },
      () => undefined,
    );
    try {
      const items = expandInputs(allInputs(inputs, flags.list), {
        exclude,
        onSkipped: () => summary.addSkippedFile(),
      });
      for await (const { item, record, resumed } of runOnQueue(items, {
        store,
        queue,
        pattern,
        concurrency: flags.concurrency ?? DEFAULT_IN_FLIGHT,
        ...(setting ? { provider: setting } : {}),
        documents,
        sourceLimits: {
          maxInputBytes: flags.maxInputBytes,
          allowPrivateNetworks: flags.allowPrivateUrls ?? false,
        },
        reuse: (candidate, sha) => plan.reuse(candidate, sha),
        stop: interrupt.stop,
        signal: interrupt.abort,
        runId: plan.runId,
      })) {
        progress.tick(record.status === 'error', isAborted(record));
        if (record.provider && record.provider !== 'queue') ({ provider, model } = record);
        if (resumed) {
          plan.kept(record);
          summary.addResumed(record);
          continue;
        }
        plan.writer.write(record);
        plan.processed(record);
        summary.add(record);
        if (formatWriter && record.status === 'ok' && item.kind !== 'error')
          await formatWriter.write(
            item,
            EXTENSIONS[pattern.format],
            Buffer.from(render(pattern, record.output)),
          );
      }
      completed = !interrupt.stop.aborted;
    } finally {
      progress.stop();
      await plan.finish(completed);
    }
  } finally {
    clearTimeout(lookAgain);
    progress.stop();
    await queue?.close();
    if (redis) await closeRedis(redis);
    await store.close();
  }
  await counted;
  const code = printQueueSummary(summary, flags, { completed, knownTotal, provider, model });
  interrupt.dispose();
  return code;
}

/**
 * Prints the run's summary (text or --json) and returns the exit code: 130 after a stop,
 * naming the inputs never sent and (after a second Ctrl-C) those left on the queue, which
 * the workers still read. Synchronous: a second Ctrl-C's partial summary prints it too.
 */
function printQueueSummary(
  summary: RunSummary,
  flags: QueueRunCommandFlags,
  at: { completed: boolean; knownTotal: number | undefined; provider: string; model: string },
): number {
  const { completed, provider, model } = at;
  const result = summary.toJSON();
  // A stop says what a local run's does: the inputs never sent (and, after a second Ctrl-C,
  // those whose wait was cut short: ABORTED records, their jobs left on the queue), exit 130.
  const done = result.total - result.aborted;
  const stop = completed
    ? undefined
    : { reason: 'signal' as const, notProcessed: Math.max(0, (at.knownTotal ?? result.total) - done) };
  if (flags.json)
    process.stdout.write(
      `${JSON.stringify({
        ...result,
        ...(stop
          ? { inputs: inputsGiven(result, stop), stopped: stop.reason, not_processed: stop.notProcessed }
          : {}),
      })}\n`,
    );
  else {
    printSummary(result, {
      results: flags.out,
      stopped: stop !== undefined,
      ...(stop ? { stop } : {}),
      provider,
      model,
    });
    if (result.aborted > 0)
      process.stdout.write(
        `  ${result.aborted} image${result.aborted === 1 ? '' : 's'} left on the queue when waiting stopped: the workers still read ${result.aborted === 1 ? 'it' : 'them'}, and the same command collects ${result.aborted === 1 ? 'it' : 'them'} without paying again\n`,
      );
  }
  return stop ? EXIT.stopped : failOnErrorExit(flags, result);
}
