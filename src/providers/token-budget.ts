/**
 * A 429 for a request that alone needs more tokens than the account's per-minute budget
 * holds: no wait lets it through, so it is a refusal for size (IMAGE_TOO_LARGE), never a
 * throttle. Told apart from a 429 for a budget used up by earlier requests (a rate limit,
 * waited out) by the numbers: the provider's own (OpenAI names what it counted), else what
 * the provider estimated the request needs (Anthropic names only the limit).
 */
import type { ProviderErrorBody } from './http-errors.js';

/** Which tokens a per-minute budget counts. */
export type TokenBudgetKind = 'tokens' | 'input' | 'output';

/** A request refused because it alone needs more tokens than a per-minute budget holds. */
export interface OverTokenBudget {
  /** The budget, in tokens per minute. */
  limit: number;
  /** What this one request needs (the provider's count, or the estimate), in tokens. */
  requested: number;
  /** `tokens`: input, image and max output together (OpenAI); `input` or `output` alone (Anthropic). */
  kind: TokenBudgetKind;
  /** True when `requested` is visionpipe's estimate, not the provider's count. */
  estimated: boolean;
}

/** What the request sent is estimated to need, for a provider that names only the limit. */
export interface RequestTokens {
  /** Input tokens: the images by the provider's formula, and the text. */
  input: number;
  /** The most the answer may hold (`max_tokens`). */
  output: number;
}

/**
 * OpenAI's 429 for a request that alone is over the tokens-per-minute budget: "Request too
 * large for gpt-4o in organization org-… on tokens per min (TPM): Limit 30000, Requested
 * 36278. The input or output tokens must be reduced in order to run successfully." (type
 * `tokens`, code `rate_limit_exceeded`; reports: Aider-AI/aider#1880, TheR1D/shell_gpt#653,
 * enricoros/big-AGI#636, vanna-ai/vanna-flask#11). Unlike "Rate limit reached for … Used U,
 * Requested M. Please try again in …", no wait can let it through.
 */
const OPENAI_TOO_LARGE = /request too large for\b.*?\blimit:? (\d+), requested:? (\d+)/is;

/**
 * Anthropic's 429 (`rate_limit_error`): "This request would exceed the rate limit for your
 * organization (<id>) of 20,000 input tokens per minute. For details, refer to: …/rate-limits.
 * You can see the response headers for current usage. Please reduce the prompt length or the
 * maximum tokens requested, or try again later." (reports: OpenHands/OpenHands#9259,
 * BoltAI/BoltAI#338, FoundationAgents/OpenManus#746, continuedev/continue#9623; "output
 * tokens per minute" alike). The same words whether the minute's budget was used up by
 * earlier requests or this request alone is over it: only the limit is named, so the
 * request's own estimate decides.
 */
const ANTHROPIC_PER_MINUTE =
  /would exceed the rate limit for your organization\b.*?\bof ([\d,]+) (input|output) tokens per minute/is;

/**
 * The per-minute budget this refusal says the request alone is over, or undefined when it
 * is (or may be) a budget used up by earlier requests. `estimate`: what the request sent
 * is estimated to need, for refusals that name only the limit; without it they stay rate limits.
 */
export function overTokenBudget(
  info: ProviderErrorBody,
  estimate?: RequestTokens,
): OverTokenBudget | undefined {
  const message = info.message ?? '';
  const openai = OPENAI_TOO_LARGE.exec(message);
  if (openai) {
    const limit = Number(openai[1]);
    const requested = Number(openai[2]);
    return requested > limit ? { limit, requested, kind: 'tokens', estimated: false } : undefined;
  }
  const anthropic = ANTHROPIC_PER_MINUTE.exec(message);
  if (anthropic && estimate !== undefined) {
    const limit = Number(anthropic[1]!.replaceAll(',', ''));
    const kind = anthropic[2]!.toLowerCase() === 'output' ? 'output' : 'input';
    const requested = kind === 'output' ? estimate.output : estimate.input;
    return requested > limit ? { limit, requested, kind, estimated: true } : undefined;
  }
  return undefined;
}

/** The error message's words for `over`: what was asked, the limit, the next step. */
export function overTokenBudgetWords(over: OverTokenBudget): string {
  const unit = over.kind === 'tokens' ? 'tokens' : `${over.kind} tokens`;
  const needs =
    over.kind === 'output'
      ? `the request asks for up to ${over.requested} output tokens (max_tokens)`
      : `the request needs ${over.estimated ? 'about ' : ''}${over.requested} ${unit}${over.estimated ? ' (estimated)' : ''}`;
  // `--detail` is OpenAI's image setting only: an Anthropic budget (`input`) is not offered it.
  const step =
    over.kind === 'output'
      ? 'ask the provider for a higher output-token limit'
      : over.kind === 'tokens'
        ? 'send smaller images: --detail low or --max-image-tokens; or ask the provider for a higher limit'
        : 'send smaller images: --max-image-tokens or --profile; or ask the provider for a higher limit';
  return `${needs}, over the account's limit of ${over.limit} ${unit} per minute; no wait lets it through (${step})`;
}

const overBudgets = new WeakMap<object, OverTokenBudget>();

/** Marks `error` as a refusal of a request alone over `over`. */
export function markOverTokenBudget<E extends object>(error: E, over: OverTokenBudget): E {
  overBudgets.set(error, over);
  return error;
}

/** The per-minute budget a request alone was over (IMAGE_TOO_LARGE from a 429), if that was the refusal. */
export function overTokenBudgetOf(error: unknown): OverTokenBudget | undefined {
  return typeof error === 'object' && error !== null ? overBudgets.get(error) : undefined;
}
