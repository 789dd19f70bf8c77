/**
 * The pattern fingerprint is part of every cache key: sha256 over a canonical JSON
 * (object keys sorted, arrays in order) of what changes an extraction or its rendering —
 * the normalised schema, the required fields (they decide escalation), instructions,
 * format, version and render hints. The name and
 * the file's path are left out, and so is anything the normalisation discards: files
 * that differ only in whitespace, key order or ignored fields share a fingerprint.
 * Property order is still covered, because each object's `required` lists its
 * properties in order.
 */
import { createHash } from 'node:crypto';
import type { Pattern } from './types.js';

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value))
    return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export type FingerprintInput = Pick<Pattern, 'schema' | 'instructions' | 'format' | 'version' | 'hints'> &
  Partial<Pick<Pattern, 'requiredFields'>>;

export function patternFingerprint(pattern: FingerprintInput): string {
  const { schema, instructions, format, version, hints } = pattern;
  // Left out when empty, so patterns without required fields keep the shape they hashed before.
  const requiredFields =
    pattern.requiredFields && pattern.requiredFields.length > 0 ? pattern.requiredFields : undefined;
  return createHash('sha256')
    .update(canonicalJson({ schema, requiredFields, instructions, format, version, hints }))
    .digest('hex');
}
