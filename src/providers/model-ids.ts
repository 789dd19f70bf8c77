/**
 * Model ids as gateways, SDKs and users write them, brought to the one spelling the size
 * profiles, vision schemes and price table are keyed by. Every lookup by model name goes
 * through `normalizeModelId` (tokens.ts `lookupModel`), so a model gets the same profile
 * and price however it is named.
 *
 * | written                                   | read as                   | why                                   |
 * |-------------------------------------------|---------------------------|---------------------------------------|
 * | `GPT-4.1-MINI`, ` gpt-4o `                | `gpt-4.1-mini`, `gpt-4o`  | model ids are lower case              |
 * | `openai/gpt-4.1-mini`, `azure/gpt-4o`     | `gpt-4.1-mini`, `gpt-4o`  | LiteLLM / OpenRouter provider prefix  |
 * | `openrouter/anthropic/claude-haiku-4-5`   | `claude-haiku-4-5`        | every prefix segment goes             |
 * | `models/gemini-2.5-flash`                 | `gemini-2.5-flash`        | Gemini REST resource name             |
 * | `anthropic.claude-sonnet-4-5-v1:0`        | `claude-sonnet-4-5`       | Bedrock vendor prefix, version suffix |
 * | `gpt-4.1-mini-2025-04-14`                 | unchanged                 | dated snapshots resolve by prefix in `lookupModel` |
 */

/** `anthropic.`, `us.anthropic.`, `eu.anthropic.`… : Bedrock's vendor (and region) prefix. */
const BEDROCK_PREFIX = /^(?:[a-z]{2}\.)?(?:anthropic|meta|amazon|mistral|cohere)\./;
/** Bedrock's `-v1:0` / `-v2` version suffix. */
const BEDROCK_VERSION = /-v\d+(?::\d+)?$/;

/** The canonical spelling of `model` for table lookups (see the table above). */
export function normalizeModelId(model: string): string {
  let id = model.trim().toLowerCase();
  const slash = id.lastIndexOf('/');
  if (slash !== -1) id = id.slice(slash + 1);
  if (BEDROCK_PREFIX.test(id)) id = id.replace(BEDROCK_PREFIX, '').replace(BEDROCK_VERSION, '');
  return id;
}

/**
 * What a dated or versioned alias of a model adds to its name: `-2025-04-14`, `-20250929`,
 * `-0613`, `-latest`, `-001`, `-preview-05-20`, `-exp`.
 */
const VERSION_SUFFIX =
  /^-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{3,4}|latest|preview(?:-[\d-]+)?|exp(?:-[\d-]+)?|v\d+(?::\d+)?)$/;

/**
 * True when the model an answer names is the model asked for, or a dated/version alias of
 * it (`gpt-4.1-mini` → `gpt-4.1-mini-2025-04-14`), however either is spelled.
 */
export function isSameModel(asked: string, answered: string): boolean {
  const a = normalizeModelId(asked);
  const b = normalizeModelId(answered);
  return a === b || (b.startsWith(a) && VERSION_SUFFIX.test(b.slice(a.length)));
}

/**
 * The model a call is priced by: the one asked for, unless the answer names a dated or
 * version alias of it (its own price entry, when there is one, applies). A server that
 * names another model cannot make a call free or dearer: it is priced as asked, and `note`
 * says so for the record.
 */
export function pricingModel(asked: string, answered: string): { model: string; note?: string } {
  if (answered === '' || isSameModel(asked, answered)) return { model: answered === '' ? asked : answered };
  return {
    model: asked,
    note: `the answer names model "${answered}", not "${asked}" asked for (or a version of it): priced as "${asked}"`,
  };
}
