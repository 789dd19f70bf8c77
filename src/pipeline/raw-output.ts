/**
 * The `raw_output` of an error record: what the model or OCR engine really answered, so a
 * failure can be debugged without running it again. Text as is (the local engine's OCR
 * text, a model's answer that was not JSON), anything else as JSON; anything shaped like
 * an API key redacted; cut to RAW_OUTPUT_CHARS with a note of how much was left out.
 */
import { redactSecrets } from '../providers/secrets.js';

/** Longest `raw_output` kept on a record, in characters. */
export const RAW_OUTPUT_CHARS = 2000;

function textOf(raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string') return raw;
  // The local engine's raw result: the page's OCR text is what it read.
  if (typeof raw === 'object' && typeof (raw as { text?: unknown }).text === 'string') {
    return (raw as { text: string }).text;
  }
  try {
    return JSON.stringify(raw);
  } catch {
    return String(raw);
  }
}

/** `raw` as record text: redacted and at most RAW_OUTPUT_CHARS long; null when there is none. */
export function rawOutputText(raw: unknown, maxChars = RAW_OUTPUT_CHARS): string | null {
  const text = textOf(raw);
  if (text === undefined) return null;
  const clean = redactSecrets(text);
  if (clean.length <= maxChars) return clean;
  return `${clean.slice(0, maxChars)}… (${clean.length - maxChars} more characters)`;
}
