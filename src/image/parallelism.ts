/**
 * How many images to work on at once by default: one per core. Apart from tuning.ts so
 * that the CLI can print this default in its help without loading sharp.
 */
import os from 'node:os';

export function defaultConcurrency(): number {
  return Math.max(1, os.availableParallelism());
}
