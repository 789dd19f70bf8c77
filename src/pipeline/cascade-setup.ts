/**
 * A pipeline's cascade: the triage and escalation models its options ask for, and the
 * configuration each cache miss runs the cascade with (cascade.ts): models, per-image
 * token budget, the cache of images and triage verdicts, prices, and each model's call
 * controls (limiter, breaker, retries, timeout, adaptive flow: call-controls.ts) bound to
 * the call's abort signal and throttle tally.
 */
import type { CacheSetup } from '../cache/open-cache.js';
import type { ThrottleTally } from '../flow/throttle.js';
import type { Pattern } from '../patterns/types.js';
import { callControls } from './call-controls.js';
import type { CascadeConfig, ModelChoice } from './cascade-config.js';
import { type CascadeModels, chooseCascadeModels } from './model-choice.js';
import type { PipelineOptions } from './spec.js';

export interface CascadeSetup extends CascadeModels {
  /** The cascade's configuration for one call (its abort signal; its tally of throttled calls). */
  cascadeConfig: (signal: AbortSignal | undefined, tally?: ThrottleTally) => CascadeConfig;
}

export function cascadeSetup(
  options: PipelineOptions,
  pattern: Pattern,
  primary: ModelChoice,
  cache: CacheSetup,
): CascadeSetup {
  const { triage, escalation } = chooseCascadeModels(options, pattern);
  const controlsFor = callControls({
    provider: primary.provider,
    limiter: options.limiter,
    breaker: options.breaker,
    retry: options.retry,
    timeoutMs: options.timeoutMs ?? 120_000,
    flow: options.flow,
  });
  return {
    triage,
    escalation,
    cascadeConfig: (signal, tally) => ({
      pattern,
      primary,
      maxImageTokens: options.maxImageTokens,
      triage,
      escalation,
      images: cache.images,
      verdicts: cache.results,
      ttlMs: cache.ttlMs,
      priceTable: options.priceTable,
      controlsFor: (p) => controlsFor(p, signal, tally),
    }),
  };
}
