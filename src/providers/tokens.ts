/**
 * Image-token estimators: the providers' published formulas, as pure functions. Each
 * applies the provider's own resizing first (through `targetSize()` and the size
 * profiles, so estimates and preprocessing can never disagree), then counts tiles or
 * patches. Used before a call (cost estimates, TPM pacing) and for `usage.image_tokens`.
 */
import { cells, patchCount, SIZE_PROFILES, targetSize } from '../image/profiles.js';
import { normalizeModelId } from './model-ids.js';

export type OpenAIDetail = 'low' | 'high' | 'auto';

/** How an OpenAI model meters images: 512-px tiles (base + per tile) or 32-px patches × a multiplier. */
export type OpenAIVisionScheme =
  | { kind: 'tiles'; base: number; tile: number }
  | { kind: 'patches'; multiplier: number };

/**
 * Per-model figures from OpenAI's "Calculating costs" section,
 * https://platform.openai.com/docs/guides/images-vision#calculating-costs :
 * tiles — gpt-5 70/140; 4o, 4.1, 4.5 85/170; 4o-mini 2833/5667; o1, o1-pro, o3 75/150;
 * computer-use-preview 65/129. Patches — gpt-5-mini 1.62, gpt-5-nano 2.46,
 * gpt-4.1-mini 1.62, gpt-4.1-nano 2.46, o4-mini 1.72 (community measurements report
 * 1.2 and 1.5 for gpt-5-mini/nano; the documented figures are used until OpenAI says otherwise).
 */
const OPENAI_SCHEMES: Record<string, OpenAIVisionScheme> = {
  'gpt-5': { kind: 'tiles', base: 70, tile: 140 },
  'gpt-5-chat-latest': { kind: 'tiles', base: 70, tile: 140 },
  'gpt-5-mini': { kind: 'patches', multiplier: 1.62 },
  'gpt-5-nano': { kind: 'patches', multiplier: 2.46 },
  'gpt-4o': { kind: 'tiles', base: 85, tile: 170 },
  'chatgpt-4o': { kind: 'tiles', base: 85, tile: 170 },
  'gpt-4o-mini': { kind: 'tiles', base: 2833, tile: 5667 },
  'gpt-4.1': { kind: 'tiles', base: 85, tile: 170 },
  'gpt-4.1-mini': { kind: 'patches', multiplier: 1.62 },
  'gpt-4.1-nano': { kind: 'patches', multiplier: 2.46 },
  'gpt-4.5': { kind: 'tiles', base: 85, tile: 170 },
  o1: { kind: 'tiles', base: 75, tile: 150 },
  'o1-pro': { kind: 'tiles', base: 75, tile: 150 },
  o3: { kind: 'tiles', base: 75, tile: 150 },
  'o4-mini': { kind: 'patches', multiplier: 1.72 },
  'computer-use-preview': { kind: 'tiles', base: 65, tile: 129 },
};

/** gpt-4o's figures: what OpenAI-compatible servers (vLLM, Ollama…) are estimated with. */
const DEFAULT_OPENAI_SCHEME: OpenAIVisionScheme = { kind: 'tiles', base: 85, tile: 170 };

/**
 * The table entry for `model`: an exact key, else the longest key followed by `-`
 * (dated snapshots such as `gpt-4o-2024-08-06`, `claude-sonnet-4-5-20250929`). The name is
 * first normalised (model-ids.ts: case, gateway prefixes such as `openai/`, `models/`), so
 * profile and price never depend on how the model was spelled.
 */
export function lookupModel<T>(table: Readonly<Record<string, T>>, written: string): T | undefined {
  if (Object.hasOwn(table, written)) return table[written];
  const model = normalizeModelId(written);
  if (Object.hasOwn(table, model)) return table[model];
  let best: string | undefined;
  for (const key of Object.keys(table)) {
    if (model.startsWith(`${key}-`) && (best === undefined || key.length > best.length)) best = key;
  }
  return best === undefined ? undefined : table[best];
}

export function openaiVisionScheme(model: string): OpenAIVisionScheme {
  return lookupModel(OPENAI_SCHEMES, model) ?? DEFAULT_OPENAI_SCHEME;
}

/**
 * 32-px patches after OpenAI's shrink-to-budget step (documented example: 1800×2400 →
 * 1056×1408 → 33×44 = 1452), before the model multiplier: the `openai-patches` profile's
 * own budget, so what is sent and what is counted cannot disagree.
 */
export function openaiPatches(width: number, height: number): number {
  return patchCount(width, height, SIZE_PROFILES['openai-patches'].patches!);
}

/**
 * OpenAI image tokens. Tile models: detail "low" is the model's base; "high" (and
 * "auto", counted as high so estimates never fall short) fits 2048×2048, then the
 * shortest side to 768 (the `openai-high` profile), then base + tile × 512-px tiles:
 * 1024×1024 → 765, 2048×4096 → 1105 for gpt-4o. Patch models ignore detail.
 */
export function openaiImageTokens(
  width: number,
  height: number,
  model: string,
  detail: OpenAIDetail = 'high',
): number {
  const scheme = openaiVisionScheme(model);
  if (scheme.kind === 'patches') return Math.round(openaiPatches(width, height) * scheme.multiplier);
  if (detail === 'low') return scheme.base;
  const size = targetSize(width, height, SIZE_PROFILES['openai-high']);
  return scheme.base + scheme.tile * cells(size.width, 512) * cells(size.height, 512);
}

/**
 * Anthropic image tokens: one visual token per 28×28 patch, ⌈w/28⌉ × ⌈h/28⌉, after the
 * resize to the native resolution (long edge ≤ 1568 px, ~1.15 MP: the `anthropic`
 * profile). 1000×1000 → 1296. Source: https://platform.claude.com/docs/en/build-with-claude/vision
 * (older pages give the approximation w×h/750, 1334 for the same image).
 */
export function anthropicImageTokens(width: number, height: number): number {
  const size = targetSize(width, height, SIZE_PROFILES.anthropic);
  return cells(size.width, 28) * cells(size.height, 28);
}

const GEMINI_TILE_TOKENS = 258;

/**
 * Gemini 2.x image tokens for the image as sent (Gemini tiles, it does not shrink):
 * 258 when both sides are ≤ 384 px; otherwise crop unit = ⌊min(w, h) / 1.5⌋ (kept
 * within 256–768 px), tiles = ⌈w/unit⌉ × ⌈h/unit⌉, 258 tokens each — 960×540 → 6 tiles
 * → 1548. Source: https://ai.google.dev/gemini-api/docs/image-understanding (token calculation).
 */
export function geminiImageTokens(width: number, height: number): number {
  if (width <= 384 && height <= 384) return GEMINI_TILE_TOKENS;
  const unit = Math.min(768, Math.max(256, Math.floor(Math.min(width, height) / 1.5)));
  return cells(width, unit) * cells(height, unit) * GEMINI_TILE_TOKENS;
}

/** Text tokens when no tokenizer answer is available: ~4 characters per token for English. */
export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
