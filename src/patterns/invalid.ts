/** One constructor for pattern errors, so every message starts with the file it is about. */
import { VisionpipeError } from '../errors.js';

export function invalidPattern(origin: string, message: string, cause?: unknown): VisionpipeError {
  return new VisionpipeError('INVALID_PATTERN', `${origin}: ${message}`, { input: origin, cause });
}
