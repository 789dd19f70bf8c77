/**
 * Cache keys. A result is addressed by the content (sha256 of the original bytes), never
 * the path, plus everything that changes the answer: the pattern fingerprint (schema,
 * instructions, format, version), provider, model, the preprocessing fingerprint (size
 * profile, format, quality, crop…) and the answer options (the provider's endpoint and
 * options, the token budget, triage and escalation: see pipeline/answer-settings.ts).
 * The pattern fingerprint also leads the key, so `cache clear --pattern` is a prefix delete.
 */
import { createHash } from 'node:crypto';

export interface ResultKeyParts {
  sha256: string;
  patternFingerprint: string;
  provider: string;
  model: string;
  /** preprocessFingerprint() of the options the image is sent with. */
  preprocess: string;
  /** Everything else that changes answers (endpoint, provider options, budget, cascade), as a stable string. */
  options?: string;
}

const digest = (value: string) => createHash('sha256').update(value).digest('hex');

export function patternKeyPrefix(patternFingerprint: string): string {
  return `r:${patternFingerprint.slice(0, 16)}:`;
}

/** `r:<pattern 16 hex>:<sha256 of the other parts>`. */
export function resultKey(parts: ResultKeyParts): string {
  const rest = digest(
    JSON.stringify([parts.sha256, parts.provider, parts.model, parts.preprocess, parts.options ?? '']),
  );
  return `${patternKeyPrefix(parts.patternFingerprint)}${rest}`;
}

/** A preprocessed image: content + preprocessing options. */
export function imageKey(sha256: string, preprocess: string): string {
  return `i:${digest(JSON.stringify([sha256, preprocess]))}`;
}

export interface VerdictKeyParts {
  sha256: string;
  /** The pattern being triaged for (the local engine reads its labels). */
  patternFingerprint: string;
  provider: string;
  model: string;
  /** The triage provider's answerKey (endpoint, options), '' when it has none. */
  providerOptions: string;
  question: string;
  /** preprocessFingerprint() of the triage image. */
  preprocess: string;
}

export function verdictKeyPrefix(patternFingerprint: string): string {
  return `${VERDICT_PREFIX}${patternFingerprint.slice(0, 16)}:`;
}

/**
 * A triage verdict (yes/no relevance): cheap to keep, costs money to ask again.
 * `t:<pattern 16 hex>:<sha256 of the parts>`, so clearing a pattern clears its verdicts.
 */
export function verdictKey(parts: VerdictKeyParts): string {
  return `${verdictKeyPrefix(parts.patternFingerprint)}${digest(
    JSON.stringify([
      parts.sha256,
      parts.provider,
      parts.model,
      parts.providerOptions,
      parts.question,
      parts.preprocess,
      parts.patternFingerprint,
    ]),
  )}`;
}

export const RESULT_PREFIX = 'r:';
export const IMAGE_PREFIX = 'i:';
export const VERDICT_PREFIX = 't:';

/** The kinds of lookups `cache stats` reports apart. */
export type LookupKind = 'result' | 'failure' | 'verdict' | 'image' | 'other';

/** Which kind of entry a key addresses: a result, a remembered failure (`r:…:failed`), a triage verdict, a prepared image. */
export function lookupKind(key: string): LookupKind {
  if (key.startsWith(RESULT_PREFIX)) return key.endsWith(':failed') ? 'failure' : 'result';
  if (key.startsWith(VERDICT_PREFIX)) return 'verdict';
  if (key.startsWith(IMAGE_PREFIX)) return 'image';
  return 'other';
}
