/**
 * visionpipe's library API: the pipeline (`createPipeline`) and the parts it is made of,
 * each usable alone — the image engine, patterns, providers and prices, flow control
 * (limiters, retry, breaker), result stores, run summaries and the provider simulator.
 */

// Result stores.
export { type CacheOptions, openCache } from './cache/open-cache.js';
export type { CacheStore } from './cache/store.js';
// Documents: PDF, multi-page TIFF and HEIC as page images (docs/documents.md).
export {
  type DocumentOptions as RenderOptions,
  type DocumentPage,
  type OpenedDocument,
  openDocument,
} from './documents/document.js';
export { type DocumentKind, documentKind } from './documents/kinds.js';
export { type PageSpan, parsePageRange } from './documents/page-range.js';
export type { PagesMode } from './documents/pages-mode.js';
export { ERROR_CODES, type ErrorCode, isVisionpipeError, VisionpipeError } from './errors.js';
export { AdaptiveFlow, type AdaptiveFlowOptions } from './flow/adaptive.js';
export { type CallPolicyOptions, callWithPolicy } from './flow/call-policy.js';
export { type BreakerOptions, breakerFor, ProviderBreaker } from './flow/circuit-breaker.js';
// Flow control.
export { type CreateLimiterOptions, createLimiter } from './flow/create-limiter.js';
export type { Limiter, LimiterOptions } from './flow/limiter.js';
export { attemptsOf, parseRetryAfter, RETRY_DEFAULTS, type RetryOptions, retry } from './flow/retry.js';
export { mapWindow } from './flow/window.js';
export { classifyAddress } from './image/address-policy.js';
export { type FetchLimits, fetchUrlBytes } from './image/fetch-url.js';
export { hammingDistance, perceptualHash, sha256 } from './image/fingerprint.js';
export { estimateJpegQuality, stripJpegMetadata } from './image/jpeg-segments.js';
export { type OptimizedImage, optimizeImage } from './image/optimize-image.js';
export {
  type CropSpec,
  type OutputFormat,
  PREPROCESS_DEFAULTS,
  type PreprocessOptions,
  parseCrop,
  preprocessFingerprint,
  type ResolvedPreprocessOptions,
  resolvePreprocessOptions,
} from './image/options.js';
export {
  describeImage,
  type ImageDescription,
  type PreparedImage,
  preprocessImage,
} from './image/preprocess.js';
export {
  isProfileName,
  PROFILE_NAMES,
  type ProfileName,
  SIZE_PROFILES,
  type SizeLimits,
  type SizeProfile,
  targetSize,
} from './image/profiles.js';
export { type ImageFormat, SUPPORTED_FORMATS, sniffFormat } from './image/sniff.js';
export { type ImageSource, type LoadedSource, loadSource, type SourceLimits } from './image/source.js';
export { defaultConcurrency, tuneSharpForBatches } from './image/tuning.js';
// Patterns: the output contract.
export {
  emptyOutput,
  loadPattern,
  missingRequired,
  parsePattern,
  parsePatternText,
  patternFingerprint,
  render,
  renderAs,
  SchemaMismatchError,
  validateOutput,
} from './patterns/index.js';
export type { Pattern, PatternFormat, ValidationIssue } from './patterns/types.js';
// The pipeline: one record per image, errors as records, never thrown.
export {
  createPipeline,
  type DocumentOptions,
  type EscalationOptions,
  type ImagePlan,
  type Pipeline,
  type PipelineOptions,
  type RunBatchOptions,
  type TriageOptions,
} from './pipeline/create-pipeline.js';
export type { CacheOutcome, CascadeInfo, PageConflict, RecordStatus, RunRecord } from './pipeline/record.js';
// Batch APIs (docs/providers.md): half price, answered within 24 hours, resumable.
export {
  type BatchJobOptions,
  type BatchRequest,
  batchStateFile,
  createBatchBackend,
  runBatchJob,
} from './providers/batch/index.js';
export {
  costUsd,
  defaultPriceTable,
  loadPriceTable,
  modelPrice,
  type PriceTable,
} from './providers/pricing.js';
// Providers, token estimators and prices.
export { createProvider, PROVIDER_IDS, type ProviderId, type ProviderOptions } from './providers/registry.js';
export type { ExtractRequest, ExtractResult, Provider, TokenEstimate, Usage } from './providers/spec.js';
export {
  anthropicImageTokens,
  estimateTextTokens,
  geminiImageTokens,
  openaiImageTokens,
} from './providers/tokens.js';
export { type Evaluation, evaluate } from './runs/evaluate.js';
export { expandInputs, type InputItem } from './runs/inputs.js';
// Runs: summaries and evaluation against ground truth.
export { RunSummary, type Summary } from './runs/summary.js';

// The provider simulator, for tests and capacity planning without spending money.
export { startSimulator } from './simulator/index.js';
