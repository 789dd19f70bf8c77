/**
 * Provider batch APIs (OpenAI Batch API, Anthropic Message Batches): half price for work
 * that can wait up to 24 h. `createBatchBackend(id, options)` builds a backend;
 * `runBatchJob()` runs a resumable job over it.
 */
import { VisionpipeError } from '../../errors.js';
import { AnthropicBatchBackend, type AnthropicBatchOptions } from './anthropic-batch.js';
import { OpenAIBatchBackend, type OpenAIBatchOptions } from './openai-batch.js';
import type { BatchBackend } from './spec.js';

export type { AnthropicBatchOptions } from './anthropic-batch.js';
export { AnthropicBatchBackend } from './anthropic-batch.js';
export type { BatchJobEvent, BatchJobOptions, BatchJobSummary } from './batch-job.js';
export { runBatchJob } from './batch-job.js';
export { ANTHROPIC_BATCH_LIMITS, type BatchLimitOptions, OPENAI_BATCH_LIMITS } from './limits.js';
export type { OpenAIBatchOptions } from './openai-batch.js';
export { OPENAI_BATCH_ENDPOINT, OpenAIBatchBackend } from './openai-batch.js';
export type {
  BatchBackend,
  BatchCounts,
  BatchItem,
  BatchLimits,
  BatchRequest,
  BatchRequestInfo,
  BatchState,
  BatchStatus,
} from './spec.js';
export { isTerminal } from './spec.js';
export { type BatchJobState, batchStateFile, readBatchJobState } from './state.js';

export type BatchProviderId = 'openai' | 'anthropic';

export interface BatchBackendOptions {
  openai?: OpenAIBatchOptions;
  anthropic?: AnthropicBatchOptions;
}

/** Providers with a batch API. */
export const BATCH_PROVIDERS: readonly BatchProviderId[] = ['openai', 'anthropic'];

export function isBatchProvider(id: string): id is BatchProviderId {
  return (BATCH_PROVIDERS as readonly string[]).includes(id);
}

/** The batch backend of `id`; INVALID_OPTION for a provider without a batch API. */
export function createBatchBackend(id: string, options: BatchBackendOptions = {}): BatchBackend {
  if (id === 'openai') return new OpenAIBatchBackend(options.openai);
  if (id === 'anthropic') return new AnthropicBatchBackend(options.anthropic);
  throw new VisionpipeError(
    'INVALID_OPTION',
    `--batch-api: ${JSON.stringify(id)} has no batch API here (use ${BATCH_PROVIDERS.join(' or ')})`,
    { option: 'provider' },
  );
}
