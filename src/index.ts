/**
 * visionpipe's library API. The image engine: sources, sniffing, preprocessing with
 * named size profiles, and content fingerprints.
 */
export { ERROR_CODES, type ErrorCode, isVisionpipeError, VisionpipeError } from './errors.js';
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
export { expandInputs, type InputItem } from './runs/inputs.js';
