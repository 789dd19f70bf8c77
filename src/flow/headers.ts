/**
 * Case-insensitive reads from response headers in either shape the HTTP clients hand
 * out: a plain record (undici `request`, node:http) or a fetch `Headers` object.
 */

export type HeaderBag = Headers | Record<string, string | string[] | undefined>;

/** The header's value (the first one when repeated), or undefined when absent or blank. */
export function headerValue(headers: HeaderBag, name: string): string | undefined {
  const wanted = name.toLowerCase();
  let raw: string | string[] | null | undefined;
  if (typeof Headers !== 'undefined' && headers instanceof Headers) {
    raw = headers.get(wanted);
  } else {
    const record = headers as Record<string, string | string[] | undefined>;
    raw = record[wanted] ?? record[name];
    if (raw === undefined) {
      // Record keys may come in any case (hand-built headers, proxies); fall back to a scan.
      for (const [key, value] of Object.entries(record)) {
        if (key.toLowerCase() === wanted) {
          raw = value;
          break;
        }
      }
    }
  }
  const value = Array.isArray(raw) ? raw[0] : raw;
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

/** A finite, non-negative number from a header, or undefined. */
export function headerNumber(headers: HeaderBag, name: string): number | undefined {
  const value = headerValue(headers, name);
  if (value === undefined || !/^[+]?\d+(\.\d+)?$/.test(value)) return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}
