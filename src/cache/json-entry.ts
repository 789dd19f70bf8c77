/**
 * Reading JSON entries back from a CacheStore: stores hold bytes, and what comes back may
 * be from an older version, truncated, or written by something else. One decoder checks
 * every entry before it is used.
 */

/** The value as a plain object, or undefined when it is null or not an object. */
export function asObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
}

/**
 * Decodes a stored entry (UTF-8 JSON) and checks its shape with `isEntry`.
 * @returns the entry, or undefined when the bytes are not JSON or not of that shape
 *   (never throws: the caller decides whether to warn, drop it, or ignore it).
 */
export function decodeEntry<T>(raw: Buffer, isEntry: (value: unknown) => value is T): T | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
  return isEntry(value) ? value : undefined;
}
