/**
 * The `raw_output` of an error record: what the model or OCR engine really answered, so a
 * failure can be debugged without running it again. Text as is (the local engine's OCR
 * text, a model's answer that was not JSON), a provider's response body as the model's
 * content in it (modelContentOf: never the HTTP envelope), anything else as JSON; anything shaped like
 * an API key redacted; cut to RAW_OUTPUT_CHARS with a note of how much was left out.
 */
import { redactSecrets } from '../providers/secrets.js';

/** Longest `raw_output` kept on a record, in characters. */
export const RAW_OUTPUT_CHARS = 2000;

type Loose = Record<string, unknown> | undefined;
const obj = (value: unknown): Loose =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
const json = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/**
 * What the model wrote inside a provider's HTTP body, not the envelope: OpenAI's message
 * content (or its tool call's arguments), Anthropic's tool input or text blocks, Gemini's
 * text parts; undefined for any other shape.
 */
export function modelContentOf(body: unknown): string | undefined {
  const b = obj(body);
  if (!b) return undefined;
  if (Array.isArray(b.choices)) {
    const message = obj(obj(b.choices[0])?.message);
    if (typeof message?.content === 'string') return message.content;
    const call = obj(obj(Array.isArray(message?.tool_calls) ? message.tool_calls[0] : undefined)?.function);
    if (call?.arguments !== undefined) return json(call.arguments);
    return undefined;
  }
  if (Array.isArray(b.content) && typeof b.role === 'string') {
    const blocks = b.content.map(obj);
    const tool = blocks.find((block) => block?.type === 'tool_use');
    if (tool) return json(tool.input);
    const texts = blocks.filter((block) => block?.type === 'text').map((block) => String(block?.text ?? ''));
    return texts.length > 0 ? texts.join('') : undefined;
  }
  if (Array.isArray(b.candidates)) {
    const parts = obj(obj(b.candidates[0])?.content)?.parts;
    if (!Array.isArray(parts)) return undefined;
    return parts.map((part) => String(obj(part)?.text ?? '')).join('');
  }
  return undefined;
}

function textOf(raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string') return raw;
  // The local engine's raw result: the page's OCR text is what it read.
  if (typeof raw === 'object' && typeof (raw as { text?: unknown }).text === 'string') {
    return (raw as { text: string }).text;
  }
  // A provider's response body: the model's content is what it answered.
  const content = modelContentOf(raw);
  if (content !== undefined) return content;
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
