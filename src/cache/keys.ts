/**
 * Cache keys. A result is addressed by the content (sha256 of the original bytes), never
 * the path, plus everything that changes the answer: the pattern fingerprint (schema,
 * instructions, format, version), provider, model, the preprocessing fingerprint (size
 * profile, format, quality, crop…) and provider options. The pattern fingerprint also
 * leads the key, so `cache clear --pattern` is a prefix delete.
 */
import { createHash } from 'node:crypto';

export interface ResultKeyParts {
  sha256: string;
  patternFingerprint: string;
  provider: string;
  model: string;
  /** preprocessFingerprint() of the options the image is sent with. */
  preprocess: string;
  /** Provider options that change answers (detail level, temperature…), as a stable string. */
  options?: string;
}

const digest = (value: string) => createHash('sha256').update(value).digest('hex');

export function patternKeyPrefix(patternFingerprint: string): string {
  return `r:${patternFingerprint.slice(0, 16)}:`;
}

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

export const RESULT_PREFIX = 'r:';
export const IMAGE_PREFIX = 'i:';
