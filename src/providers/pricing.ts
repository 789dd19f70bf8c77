/**
 * The price table: USD per million input/output tokens per model (or a price per image
 * for per-image backends), and the batch discount per provider. The defaults live in
 * pricing.json beside this file, with the page each provider's figures come from; a
 * config file can override any entry (prices change more often than releases).
 */
import { z } from 'zod';
import { VisionpipeError } from '../errors.js';
import defaults from './pricing.json' with { type: 'json' };
import type { Usage } from './spec.js';
import { lookupModel } from './tokens.js';

const price = z.number().finite().nonnegative();

const modelPriceSchema = z
  .object({
    /** USD per 1M input tokens (image tokens included). */
    input: price.optional(),
    /** USD per 1M output tokens (reasoning/thinking tokens included). */
    output: price.optional(),
    /** USD per image, for backends that bill per image; null = unknown. */
    perImage: price.nullable().optional(),
  })
  .strict();

const providerPricesSchema = z
  .object({
    source: z.string().optional(),
    /** Fraction taken off for batch jobs (0.5 = half price). */
    batchDiscount: z.number().min(0).max(1).optional(),
    models: z.record(z.string(), modelPriceSchema).optional(),
  })
  .strict();

const priceTableSchema = z.record(z.string(), providerPricesSchema);

export type ModelPrice = z.infer<typeof modelPriceSchema>;
export interface ProviderPrices {
  source?: string;
  batchDiscount: number;
  models: Record<string, ModelPrice>;
}
export type PriceTable = Record<string, ProviderPrices>;
/** What a config file may set: any provider, any model, any field. */
export type PriceOverrides = z.input<typeof priceTableSchema>;

function parseTable(value: unknown, where: string): z.infer<typeof priceTableSchema> {
  const parsed = priceTableSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path.join('.') ?? '';
  throw new VisionpipeError(
    'INVALID_OPTION',
    `${where}: ${path === '' ? '' : `${path}: `}${issue?.message ?? 'invalid price table'}`,
    { option: 'prices' },
  );
}

/** Checks a price table a config gives (INVALID_OPTION naming the bad entry). */
export function parsePriceOverrides(overrides: unknown): PriceOverrides {
  return parseTable(overrides, 'price overrides');
}

/** The built-in table merged with `overrides` (model entries are merged field by field). */
export function loadPriceTable(overrides?: unknown): PriceTable {
  const table: PriceTable = {};
  const layers = [parseTable(defaults, 'pricing.json')];
  if (overrides !== undefined) layers.push(parseTable(overrides, 'price overrides'));
  for (const layer of layers) {
    for (const [provider, prices] of Object.entries(layer)) {
      const current = table[provider] ?? { batchDiscount: 0, models: {} };
      const models = { ...current.models };
      for (const [model, entry] of Object.entries(prices.models ?? {})) {
        models[model] = { ...models[model], ...entry };
      }
      const source = prices.source ?? current.source;
      table[provider] = {
        ...(source === undefined ? {} : { source }),
        batchDiscount: prices.batchDiscount ?? current.batchDiscount,
        models,
      };
    }
  }
  return table;
}

let defaultTable: PriceTable | undefined;

/** The built-in table, read once. */
export function defaultPriceTable(): PriceTable {
  defaultTable ??= loadPriceTable();
  return defaultTable;
}

/** The price of `model` (exact name or a dated snapshot of it), or undefined when unknown. */
export function modelPrice(
  provider: string,
  model: string,
  table: PriceTable = defaultPriceTable(),
): ModelPrice | undefined {
  const prices = table[provider];
  return prices === undefined ? undefined : lookupModel(prices.models, model);
}

export interface CostOptions {
  /** Priced as a batch job (the provider's batch discount applies). */
  batch?: boolean;
  table?: PriceTable;
}

/**
 * USD for one call, from its usage. Null when the model has no known price, so an
 * unknown price is never reported as free.
 */
export function costUsd(
  provider: string,
  model: string,
  usage: Usage,
  options: CostOptions = {},
): number | null {
  const table = options.table ?? defaultPriceTable();
  const entry = modelPrice(provider, model, table);
  if (entry === undefined) return null;
  const factor = options.batch ? 1 - (table[provider]?.batchDiscount ?? 0) : 1;
  let usd: number;
  if (entry.perImage !== undefined) {
    if (entry.perImage === null) return null;
    usd = entry.perImage;
  } else {
    if (entry.input === undefined || entry.output === undefined) return null;
    usd = (usage.input_tokens * entry.input + usage.output_tokens * entry.output) / 1_000_000;
  }
  // Round away float noise (0.30000000000000004) without losing sub-cent precision.
  return Math.round(usd * factor * 1e10) / 1e10;
}
