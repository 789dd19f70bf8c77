/**
 * What an image's provider calls cost (USD, tokens) when it fails: each error leaves marked
 * with the usage and cost of the billed calls made before it, the image last sent and
 * what the cascade did (markPaid / paidOf, kept beside the error object, not in it), so the
 * error record reports what was paid. Costs are summed to 1e-10 USD, null when unknown.
 */
import { billedOf } from '../providers/billed.js';
import type { Usage } from '../providers/spec.js';
import { priced } from './call-pricing.js';
import type { CascadeConfig, ModelChoice } from './cascade-config.js';
import { EMPTY_USAGE, type RunRecord } from './record.js';

/** The sum of two costs in USD, rounded to 1e-10; null (unknown) when either is. */
export function addCost(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : Math.round((a + b) * 1e10) / 1e10;
}

/** What an image's calls cost before it failed, and the image sent: reported on its error record too. */
export interface Paid {
  usage: Usage;
  cost: number | null;
  image?: RunRecord['image'];
  /** What the last model or engine answered (OCR text, response body, unreadable answer text). */
  raw?: unknown;
  /** The output as parsed, when the answer was read but failed the schema. */
  output?: unknown;
  /** What the cascade did before the failure (triage verdict, the model escalated from, a repair call). */
  cascade?: Pick<
    RunRecord['cascade'],
    'triage' | 'escalated_from' | 'escalation_reason' | 'repair' | 'resized'
  >;
  /** Why the failed extraction made a repair call, when it did. */
  repair?: string;
  /** The image was refused for its size and sent again smaller before this failure: what happened (`cascade.resized`). */
  resized?: string;
}

const paidByError = new WeakMap<object, Paid>();

export function markPaid<E>(error: E, paid: Paid): E {
  if (typeof error === 'object' && error !== null) paidByError.set(error, paid);
  return error;
}

/** The usage and cost of the calls an image made before it failed with `error`. */
export function paidOf(error: unknown): Paid | undefined {
  return typeof error === 'object' && error !== null ? paidByError.get(error) : undefined;
}

/** What a failed call on `choice` was billed (none when unbilled), with the image it sent. */
export function billedPaid(
  config: Pick<CascadeConfig, 'priceTable'>,
  choice: ModelChoice,
  error: unknown,
  image: RunRecord['image'],
): Paid {
  const billed = billedOf(error);
  const usage = billed?.usage ?? { ...EMPTY_USAGE };
  return {
    usage,
    cost: priced(config, choice, billed?.model ?? choice.model, usage),
    image,
    ...(billed?.answer === undefined ? {} : { raw: billed.answer }),
    ...(billed?.repair === undefined ? {} : { repair: billed.repair }),
  };
}
