/**
 * Default input limits, apart from the code that enforces them (image/source.ts,
 * image/fetch-url.ts): the CLI shows them in its help without loading undici.
 */
export const DEFAULT_FETCH_LIMITS = {
  /** Whole download, ms. */
  timeoutMs: 30_000,
  /** Largest body accepted, bytes. */
  maxBytes: 50 * 1024 * 1024,
  maxRedirects: 3,
} as const;

/** Largest input (file or download) accepted, bytes. */
export const DEFAULT_MAX_INPUT_BYTES = DEFAULT_FETCH_LIMITS.maxBytes;
