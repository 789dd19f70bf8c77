/**
 * The cost cascade in `estimate` (issue 11): what `--triage local` and `--escalate-to` do
 * to a run's bill, calling no provider.
 *
 * - Triage with the local engine is free and needs no network, so estimate runs it on each
 *   image it would send (at the size run triages at) and prices only the relevant ones:
 *   run skips the rest. A provider's triage is an answer that costs a call: not run here.
 * - Escalation happens when the first model's answer fails the schema or is not confident
 *   enough, which is known only from the answer. It is priced as a range — none escalate
 *   (the first model's cost) … all escalate (each image paid again on the stronger model at
 *   the size that model keeps) — and, when a rate is known (`--escalation-rate R`, or the
 *   share of a previous run's answered records that escalated, `--results FILE`, else the
 *   latest run with escalations that --state-dir knows), the expected figure: first model +
 *   R × the stronger model. The assumption is in the output.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { VisionpipeError } from '../errors.js';
import { preprocessImage } from '../image/preprocess.js';
import type { Pattern } from '../patterns/types.js';
import { choose } from '../pipeline/model-choice.js';
import type { RunRecord } from '../pipeline/record.js';
import { planImage } from '../pipeline/sizing.js';
import { costUsd, type PriceTable } from '../providers/pricing.js';
import type { Provider } from '../providers/spec.js';
import type { EstimatedImage, Plan } from './estimate.js';

/** A local triage verdict on one image, as run's record `cascade.triage` has it. */
export interface EstimateVerdict {
  relevant: boolean;
  confidence: number;
  reason: string;
}

/** Asks the local engine `question` about `bytes` as run's triage would (no network, free). */
export function localTriage(
  local: Provider,
  question: string | undefined,
  triageQuestion: (pattern: Pattern) => string,
): (bytes: Buffer, label: string, sha256: string, pattern: Pattern) => Promise<EstimateVerdict> {
  // The size local triage reads an image at: the local engine's own (model-choice.ts).
  const { preprocess } = choose(local, undefined, undefined, undefined);
  return async (bytes, label, sha256, pattern) => {
    const prepared = await preprocessImage(bytes, preprocess, label);
    const result = await local.ask!(
      {
        image: {
          data: prepared.data,
          format: prepared.format,
          width: prepared.width,
          height: prepared.height,
          sha256,
        },
        question: question ?? triageQuestion(pattern),
        pattern,
        model: local.defaultModel,
      },
      new AbortController().signal,
    );
    return {
      relevant: result.answer,
      confidence: result.confidence,
      reason: result.reason ?? (result.answer ? 'relevant' : 'not relevant'),
    };
  };
}

/** What escalating `image` would cost on the stronger model: tokens and USD (null: unknown price). */
export function escalationPricer(
  provider: Provider,
  model: string | undefined,
  prices: { table?: PriceTable },
): {
  model: string;
  price: (image: EstimatedImage, pattern: Pattern) => { tokens: number; cost_usd: number | null };
} {
  const choice = choose(provider, model, undefined, undefined);
  return {
    model: choice.model,
    price: (image, pattern) => {
      // A document's pages: each priced page at the first priced page's size, as sent.
      const pages = image.pages_priced ?? 1;
      const width = image.pages === undefined ? image.original?.width : image.width;
      const height = image.pages === undefined ? image.original?.height : image.height;
      if (!width || !height) return { tokens: 0, cost_usd: 0 };
      const plan = planImage(
        provider,
        choice.model,
        pattern,
        choice.preprocess.limits,
        undefined,
        width,
        height,
      );
      const cost = costUsd(provider.id, choice.model, { ...plan.tokens, estimated: true }, prices);
      return {
        tokens: pages * (plan.tokens.input_tokens + plan.tokens.output_tokens),
        cost_usd: cost === null ? null : pages * cost,
      };
    },
  };
}

/** Where the expected escalation rate comes from. */
export interface EscalationRate {
  rate: number;
  source: string;
}

/** Answered records (cache miss, not skipped) of a results file, and how many escalated. */
async function countEscalations(file: string): Promise<{ answered: number; escalated: number }> {
  const text = await readFile(file, 'utf8');
  let answered = 0;
  let escalated = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let record: Partial<RunRecord>;
    try {
      record = JSON.parse(line) as Partial<RunRecord>;
    } catch {
      continue;
    }
    if (record.status === 'skipped' || record.cache !== 'miss') continue;
    answered++;
    if (record.cascade?.escalated_from) escalated++;
  }
  return { answered, escalated };
}

const rateOf = (counted: { answered: number; escalated: number }) =>
  Math.round((counted.escalated / counted.answered) * 1e4) / 1e4;

/**
 * The share of a previous run's answered records (cache miss, not skipped) that escalated
 * (`cascade.escalated_from` set), from its results file (`run -o`, JSONL); null when it has
 * no answered record.
 */
export async function escalationRateFromResults(file: string): Promise<EscalationRate | null> {
  let counted: { answered: number; escalated: number };
  try {
    counted = await countEscalations(file);
  } catch (error) {
    throw new VisionpipeError(
      'NOT_FOUND',
      `--results ${file}: cannot read it (${(error as Error).message})`,
      {
        option: 'results',
      },
    );
  }
  if (counted.answered === 0) return null;
  return {
    rate: rateOf(counted),
    source: `${counted.escalated} of ${counted.answered} answered records of ${file} escalated`,
  };
}

/**
 * The rate of the latest run the state directory knows (its `runs/*.json`: resume.ts) on the
 * same provider (and model, when given) whose results show escalations: a run without
 * escalation would say 0 and is not evidence. Null when there is none.
 */
export async function escalationRateFromStateDir(
  stateDir: string,
  provider: string,
  model: string | undefined,
): Promise<EscalationRate | null> {
  const dir = path.join(stateDir, 'runs');
  const names = await readdir(dir).catch(() => [] as string[]);
  const runs: Array<{ out: string; mtime: number }> = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    try {
      const run = JSON.parse(await readFile(path.join(dir, name), 'utf8')) as Record<string, unknown>;
      if (typeof run.out !== 'string' || run.provider !== provider) continue;
      if (model !== undefined && run.model !== model) continue;
      runs.push({ out: run.out, mtime: (await stat(run.out)).mtimeMs });
    } catch {}
  }
  runs.sort((a, b) => b.mtime - a.mtime);
  for (const run of runs) {
    const counted = await countEscalations(run.out).catch(() => undefined);
    if (!counted || counted.escalated === 0) continue;
    return {
      rate: rateOf(counted),
      source: `${counted.escalated} of ${counted.answered} answered records of ${run.out} escalated (the latest run with escalations in ${stateDir})`,
    };
  }
  return null;
}

export interface TriageTotals {
  model: string;
  /** Images local triage read. */
  triaged: number;
  relevant: number;
  /** Run would skip these: not priced. */
  not_relevant: number;
  assumption: string;
}

/** Tokens (input + output) and USD of a run with escalation. */
export interface EscalationPlan {
  tokens: number;
  cost_usd: number | null;
}

export interface EscalationTotals {
  to: string;
  /** Images (or documents) sent to the first model, each of which could escalate. */
  images: number;
  /** The first model only (none escalate). */
  min: EscalationPlan;
  /** Every image escalates: paid on the first model, then again on `to`. */
  max: EscalationPlan;
  /** First model + rate × `to`, when a rate is known; else null. */
  expected: EscalationPlan | null;
  rate: number | null;
  rate_source: string | null;
  assumption: string;
}

const addCost = (a: number | null, b: number | null) => (a === null || b === null ? null : a + b);
const round = (usd: number | null) => (usd === null ? null : Math.round(usd * 1e6) / 1e6);

/** Adds up the escalation range over the images to send. */
export class EscalationTotaller {
  private images = 0;
  private tokens = 0;
  private cost: number | null = 0;

  constructor(
    private readonly to: string,
    private readonly rate: EscalationRate | null,
    private readonly below: number | undefined,
  ) {}

  add(escalation: { tokens: number; cost_usd: number | null }): void {
    this.images++;
    this.tokens += escalation.tokens;
    this.cost = addCost(this.cost, escalation.cost_usd);
  }

  totals(first: Plan): EscalationTotals {
    const plan = (share: number): EscalationPlan => ({
      tokens: first.tokens + Math.round(share * this.tokens),
      cost_usd: round(
        first.cost_usd === null || this.cost === null ? null : first.cost_usd + share * this.cost,
      ),
    });
    const when =
      this.below === undefined
        ? 'its answer fails the schema'
        : `its answer fails the schema or its confidence is below ${this.below}`;
    const rate = this.rate;
    return {
      to: this.to,
      images: this.images,
      min: plan(0),
      max: plan(1),
      expected: rate ? plan(rate.rate) : null,
      rate: rate?.rate ?? null,
      rate_source: rate?.source ?? null,
      assumption:
        `an image is sent again to ${this.to} when ${when}, which is known only from the answer: ` +
        `min = none escalate, max = all escalate (each paid on both models), ` +
        (rate
          ? `expected = first model + ${rate.rate} × ${this.to} (${rate.source})`
          : `no expected figure: give --escalation-rate R or --results FILE (a previous run's -o); no run in --state-dir showed escalations`),
    };
  }
}
