/** The VisionpipeError a promise rejects with (the test fails when it resolves or rejects with anything else). */
import { expect } from 'vitest';
import { VisionpipeError } from '../../src/errors.js';

export async function failure(promise: Promise<unknown>): Promise<VisionpipeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VisionpipeError);
  return error as VisionpipeError;
}
