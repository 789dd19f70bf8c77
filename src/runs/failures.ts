/**
 * The failed inputs of a run, kept so the summary can name them and say what to do: the
 * first few in memory (bounded, whatever the run's size), all of them optionally streamed
 * to a JSONL file (`--failures FILE`, one record per line as in the results, with `kind`
 * first), and a next step for the codes people meet most.
 *
 * "Failed" is every input whose output is not worth having: error records (`kind:
 * "error"`), and `ok` records whose `quality` (runs/quality.ts) is `empty` (every field
 * null, code EMPTY_OUTPUT) or `low_confidence` (below the threshold, not enforced; code
 * LOW_CONFIDENCE): a status-ok record is no less a failure for being schema-valid.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { wouldExceedBudget } from '../flow/over-budget.js';
import type { RunRecord } from '../pipeline/record.js';
import { redactDeep } from '../secrets.js';
import { isAborted } from './quality.js';

/** How many failed inputs the summary names. */
export const NAMED_FAILURES = 5;

/** Why an input is listed: an error record, or an `ok` record with nothing or too little read. */
export type FailureKind = 'error' | 'empty' | 'low_confidence';

export interface NamedFailure {
  input: string;
  kind: FailureKind;
  /** The error's code; EMPTY_OUTPUT or LOW_CONFIDENCE for an `ok` record of those qualities. */
  code: string;
  message: string;
}

export interface FailureReport {
  /** The first failed inputs, at most NAMED_FAILURES. */
  first: NamedFailure[];
  /** Failures in all: error records of this run, and empty and low-confidence outputs (kept ones included). */
  count: number;
  /** `count` by kind. */
  by_kind: Record<FailureKind, number>;
  /** Where every failure was written (`--failures`), or null. */
  file: string | null;
  /**
   * `run --watch`: failures of a path whose later record succeeded (the file was read again
   * once complete); they are no longer in `count` nor `first`. Absent when none.
   */
  later_succeeded?: number;
  /** One next step per common code seen, e.g. RATE_LIMITED → lower --rpm. */
  next_steps: Array<{ code: string; step: string }>;
}

/** The first field and rule a SCHEMA_MISMATCH message lists (`/total must be ≥ 0 …`). */
function firstIssue(message: string): string | undefined {
  const listed = /conform to pattern "[^"]*": (.+)$/.exec(message)?.[1];
  // Issues start with their field's path (`; /date …`): a `; ` inside an issue's own note is not a split.
  return listed?.split(/; (?=\/)/)[0]?.replace(/ \(and \d+ more\)$/, '');
}

/** What to try for a code; undefined for codes where the message says it all. */
export function nextStep(
  code: string,
  example: NamedFailure | undefined,
  /** Whether the user set --min-confidence (else the threshold is the engine's calibration). */
  minConfidenceSet = true,
  /** RATE_LIMITED failures by kind: the budget spent, or exceeded by the server's wait ahead (flow/over-budget.ts). */
  rateLimited?: RateLimitedKinds,
  /** The providers of the records that failed with `code`: a step names only options that apply to them. */
  providers: ReadonlySet<string> = new Set(),
): string | undefined {
  switch (code) {
    // Two kinds of refusal, two remedies: pacing is fixed by sending slower or waiting longer,
    // a quota or billing refusal by the account only (QUOTA_EXCEEDED below).
    case 'RATE_LIMITED':
      return rateLimitedStep(rateLimited ?? { spent: 1, exceeded: 0 });
    case 'SCHEMA_MISMATCH': {
      const issue = example ? firstIssue(example.message) : undefined;
      return `the model's output broke the pattern${issue ? ` (${issue})` : ''}: loosen that rule in the pattern, say more in its instructions, or add --escalate-to a stronger model`;
    }
    case 'EMPTY_OUTPUT':
      return 'nothing was read: check these images are what the pattern expects (visionpipe pattern check), send larger images (--profile), or add --escalate-to a stronger model';
    case 'LOW_CONFIDENCE':
      return minConfidenceSet
        ? 'lower --min-confidence, add --escalate-to a stronger model, or send larger images (--profile)'
        : "add --escalate-to a stronger model, or send larger images (--profile); the threshold is the engine's calibration (--min-confidence sets your own)";
    case 'MISSING_API_KEY':
    case 'AUTH_FAILED':
      return "check the provider's API key environment variable (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, IMGGO_API_KEY)";
    case 'QUOTA_EXCEEDED':
      return "not a rate limit: the provider refused for the account's quota or billing, so waiting, --rpm or --max-retry-wait will not help; check the account's plan, credit and spend limit with the provider, then run the same command again to resume";
    case 'PROVIDER_TIMEOUT':
      return 'raise --timeout, or lower --concurrency';
    case 'PROVIDER_UNAVAILABLE':
    case 'CONNECTION_FAILED':
      return 'the provider failed for a while: run the same command again later; finished inputs are kept';
    case 'CIRCUIT_OPEN':
      return "the provider was down (an outage) longer than each image's --max-retry-wait budget: run the same command again later (finished inputs are kept), or raise --max-retry-wait to wait out a longer outage";
    case 'NOT_FOUND':
      return 'check the paths and globs (quote globs so the shell does not expand them)';
    case 'IMAGE_TOO_LARGE':
      // --detail is OpenAI's image setting: not offered to an Anthropic or Gemini run (trial of issue 10).
      return `the provider refused the request's size (bytes, pixels, or more tokens than its per-minute budget holds, which no wait fixes): send smaller images with ${providers.has('openai') ? '--detail low (OpenAI), ' : ''}--max-image-tokens or --profile, or ask the provider for a higher limit`;
    case 'INPUT_TOO_LARGE':
      return 'raise --max-input-bytes if these inputs are meant to be read';
    case 'UNSUPPORTED_FORMAT':
      return 'these files are not images visionpipe reads: narrow the glob (e.g. "*.jpg")';
    default:
      return undefined;
  }
}

/** RATE_LIMITED failures: the wait budget spent, or would be exceeded by the wait the server asked for. */
export interface RateLimitedKinds {
  spent: number;
  exceeded: number;
}

/**
 * The next step for RATE_LIMITED. Two cases, two remedies: the budget spent (calls kept being
 * refused: pace them), and the server's announced wait longer than what the budget left (the
 * images failed at once, without waiting: a longer budget would have waited it out).
 */
function rateLimitedStep({ spent, exceeded }: RateLimitedKinds): string {
  const quota = '(not a quota: the account is not out of credit)';
  if (exceeded === 0)
    return `the provider's pacing: it kept refusing calls for its rate limit (429) until each image's --max-retry-wait budget was spent (or the next wait would have passed it); set --rpm (and --tpm) to your account's limits so calls are spaced before they are refused, lower --concurrency, or raise --max-retry-wait to wait longer ${quota}`;
  const ahead =
    "the server asked for a longer pause (Retry-After) than what the image's wait budget had left, so the budget would be exceeded (not spent): they failed at once instead of waiting";
  const why =
    spent === 0
      ? ahead
      : `for ${spent} ${spent === 1 ? 'image' : 'images'} it kept refusing calls (429) until the --max-retry-wait budget was spent; for ${exceeded}, ${ahead}`;
  return `the provider's pacing: ${why}; set --rpm (and --tpm) to your account's limits so calls are spaced before they are refused, raise --max-retry-wait above the wait the server asks for (the errors name it) to wait it out, or run the same command again later (finished inputs are kept) ${quota}`;
}

export class FailureLog {
  private readonly first: NamedFailure[] = [];
  private readonly firstByCode = new Map<string, NamedFailure>();
  /** The providers of the failed records, by code (what a next step may suggest depends on them). */
  private readonly providersByCode = new Map<string, Set<string>>();
  private count = 0;
  private readonly byKind: Record<FailureKind, number> = { error: 0, empty: 0, low_confidence: 0 };
  private stream: WriteStream | undefined;
  private laterSucceeded = 0;
  private readonly rateLimited: RateLimitedKinds = { spent: 0, exceeded: 0 };

  private constructor(
    private readonly file: string | undefined,
    private readonly minConfidenceSet: boolean,
  ) {}

  /**
   * Opens the log; with `file`, every failure is appended to it as a JSONL record (file
   * truncated first). `minConfidenceSet`: the user gave --min-confidence (the next steps
   * suggest lowering it only then).
   */
  static async open(file: string | undefined, minConfidenceSet = false): Promise<FailureLog> {
    const log = new FailureLog(file, minConfidenceSet);
    if (file) {
      await mkdir(path.dirname(path.resolve(file)), { recursive: true });
      log.stream = createWriteStream(file, { flags: 'w' });
    }
    return log;
  }

  add(raw: RunRecord): void {
    // An answer may echo a key (an error body, a value that broke the schema): hidden as in results.jsonl.
    const record = redactDeep(raw);
    const failure = failureOf(record);
    if (!failure) return;
    this.count++;
    this.byKind[failure.kind]++;
    if (this.first.length < NAMED_FAILURES) this.first.push(failure);
    if (!this.firstByCode.has(failure.code)) this.firstByCode.set(failure.code, failure);
    if (record.provider) {
      const providers = this.providersByCode.get(failure.code) ?? new Set<string>();
      providers.add(record.provider);
      this.providersByCode.set(failure.code, providers);
    }
    if (failure.code === 'RATE_LIMITED') this.rateLimited[rateLimitedKind(failure.message)]++;
    this.stream?.write(`${JSON.stringify({ kind: failure.kind, ...record })}\n`);
  }

  /**
   * `run --watch`: `earlier`, a record already added, is replaced by `later` for the same
   * path: its failure is taken back from the count and the names, and counted as later
   * succeeded when `later` is no failure. The --failures file keeps its line (a log).
   */
  supersede(earlier: RunRecord, later: RunRecord): void {
    const failure = failureOf(redactDeep(earlier));
    if (!failure) return;
    this.count--;
    this.byKind[failure.kind]--;
    if (failure.code === 'RATE_LIMITED') this.rateLimited[rateLimitedKind(failure.message)]--;
    const named = this.first.findIndex((f) => f.input === failure.input);
    if (named >= 0) this.first.splice(named, 1);
    if (!failureOf(later)) this.laterSucceeded++;
  }

  async close(): Promise<void> {
    const stream = this.stream;
    if (!stream) return;
    this.stream = undefined;
    await new Promise<void>((resolve, reject) =>
      stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
  }

  report(): FailureReport {
    const next_steps: FailureReport['next_steps'] = [];
    for (const [code, example] of this.firstByCode) {
      const step = nextStep(
        code,
        example,
        this.minConfidenceSet,
        this.rateLimited,
        this.providersByCode.get(code),
      );
      if (step) next_steps.push({ code, step });
    }
    return {
      first: [...this.first],
      count: this.count,
      by_kind: { ...this.byKind },
      file: this.file ?? null,
      ...(this.laterSucceeded > 0 ? { later_succeeded: this.laterSucceeded } : {}),
      next_steps,
    };
  }
}

function rateLimitedKind(message: string): keyof RateLimitedKinds {
  return wouldExceedBudget(message) ? 'exceeded' : 'spent';
}

/** What makes `record` a failure, or undefined when its output is worth having (or it was skipped). */
function failureOf(record: RunRecord): NamedFailure | undefined {
  const input = record.input;
  // Stopped in flight by the user (Ctrl-C/SIGTERM): unfinished, not failed; the next run redoes it.
  if (isAborted(record)) return undefined;
  if (record.status === 'error')
    return {
      input,
      kind: 'error',
      code: record.error?.code ?? 'INTERNAL',
      message: record.error?.message ?? '',
    };
  if (record.status !== 'ok') return undefined;
  if (record.quality === 'empty')
    return { input, kind: 'empty', code: 'EMPTY_OUTPUT', message: 'every field is null: nothing was read' };
  if (record.quality === 'low_confidence')
    return {
      input,
      kind: 'low_confidence',
      code: 'LOW_CONFIDENCE',
      message: `confidence ${record.confidence ?? 'of its fields'} is below the run's threshold (status stays "ok"; --min-confidence makes it an error)`,
    };
  return undefined;
}
