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
import { loadPattern, render } from '../../patterns/index.js';
import { createBatchBackend } from '../../providers/batch/index.js';
import { createProvider } from '../../providers/registry.js';
import { runWithBatchApi } from '../../runs/batch-api-run.js';
import { CombinedWriter } from '../../runs/combine.js';
import { FailureLog } from '../../runs/failures.js';
import { formatRelativePath } from '../../runs/format-paths.js';
import { countInputs, expandInputs, readListFile } from '../../runs/inputs.js';
import { OutputWriter } from '../../runs/output-paths.js';
import { PipelineSet } from '../../runs/pipeline-set.js';
import { type ConfidencePolicy, defaultMinConfidence, enforceConfidence } from '../../runs/quality.js';
import { planResume } from '../../runs/resume.js';
import { loadRouter } from '../../runs/routes.js';
import { type BatchResult, runBatch } from '../../runs/run.js';
import { RunSummary } from '../../runs/summary.js';
import { parseModelRef } from '../cost-flags.js';
import { plural } from '../format.js';
import { handleInterrupts } from '../interrupt.js';
import { createProgress } from '../progress.js';
import { defaultConcurrencyFor, limiterFrom, providerOptionsFrom, retryFrom } from '../provider-settings.js';
import type { RunFlags } from '../run.js';
import { printSummary } from '../summary-print.js';

const EXTENSIONS = { json: '.json', yaml: '.yaml', xml: '.xml', csv: '.csv', text: '.txt' } as const;

async function* allInputs(inputs: readonly string[], list: string | undefined): AsyncGenerator<string> {
  yield* inputs;
  if (list) yield* readListFile(list);
}

function checkFlags(inputs: string[], flags: RunFlags): ProfileName | undefined {
  if (inputs.length === 0 && !flags.list) {
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
  const progress = createProgress({ label: 'run', mode: flags.progress ? undefined : 'off' });
  const warn = (message: string) => progress.log(`warning: ${message}`);
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
    },
    timeoutMs: flags.timeout,
    ...(flags.nearDup === undefined ? {} : { nearDuplicateDistance: flags.nearDup }),
    ...(flags.maxImageTokens === undefined ? {} : { maxImageTokens: flags.maxImageTokens }),
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
  let summary = new RunSummary();
  let combined: CombinedWriter | undefined;
  const failures = await FailureLog.open(flags.failures);
  const interrupt = handleInterrupts(() =>
    progress.log('Stopping: finishing images in flight (Ctrl-C again to abort)'),
  );
  let describe = { provider: flags.provider, model: flags.model ?? '' };
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
    // Never read our own outputs back as inputs: the results file, the format folder, the state.
    const exclude = [
      flags.out,
      stateDir,
      ...(flags.formatDir ? [flags.formatDir] : []),
      ...(flags.failures ? [flags.failures] : []),
      ...(flags.combine ? [flags.combine, `${flags.combine}.${process.pid}.tmp`] : []),
    ].map((p) => path.resolve(p));
    const plan = await planResume({
      out: flags.out,
      stateDir,
      fresh: flags.fresh ?? false,
      signature: await pipelines.signature(),
    });
    if (plan.reason) warn(plan.reason);
    if (plan.earlier > 0)
      progress.log(`Resuming: ${plan.earlier} results from an earlier run of this command are kept`);
    const formatWriter = flags.formatDir ? await OutputWriter.create(flags.formatDir) : undefined;
    const severalArguments = inputs.length + (flags.list ? 1 : 0) > 1;
    combined = flags.combine ? await CombinedWriter.open(flags.combine, warn) : undefined;
    countInputs(allInputs(inputs, flags.list), { exclude }).then(
      (total) => progress.setTotal(total),
      () => {},
    );
    try {
      const items = expandInputs(allInputs(inputs, flags.list), { exclude });
      const handle = async ({ item, record: raw, resumed }: BatchResult) => {
        const record = resumed ? raw : enforceConfidence(raw, confidence);
        progress.tick(record.status === 'error');
        if (combined && record.status === 'ok' && item.kind !== 'error') {
          await combined.add(record.input, (await pipelines.pipelineFor(item)).pattern, record.output);
        }
        if (resumed) {
          summary.addResumed(record);
          return;
        }
        plan.writer.write(record);
        plan.processed(record.input);
        summary.add(record);
        failures.add(record);
        if (formatWriter && record.status === 'ok' && item.kind !== 'error') {
          const { pattern: used } = await pipelines.pipelineFor(item);
          await formatWriter.write(
            { ...item, rel: formatRelativePath(item, severalArguments) },
            EXTENSIONS[used.format],
            Buffer.from(render(used, record.output)),
          );
        }
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
        })) {
          await handle(result);
        }
      }
      completed = !interrupt.stop.aborted;
    } finally {
      // The Ctrl-C handler stays until the summary is out: a Ctrl-C during cleanup must not
      // kill the process before the journal is closed and the summary printed.
      progress.stop();
      await plan.finish(completed);
    }
  } finally {
    progress.stop();
    await pipelines.close();
    await batchBackend?.close();
    await limiter?.close();
    await cache.close();
    await failures.close();
  }
  const combinedFile = combined ? await combined.close() : undefined;
  const result = summary.toJSON();
  if (flags.json) process.stdout.write(`${JSON.stringify({ ...result, failures: failures.report() })}\n`);
  else
    printSummary(result, {
      results: flags.out,
      stopped: !completed,
      ...describe,
      ...(confidence ? { confidenceSource: confidence.source } : {}),
      failures: failures.report(),
      ...(flags.formatDir ? { formatDir: flags.formatDir } : {}),
      ...(combinedFile ? { combined: combinedFile } : {}),
    });
  interrupt.dispose();
  if (result.total > 0 && result.errors_by_code.NOT_FOUND === result.total) {
    // Nothing named exists: a typo in the command, not a batch with failures.
    process.stderr.write(
      `visionpipe run: none of the ${plural(result.total, 'input')} exists (NOT_FOUND); check the paths\n`,
    );
    return 2;
  }
  return flags.failOnError && result.errors > 0 ? 1 : 0;
}
