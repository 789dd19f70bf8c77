/**
 * Whether a document's pages can go to the provider together, in one request: within its
 * images per request and its request bytes (base64 plus a prompt allowance), and within
 * the run's tokens-per-minute budget (`--tpm`). Past any of them each page is read on its
 * own and the outputs merged (merge-pages).
 */
import type { ProviderLimits } from '../providers/spec.js';
import type { DocumentContext } from './document-stage.js';
import type { Page } from './page-records.js';
import { PROMPT_ALLOWANCE_BYTES } from './provider-limits.js';

/** Whether `count` pages of `bytes` raw bytes in all fit one request of the provider. */
export function fitsOneRequest(count: number, bytes: number, limits: ProviderLimits | undefined): boolean {
  if (count > (limits?.maxImagesPerRequest ?? 1)) return false;
  if (limits?.maxRequestBytes === undefined) return true;
  // Images travel as base64 inside the request body.
  return Math.ceil(bytes / 3) * 4 + PROMPT_ALLOWANCE_BYTES <= limits.maxRequestBytes;
}

/**
 * Why a document's pages cannot go in one request, or undefined when they can: more
 * images or bytes than the provider takes in one request, or more estimated tokens than
 * the run's tokens-per-minute budget (`--tpm`: such a request could never be admitted).
 */
export function splitReason(pages: readonly Page[], context: DocumentContext): string | undefined {
  const bytes = pages.reduce((sum, page) => sum + page.loaded.bytes.length, 0);
  const limits = context.providerLimits;
  if (pages.length > (limits?.maxImagesPerRequest ?? 1))
    return pages.length > 1 && (limits?.maxImagesPerRequest ?? 1) <= 1
      ? 'the provider reads one image per request'
      : `${pages.length} pages are over the provider's ${limits?.maxImagesPerRequest ?? 1} images per request`;
  if (!fitsOneRequest(pages.length, bytes, limits))
    return `${pages.length} pages (${bytes} bytes) are over the provider's ${limits?.maxRequestBytes} bytes per request`;
  const budget = context.maxRequestTokens;
  if (budget !== undefined && context.requestTokens && pages.length > 1) {
    const tokens = context.requestTokens(pages);
    if (tokens > budget)
      return `${pages.length} pages together are about ${tokens} tokens, over --tpm ${budget}`;
  }
  return undefined;
}
