/**
 * A failed call can still be a paid one: a 200 whose answer cannot be used (not JSON,
 * refused, filtered, cut off) cost its tokens. Providers mark such errors with the usage
 * the response reported and, when the answer was text that is not JSON, that text: the
 * pipeline then adds every billed attempt to the record and may ask once for a repair.
 */
import { VisionpipeError } from '../errors.js';
import { parseModelJson } from './model-json.js';
import type { Usage } from './spec.js';

export interface Billed {
  usage: Usage;
  model: string;
  /** The answer's text when it could not be read as JSON (a repair can start from it). */
  answer?: string;
  /** Why a repair call was made before this failure (the record's `cascade.repair`). */
  repair?: string;
}

const billedErrors = new WeakMap<object, Billed>();

/** Marks `error` as coming from a billed response; returns it for `throw`. */
export function markBilled<E>(error: E, billed: Billed): E {
  if (typeof error === 'object' && error !== null) billedErrors.set(error, billed);
  return error;
}

/** What the response behind `error` was billed, when it was. */
export function billedOf(error: unknown): Billed | undefined {
  return typeof error === 'object' && error !== null ? billedErrors.get(error) : undefined;
}

/**
 * Runs `read` on part of a billed response: whatever it throws is marked as billed, with
 * `billed.answer` when given (the step reads that text as JSON: a repair can start from it).
 */
export function readBilled<T>(billed: Billed, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw markBilled(error, billed);
  }
}

/**
 * The JSON object in a billed extraction answer's text (one level of string-encoded JSON
 * is undone: model-json.ts `unwrapEncodedObject`). A failure is marked billed and, unless the answer
 * was cut off (`cutOff` says how: its values are missing, no repair restores them),
 * repairable with the text.
 */
export function readAnswerJson(
  provider: string,
  content: string,
  billed: Billed,
  cutOff: string | undefined,
): unknown {
  const mark = cutOff === undefined ? { ...billed, answer: content } : billed;
  return readBilled(mark, () => parseModelJson(provider, content, cutOff ?? '', true));
}

/**
 * A billed answer with nothing in it (no text, no tool call) that was not cut off: the same
 * request tends to write it again, so it is not retried blindly. BAD_RESPONSE, not
 * retryable, marked billed with an empty `answer`: the step asks once more at most
 * (stages.ts) and the record says so.
 */
export function emptyAnswer(provider: string, why: string, billed: Billed): VisionpipeError {
  return markBilled(
    new VisionpipeError('BAD_RESPONSE', `${provider}: the answer is empty (${why})`, { retryable: false }),
    { ...billed, answer: '' },
  );
}
