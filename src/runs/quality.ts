/**
 * What an `ok` record really holds. A provider can answer with every field null (nothing
 * read) or with a confidence too low to trust; both are schema-valid, so the pipeline calls
 * them `ok`, but a summary that counts them as successes lies. This module sorts records
 * into `ok`, `empty` and `low_confidence`, and turns low-confidence outputs into
 * `LOW_CONFIDENCE` errors when the user asks for it with `--min-confidence`.
 *
 * Escalation (`--escalate-to`) runs inside the pipeline, before this check: the confidence
 * judged here is the final model's.
 */
import type { RunRecord } from '../pipeline/record.js';
import { LOCAL_MIN_CONFIDENCE } from '../providers/local/calibration.js';

export type Quality = NonNullable<RunRecord['quality']>;

/** How a run judges confidence: the threshold, and whether falling below it is an error. */
export interface ConfidencePolicy {
  /** 0–1; records whose confidence is below count as `low_confidence`. */
  min: number;
  /** True when the user set `--min-confidence`: low-confidence records become `LOW_CONFIDENCE` errors. */
  enforce: boolean;
  /** Where `min` comes from, for the summary: `--min-confidence` or the engine's calibration. */
  source: string;
}

/**
 * The default threshold for a provider: the local engine's measured calibration; remote
 * models report no confidence (records carry null), so they have none.
 */
export function defaultMinConfidence(providerId: string): number | undefined {
  return providerId === 'local' ? LOCAL_MIN_CONFIDENCE : undefined;
}

/** True when no leaf of `value` carries data: null, empty strings, empty arrays and objects of such. */
export function isEmptyOutput(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value === 'string') return value.trim() === '';
  if (Array.isArray(value)) return value.every(isEmptyOutput);
  if (typeof value === 'object') return Object.values(value).every(isEmptyOutput);
  return false; // numbers and booleans are data, 0 and false included
}

/**
 * `record` with its `quality` set as `minConfidence` judges it (null when not `ok`): the
 * one judgement the record, the summary and `--failures` all read.
 */
export function withQuality(record: RunRecord, minConfidence: number | undefined): RunRecord {
  return { ...record, quality: qualityOf(record, minConfidence) ?? null };
}

/** The quality of an `ok` record; other statuses are not judged (undefined). */
export function qualityOf(
  record: Pick<RunRecord, 'status' | 'output' | 'confidence' | 'field_confidence'>,
  minConfidence: number | undefined,
): Quality | undefined {
  if (record.status !== 'ok') return undefined;
  if (isEmptyOutput(record.output)) return 'empty';
  if (minConfidence === undefined) return 'ok';
  if (record.confidence !== null && record.confidence < minConfidence) return 'low_confidence';
  // Mostly unsupported: more of the values given are under the threshold than at or above it.
  const given = givenFieldConfidences(record.output, record.field_confidence);
  const weak = given.filter((c) => c < minConfidence).length;
  if (weak > given.length - weak) return 'low_confidence';
  return 'ok';
}

/**
 * The confidences of the fields `output` gives a value (not null), from `fieldConfidence`.
 * The cells of array items (`line_items/0/amount`) are not fields of the record: a long
 * table read cleanly does not outvote weak header fields.
 */
function givenFieldConfidences(
  output: unknown,
  fieldConfidence: Record<string, number> | undefined,
): number[] {
  if (!fieldConfidence) return [];
  const out: number[] = [];
  for (const [field, confidence] of Object.entries(fieldConfidence)) {
    if (field.split('/').some((key) => /^\d+$/.test(key))) continue;
    let node: unknown = output;
    for (const key of field.split('/'))
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    if (node !== null && node !== undefined) out.push(confidence);
  }
  return out;
}

/**
 * `output` with every top-level or nested field whose confidence (`fieldConfidence`, keyed
 * by path: `vendor_name`, `address/city`) is under `min` set to null: a value the evidence
 * does not support is "not found", never data. Returns the fields it emptied.
 */
export function withoutUnsupported(
  output: unknown,
  fieldConfidence: Record<string, number> | undefined,
  min: number,
): { output: unknown; emptied: string[] } {
  if (!fieldConfidence || output === null || typeof output !== 'object' || Array.isArray(output))
    return { output, emptied: [] };
  const copy = structuredClone(output) as Record<string, unknown>;
  const emptied: string[] = [];
  for (const [field, confidence] of Object.entries(fieldConfidence)) {
    if (confidence >= min) continue;
    const keys = field.split('/');
    let node: unknown = copy;
    for (const key of keys.slice(0, -1))
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    if (node === null || typeof node !== 'object') continue;
    const last = keys.at(-1)!;
    const holder = node as Record<string, unknown>;
    if (holder[last] === null || holder[last] === undefined) continue;
    holder[last] = null;
    emptied.push(field);
  }
  return { output: copy, emptied };
}

/**
 * Applies an enforced policy (`--min-confidence X`), per record and per field: an `ok`
 * record under X (its confidence, or most of its values' field confidence) becomes an
 * error record `LOW_CONFIDENCE` that keeps its output, confidence and costs; in both, a
 * field whose own confidence is under X is set to null (the record's `field_confidence`
 * still says what it was).
 * Returns the record unchanged otherwise.
 */
export function enforceConfidence(record: RunRecord, policy: ConfidencePolicy | undefined): RunRecord {
  if (!policy?.enforce || record.status !== 'ok') return record;
  // Fields under X are null in either case: a LOW_CONFIDENCE record's output holds no value
  // the threshold refused (README: fields under X are set to null).
  const { output, emptied } = withoutUnsupported(record.output, record.field_confidence, policy.min);
  const quality = qualityOf(record, policy.min);
  // An output with every field null is below any threshold: with --min-confidence it is an error too.
  if (quality === 'empty')
    return {
      ...record,
      output,
      status: 'error',
      error: {
        code: 'EMPTY_OUTPUT',
        message: `${record.input}: every field of ${record.model}'s output is null (nothing read); --min-confidence ${policy.min} makes that an error`,
      },
    };
  if (quality !== 'low_confidence') return emptied.length > 0 ? { ...record, output } : record;
  return {
    ...record,
    output,
    status: 'error',
    error: {
      code: 'LOW_CONFIDENCE',
      message: `${record.input}: confidence ${record.confidence} of ${record.model} is below --min-confidence ${policy.min}`,
    },
  };
}

/**
 * How one record counts toward a success rate: the one definition the run summary (its
 * `success_rate` and alert), the live `success_rate` alert (metrics/alerts.ts, webhooks)
 * and `report` share.
 *
 * - `success`: an `ok` record whose quality is `ok` (data, at or above the threshold);
 * - `failure`: an error record, or an `ok` record that is `empty` or `low_confidence`;
 * - `not_attempted`: a `skipped` record (triage said it is not the document), or one
 *   `ABORTED` in flight by a stop the user asked for (Ctrl-C/SIGTERM): neither is a
 *   failure of the images, and an ABORTED one is redone by the next run.
 *
 * `minConfidence` judges an `ok` record whose `quality` is not set yet (run-records.ts
 * sets it once per record; the live alert sees records before that).
 */
export type SuccessOutcome = 'success' | 'failure' | 'not_attempted';

export function successOutcome(
  record: Pick<RunRecord, 'status' | 'output' | 'confidence' | 'field_confidence' | 'quality' | 'error'>,
  minConfidence: number | undefined,
): SuccessOutcome {
  // An input that does not exist is a usage error (NOT_FOUND), not an image attempted: a
  // command naming only missing files has no success rate and raises no alert.
  if (record.status === 'skipped' || isAborted(record) || record.error?.code === 'NOT_FOUND')
    return 'not_attempted';
  if (record.status === 'error') return 'failure';
  return (record.quality ?? qualityOf(record, minConfidence)) === 'ok' ? 'success' : 'failure';
}

/** True for a record stopped in flight by a user stop (code ABORTED): unfinished, not failed. */
export function isAborted(record: { status: string; error?: { code: string } | null | undefined }): boolean {
  return record.status === 'error' && record.error?.code === 'ABORTED';
}
