/**
 * `visionpipe run`: the main job. Images in (files, folders, globs, URLs, a list file),
 * one JSONL record per input out, flushed as each finishes, and a summary at the end.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Command } from 'commander';
import { openCache } from '../cache/open-cache.js';
import { parseDuration } from '../config/durations.js';
import { VisionpipeError } from '../errors.js';
import { isProfileName, PROFILE_NAMES, type ProfileName } from '../image/profiles.js';
import { DEFAULT_MAX_INPUT_BYTES } from '../image/source.js';
import { defaultConcurrency } from '../image/tuning.js';
import { loadPattern, render } from '../patterns/index.js';
import { createBatchBackend } from '../providers/batch/index.js';
import { createProvider } from '../providers/registry.js';
import { runWithBatchApi } from '../runs/batch-api-run.js';
import { countInputs, expandInputs, readListFile } from '../runs/inputs.js';
import { OutputWriter } from '../runs/output-paths.js';
import { PipelineSet } from '../runs/pipeline-set.js';
import { planResume } from '../runs/resume.js';
import { loadRouter } from '../runs/routes.js';
import { type BatchResult, runBatch } from '../runs/run.js';
import { RunSummary } from '../runs/summary.js';
import { addCostOptions, type CostFlags, parseModelRef } from './cost-flags.js';
import { handleInterrupts } from './interrupt.js';
import { byteSize, integer } from './parsers.js';
import { createProgress } from './progress.js';
import {
  addProviderOptions,
  defaultConcurrencyFor,
  limiterFrom,
  type ProviderFlags,
  providerOptionsFrom,
  retryFrom,
} from './provider-flags.js';
import { printSummary } from './summary-print.js';

interface RunFlags extends ProviderFlags, CostFlags {
  pattern: string;
  batchApi?: boolean;
  batchPoll: number;
  cache: string;
  cacheTtl: number;
  stateDir: string;
  nearDup?: number;
  fresh?: boolean;
  concurrency?: number;
  profile?: string;
  out: string;
  formatDir?: string;
  json?: boolean;
  failOnError?: boolean;
  list?: string;
  allowPrivateUrls?: boolean;
  maxInputBytes: number;
  timeout: number;
  progress: boolean;
}

const EXAMPLES = `
Examples:
  $ visionpipe run samples/images --pattern samples/patterns/invoice.json
  $ visionpipe run samples/images -p samples/patterns/invoice.json --route samples/routes.yaml --triage local
  $ visionpipe run 'scans/**/*.jpg' --pattern receipt.yaml --out receipts.jsonl --format-dir out/csv
  $ visionpipe run --list urls.txt --pattern invoice.json --concurrency 4 --json
  $ OPENAI_API_KEY=… visionpipe run scans -p invoice.json --provider openai --model gpt-4.1-mini --rpm 500 \\
      --triage local --escalate-to openai:gpt-4.1 --max-image-tokens 800
  $ visionpipe run scans -p invoice.json --provider openai --base-url http://localhost:11434/v1 --model llava  # Ollama
  $ visionpipe run scans -p invoice.json --provider anthropic --rpm 50 --limiter redis://127.0.0.1:6379  # shared
  $ visionpipe run scans -p invoice.json --provider openai --batch-api   # half price; run again to resume

Each input gets one line in --out (JSONL): input, pattern, sha256, status (ok | error | skipped),
output, error {code, message}, cache, provider, model, latency_ms, attempts,
image {width, height, bytes, original_bytes, tokens, original_tokens}, usage {…, estimated},
cost_usd, cascade {triage, escalated_from}.
Ctrl-C stops starting new images and lets running ones finish; a second Ctrl-C aborts.
Running the same command again resumes: finished inputs are kept, failed ones retried.
Results are cached by content (not path) for --cache-ttl: duplicates are paid once.

Exit codes: 0 done (per-image errors are in the results), 1 with --fail-on-error when any
image failed, 2 usage error.`;

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

async function runCommand(inputs: string[], flags: RunFlags): Promise<number> {
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
            ...(flags.escalateBelow === undefined ? {} : { below: flags.escalateBelow }),
          },
        }
      : {}),
    ...(flags.priceTable ? { priceTable: flags.priceTable } : {}),
  });
  let completed = false;
  const summary = new RunSummary();
  const interrupt = handleInterrupts(() =>
    progress.log('Stopping: finishing images in flight (Ctrl-C again to abort)'),
  );
  let describe = { provider: flags.provider, model: flags.model ?? '' };
  try {
    pipelines.checkCredentials(); // a missing key stops the run before anything is written
    const main = await pipelines.defaultPipeline();
    describe = { provider: main.provider.id, model: main.model };
    const concurrency = flags.concurrency ?? defaultConcurrencyFor(main.provider.id, defaultConcurrency());
    // Never read our own outputs back as inputs: the results file, the format folder, the state.
    const exclude = [flags.out, stateDir, ...(flags.formatDir ? [flags.formatDir] : [])].map((p) =>
      path.resolve(p),
    );
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
    countInputs(allInputs(inputs, flags.list), { exclude }).then(
      (total) => progress.setTotal(total),
      () => {},
    );
    try {
      const items = expandInputs(allInputs(inputs, flags.list), { exclude });
      const handle = async ({ item, record, resumed }: BatchResult) => {
        progress.tick(record.status === 'error');
        if (resumed) {
          summary.addResumed(record);
          return;
        }
        plan.writer.write(record);
        plan.processed(record.input);
        summary.add(record);
        if (formatWriter && record.status === 'ok' && item.kind !== 'error') {
          const { pattern: used } = await pipelines.pipelineFor(item);
          await formatWriter.write(item, EXTENSIONS[used.format], Buffer.from(render(used, record.output)));
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
  }
  const result = summary.toJSON();
  if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else printSummary(result, { results: flags.out, stopped: !completed, ...describe });
  interrupt.dispose();
  return flags.failOnError && result.errors > 0 ? 1 : 0;
}

export function runCommandDefinition(): Command {
  const command = new Command('run')
    .description(
      'Extract structured data from images with a pattern: one JSONL record per input, then a summary',
    )
    .argument('[inputs...]', 'files, directories (recursive), globs or http(s) URLs')
    .requiredOption('-p, --pattern <file>', 'pattern file (.json or .yaml)')
    .option(
      '-c, --concurrency <n>',
      'images in flight, a sliding window (default: CPU cores for local, 10 for APIs)',
      integer(1, 1024),
    )
    .option('--profile <name>', `size profile override: ${PROFILE_NAMES.join(', ')}`)
    .option('-o, --out <file>', 'results file (JSONL)', 'results.jsonl')
    .option('--format-dir <dir>', "also write each output rendered in the pattern's format")
    .option('--list <file>', 'read more inputs from a file, one path or URL per line')
    .option('--json', 'print the summary as JSON')
    .option('--fail-on-error', 'exit with 1 when any image failed')
    .option('--cache <store>', 'result cache: sqlite, memory, off or a redis:// URL', 'sqlite')
    .option(
      '--cache-ttl <duration>',
      'how long cached results live (24h, 7d; 0 = forever)',
      (v) => parseDuration(v, '--cache-ttl'),
      24 * 3600 * 1000,
    )
    .option('--state-dir <dir>', 'where the cache and run state live', '.visionpipe')
    .option(
      '--near-dup <bits>',
      'reuse the result of an image within this perceptual-hash distance (not for documents shot alike: see docs/cache.md)',
      integer(0, 32),
    )
    .option('--fresh', 'ignore results of an earlier run of this command (no resume)')
    .option('--batch-api', 'use the provider batch API (openai, anthropic): half price, results within 24 h')
    .option(
      '--batch-poll <duration>',
      'how often to check a batch',
      (v) => parseDuration(v, '--batch-poll'),
      30_000,
    )
    .option('--allow-private-urls', 'allow URLs that resolve to loopback/private/link-local addresses')
    .option('--max-input-bytes <size>', 'refuse larger inputs (e.g. 50MB)', byteSize, DEFAULT_MAX_INPUT_BYTES)
    .option('--timeout <ms>', 'per-call provider timeout', integer(1), 120_000)
    .option('--no-progress', 'no progress bar or progress lines')
    .addHelpText('after', EXAMPLES)
    .action(async (inputs: string[], flags: RunFlags) => {
      process.exitCode = await runCommand(inputs, flags);
    });
  addProviderOptions(command);
  return addCostOptions(command, { cascade: true });
}
