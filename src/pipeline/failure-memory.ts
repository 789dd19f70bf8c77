/**
 * Failures that will repeat, remembered so a rerun does not pay for them again (issue 13).
 * A failure is deterministic when the same bytes, pattern, provider, model and
 * preprocessing (the result key) always lead to it: the bytes cannot be decoded or
 * brought within limits, or the model answered with output that breaks the schema
 * (SCHEMA_MISMATCH, after the one repair and any escalation). Those are stored beside the
 * result cache (`<result key>:failed`, same TTL) and handed back as the same error,
 * for nothing, until the TTL ends or the run asks `retryFailed` (`--retry-failed`).
 * Transient failures (rate limits, timeouts, outages, aborts: every retryable code) and
 * failures about the account or the setup (keys, quota, a bad request) are never
 * remembered: the next run tries them again.
 */
import { asObject, decodeEntry } from '../cache/json-entry.js';
import type { CacheSetup } from '../cache/open-cache.js';
import type { EntryMeta, WarningSink } from '../cache/store.js';
import { type ErrorCode, VisionpipeError } from '../errors.js';
import { redactDeep, redactSecrets } from '../secrets.js';
import type { Outcome } from './outcome.js';
import { rawOutputText } from './raw-output.js';
import { EMPTY_USAGE, type RunRecord } from './record.js';

/** The codes that depend on the content key alone and fail the same way every time. */
export const DETERMINISTIC_FAILURES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'SCHEMA_MISMATCH',
  'UNSUPPORTED_FORMAT',
  'IMAGE_DECODE',
  'PIXEL_LIMIT',
  'METADATA_LIMIT',
  'IMAGE_TOO_LARGE',
  'INVALID_CROP',
]);

interface Remembered {
  code: ErrorCode;
  /**
   * The message; with `labelled`, without the `<input>: ` it began with, so another input with
   * the same bytes (a copy, a renamed file) is named as itself when the failure is recalled.
   */
  message: string;
  labelled?: boolean;
  image: RunRecord['image'];
  /**
   * What the model answered when it was read but failed the schema: the parsed output
   * (redacted) and the answer's text (`raw_output`: redacted, cut), so a recalled
   * failure shows what came back as the first one did. Absent when there was none.
   */
  output?: unknown;
  raw_output?: string;
  /** ms since the epoch when the failure happened. */
  at: number;
}

function isRemembered(value: unknown): value is Remembered {
  const v = asObject(value);
  return (
    v !== undefined &&
    typeof v.code === 'string' &&
    DETERMINISTIC_FAILURES.has(v.code as ErrorCode) &&
    typeof v.message === 'string' &&
    typeof v.at === 'number'
  );
}

export class FailureMemory {
  constructor(
    private readonly setup: CacheSetup,
    private readonly warn: WarningSink,
    /** Provider and model the failures are stored under for `cache stats` (by model). */
    private readonly meta: EntryMeta,
    /** Skip what was remembered and try again (`--retry-failed`); new failures are still remembered. */
    private readonly retryFailed = false,
  ) {}

  private static keyOf(resultKey: string): string {
    return `${resultKey}:failed`;
  }

  /** The remembered failure of this result key as a free outcome naming `label`, or undefined. */
  async recall(resultKey: string, label: string): Promise<Outcome | undefined> {
    if (this.retryFailed) return undefined;
    let raw: Buffer | undefined;
    try {
      raw = await this.setup.results.get(FailureMemory.keyOf(resultKey));
    } catch {
      return undefined; // the cache's own warnings say it is down
    }
    if (raw === undefined) return undefined;
    const value = decodeEntry(raw, isRemembered);
    if (!value) return undefined;
    const when = new Date(value.at).toISOString();
    const message = value.labelled ? `${label}: ${value.message}` : value.message;
    const error = new VisionpipeError(
      value.code,
      `${message} (remembered from ${when}: it fails the same way every time; --retry-failed tries again)`,
      { retryable: false, input: label },
    );
    // Nothing is paid again: the answer kept is handed back with no usage and no cost.
    const answer =
      value.output === undefined && value.raw_output === undefined
        ? undefined
        : {
            usage: { ...EMPTY_USAGE },
            cost: 0,
            ...(value.output === undefined ? {} : { output: value.output }),
            ...(value.raw_output === undefined ? {} : { raw: value.raw_output }),
          };
    return { kind: 'failed', error, image: value.image, attempts: 0, paid: answer, remembered: true };
  }

  /** Stores a deterministic failure for the cache TTL; anything else is left to be tried again. */
  async remember(
    resultKey: string,
    error: VisionpipeError,
    image: RunRecord['image'],
    label: string,
    /** What was answered and parsed before the failure (the record's `output` and `raw_output`). */
    answer: { output?: unknown; raw?: unknown } = {},
  ): Promise<void> {
    if (!DETERMINISTIC_FAILURES.has(error.code)) return;
    const labelled = error.message.startsWith(`${label}: `);
    const rawText = rawOutputText(answer.raw);
    const entry: Remembered = {
      code: error.code,
      message: redactSecrets(labelled ? error.message.slice(label.length + 2) : error.message),
      ...(labelled ? { labelled } : {}),
      image,
      ...(answer.output === undefined || answer.output === null ? {} : { output: redactDeep(answer.output) }),
      ...(rawText === null ? {} : { raw_output: rawText }),
      at: Date.now(),
    };
    try {
      await this.setup.results.set(
        FailureMemory.keyOf(resultKey),
        Buffer.from(JSON.stringify(entry)),
        this.setup.ttlMs,
        this.meta,
      );
    } catch (cause) {
      this.warn(`cache write failed (${(cause as Error).message}); the failure will be tried again next run`);
    }
  }
}
