/**
 * The batch APIs' size limits and the options that lower them. A job larger than a limit
 * is split into several batches by batch-job.ts; a limit can be lowered (never raised)
 * to keep batches, and the memory they take while being built, smaller.
 *
 * - OpenAI: an input file holds ≤ 50 000 requests and ≤ 200 MB
 *   (https://platform.openai.com/docs/api-reference/batch/create).
 * - Anthropic: a Message Batch holds ≤ 100 000 requests or ≤ 256 MB, whichever comes first
 *   (https://docs.anthropic.com/en/docs/build-with-claude/batch-processing).
 *
 * "MB" is read as 10^6 bytes: the smaller reading, so a batch is never refused for size.
 */
import { VisionpipeError } from '../../errors.js';
import type { BatchLimits } from './spec.js';

export const OPENAI_BATCH_LIMITS: Readonly<BatchLimits> = Object.freeze({
  maxRequests: 50_000,
  maxBytes: 200_000_000,
});

export const ANTHROPIC_BATCH_LIMITS: Readonly<BatchLimits> = Object.freeze({
  maxRequests: 100_000,
  maxBytes: 256_000_000,
});

export interface BatchLimitOptions {
  /** Requests per batch (default and maximum: the API's limit). */
  maxRequestsPerBatch?: number;
  /** Bytes per batch as the API counts them (default and maximum: the API's limit). */
  maxBatchBytes?: number;
}

function resolveLimit(provider: string, option: string, value: number | undefined, max: number): number {
  if (value === undefined) return max;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `${provider}: ${option} must be an integer from 1 to ${max} (got ${JSON.stringify(value)})`,
      { option },
    );
  }
  return value;
}

export function resolveBatchLimits(
  provider: string,
  options: BatchLimitOptions,
  api: Readonly<BatchLimits>,
): BatchLimits {
  return {
    maxRequests: resolveLimit(provider, 'maxRequestsPerBatch', options.maxRequestsPerBatch, api.maxRequests),
    maxBytes: resolveLimit(provider, 'maxBatchBytes', options.maxBatchBytes, api.maxBytes),
  };
}

/** A backend's own guard: the driver splits, but a direct caller may not have. */
export function assertWithinLimits(
  provider: string,
  count: number,
  bytes: number,
  limits: BatchLimits,
): void {
  if (count === 0) {
    throw new VisionpipeError('INVALID_OPTION', `${provider}: a batch needs at least one request`, {
      option: 'requests',
    });
  }
  if (count > limits.maxRequests || bytes > limits.maxBytes) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `${provider}: a batch of ${count} requests and ${bytes} bytes is over the limit of ${limits.maxRequests} requests and ${limits.maxBytes} bytes (runBatchJob splits jobs)`,
      { option: 'requests' },
    );
  }
}
