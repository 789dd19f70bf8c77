/**
 * API keys come from the environment and must never reach a message, a record or a
 * log. Provider error messages are passed through this before they are shown: some
 * APIs echo part of the key back ("Incorrect API key provided: sk-pr****abcd").
 */

const KEY_SHAPES: readonly RegExp[] = [
  /\bBearer\s+[^\s"',;]+/gi,
  /\b(?:sk|rk|pk)-[A-Za-z0-9_*-]{4,}/g, // OpenAI, Anthropic (sk-ant-…), OpenRouter (sk-or-…)
  /\bAIza[0-9A-Za-z_-]{10,}/g, // Google API keys
  /\bimggo_(?:live|test)_[A-Za-z0-9_*-]+/g,
  /([?&]key=)[^&\s"']+/g, // a key in a URL query string
];

export const REDACTED = '[redacted]';

/** `text` with every given secret and anything shaped like an API key replaced by `[redacted]`. */
export function redactSecrets(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
  let out = text;
  for (const secret of secrets) {
    // Very short "keys" (placeholders like "x") would redact ordinary words.
    if (secret !== undefined && secret.length >= 8) out = out.split(secret).join(REDACTED);
  }
  for (const shape of KEY_SHAPES) {
    out = out.replace(shape, (match, prefix: unknown) =>
      typeof prefix === 'string' && match.startsWith(prefix) ? `${prefix}${REDACTED}` : REDACTED,
    );
  }
  return out;
}
