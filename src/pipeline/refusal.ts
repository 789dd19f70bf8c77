/**
 * Inputs refused before any provider call: what is not a usable image or document (format,
 * decode, size limits, a document that cannot be opened). Such an input made no cache
 * lookup worth counting (its record's `cache` is null, and `cache stats` takes its lookup
 * back) and is "read and refused" in the run summary, not processed.
 */

/** The codes that say an input is not a usable image or document. */
export const INPUT_REFUSAL_CODES: ReadonlySet<string> = new Set([
  'EMPTY_INPUT',
  'INPUT_TOO_LARGE',
  'UNSUPPORTED_FORMAT',
  'IMAGE_DECODE',
  'PIXEL_LIMIT',
  'METADATA_LIMIT',
  'IMAGE_TOO_LARGE',
  'DOCUMENT_ENCRYPTED',
  'DOCUMENT_DAMAGED',
  'DOCUMENT_EMPTY',
  'TOO_MANY_PAGES',
  'PAGE_OUT_OF_RANGE',
]);

/**
 * True when a failure refused the input before any call: a refusal code and no attempt
 * (an IMAGE_TOO_LARGE the provider answered with a 400 was sent: not a refusal here).
 */
export function refusedBeforeCall(code: string | undefined, attempts: number): boolean {
  return attempts === 0 && INPUT_REFUSAL_CODES.has(code ?? '');
}
