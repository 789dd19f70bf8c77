/**
 * What the cost cascade (cascade.ts) works with: the model choices (provider, model and
 * the size profile its images are prepared at), the cascade's configuration for one image
 * (triage, the primary model within its per-image token budget, escalation, the caches and
 * prices, each provider's call controls), and a triage verdict.
 */
import type { CacheStore } from '../cache/store.js';
import type { ResolvedPreprocessOptions } from '../image/options.js';
import type { Pattern } from '../patterns/types.js';
import type { PriceTable } from '../providers/pricing.js';
import type { Provider } from '../providers/spec.js';
import type { CachedResult } from './cache-stage.js';
import type { CallControls } from './stages.js';

export interface ModelChoice {
  provider: Provider;
  model: string;
  /** Preprocessing for this model (its profile). */
  preprocess: ResolvedPreprocessOptions;
  profileName: string;
}

export interface CascadeConfig {
  pattern: Pattern;
  primary: ModelChoice;
  /** Per-image budget of image tokens on the primary model. */
  maxImageTokens: number | undefined;
  triage: (ModelChoice & { question: string }) | undefined;
  escalation: (ModelChoice & { below: number | undefined }) | undefined;
  images: CacheStore;
  /** Where triage verdicts are kept (a verdict is cheap to keep and costs money to repeat). */
  verdicts: CacheStore;
  ttlMs: number;
  priceTable: PriceTable | undefined;
  controlsFor: (provider: Provider) => CallControls;
  /**
   * An extraction already paid for on these bytes, kept without triage in its key: asked
   * once triage passes, and when it answers nothing is extracted again (cache-miss.ts).
   */
  reuse?: () => Promise<CachedResult | undefined>;
}

export interface TriageVerdict {
  relevant: boolean;
  confidence: number;
  reason: string;
  provider: string;
  model: string;
}
