/**
 * One call from any source to provider-ready bytes: load (with limits), sniff,
 * preprocess, and fingerprint the original content.
 */

import { sha256 } from './fingerprint.js';
import { type PreprocessOptions, resolvePreprocessOptions } from './options.js';
import { type PreparedImage, preprocessImage } from './preprocess.js';
import { type ImageSource, loadSource, type SourceLimits } from './source.js';

export interface OptimizedImage extends PreparedImage {
  /** The input's label (path, redacted URL, or a description of in-memory bytes). */
  input: string;
  /** sha256 of the original bytes: the content address for caching and deduplication. */
  sha256: string;
}

export async function optimizeImage(
  source: ImageSource,
  options: PreprocessOptions & SourceLimits = {},
): Promise<OptimizedImage> {
  const { maxInputBytes, timeoutMs, maxBytes, maxRedirects, allowPrivateNetworks, signal, ...preprocess } =
    options;
  const resolved = resolvePreprocessOptions(preprocess);
  const loaded = await loadSource(source, {
    maxInputBytes,
    timeoutMs,
    maxBytes,
    maxRedirects,
    allowPrivateNetworks,
    signal,
  });
  const prepared = await preprocessImage(loaded.bytes, resolved, loaded.label);
  return { ...prepared, input: loaded.label, sha256: sha256(loaded.bytes) };
}
