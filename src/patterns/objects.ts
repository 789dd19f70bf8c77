/**
 * Small helpers for the untrusted objects patterns and outputs are made of. Keys come
 * from users and models, so they are set with `defineProperty`: a field named
 * `__proto__` stays an ordinary field instead of replacing the object's prototype.
 */
import { redactedPrefix } from '../secrets.js';

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export function hasOwn(target: object, key: string): boolean {
  return Object.hasOwn(target, key);
}

/** A short, quoted description of a bad value for messages: `"pdf"`, `42`, `a list`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'string') return JSON.stringify(redactedPrefix(value, 57, { ellipsis: '...' }));
  // 1e400 parses to Infinity, which JSON writes as null: say what it is instead.
  if (typeof value === 'number' && !Number.isFinite(value))
    return 'a number that is not finite (out of the range of a double)';
  try {
    const json = JSON.stringify(value);
    return redactedPrefix(json, 57, { ellipsis: '...' });
  } catch {
    return String(value);
  }
}

/** Escapes one JSON pointer segment (RFC 6901). */
export function pointerSegment(key: string | number): string {
  return String(key).replaceAll('~', '~0').replaceAll('/', '~1');
}
