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

export type Quality = 'ok' | 'empty' | 'low_confidence';

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

/** The quality of an `ok` record; other statuses are not judged (undefined). */
export function qualityOf(
  record: Pick<RunRecord, 'status' | 'output' | 'confidence'>,
  minConfidence: number | undefined,
): Quality | undefined {
  if (record.status !== 'ok') return undefined;
  if (isEmptyOutput(record.output)) return 'empty';
  if (minConfidence !== undefined && record.confidence !== null && record.confidence < minConfidence) {
    return 'low_confidence';
  }
  return 'ok';
}

/**
 * Applies an enforced policy: an `ok` record below the threshold becomes an error record
 * `LOW_CONFIDENCE` that keeps its output (as parsed), confidence and costs. Returns the
 * record unchanged otherwise.
 */
export function enforceConfidence(record: RunRecord, policy: ConfidencePolicy | undefined): RunRecord {
  if (!policy?.enforce || qualityOf(record, policy.min) !== 'low_confidence') return record;
  return {
    ...record,
    status: 'error',
    error: {
      code: 'LOW_CONFIDENCE',
      message: `${record.input}: confidence ${record.confidence} of ${record.model} is below --min-confidence ${policy.min}`,
    },
  };
}
