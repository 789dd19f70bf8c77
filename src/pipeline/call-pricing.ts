/**
 * What a provider call costs in USD: priced by the model asked for unless the answer names
 * a dated/version alias of it (model-ids.ts `pricingModel`), so a server naming another
 * model can make a call neither free nor dearer. An alias without its own price falls back
 * to the one asked for. Unknown models cost null (unknown, never 0).
 */
import { pricingModel } from '../providers/model-ids.js';
import { type CostOptions, costUsd } from '../providers/pricing.js';
import type { Usage } from '../providers/spec.js';
import type { CascadeConfig, ModelChoice } from './cascade-config.js';

/** USD for `usage` of a call to `provider` that asked for `asked` and was answered by `answered`. */
export function callCost(
  provider: string,
  asked: string,
  answered: string,
  usage: Usage,
  options: CostOptions = {},
): number | null {
  const { model } = pricingModel(asked, answered);
  return costUsd(provider, model, usage, options) ?? costUsd(provider, asked, usage, options);
}

/** USD for `usage` of a call on `choice` answered by `answered`, at the cascade's price table. */
export function priced(
  config: Pick<CascadeConfig, 'priceTable'>,
  choice: ModelChoice,
  answered: string,
  usage: Usage,
): number | null {
  const options = config.priceTable ? { table: config.priceTable } : {};
  return callCost(choice.provider.id, choice.model, answered, usage, options);
}
