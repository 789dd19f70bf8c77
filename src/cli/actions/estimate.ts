/**
 * What `visionpipe estimate` does (flags and help: ../estimate.ts): measures each input as
 * the pipeline would send it, calling no provider, and streams rows (or JSON array items)
 * as inputs are measured, then the totals beside the naive plan.
 */
import path from 'node:path';
import { openCache } from '../../cache/open-cache.js';
import { VisionpipeError } from '../../errors.js';
import { triageQuestion } from '../../pipeline/model-choice.js';
import { createProvider, type ProviderOptions, withBaseUrl } from '../../providers/registry.js';
import { type EstimatedImage, EstimateTotaller, estimateItem } from '../../runs/estimate.js';
import {
  EscalationTotaller,
  escalationPricer,
  escalationRateFromResults,
  escalationRateFromStateDir,
  localTriage,
  type TriageTotals,
} from '../../runs/estimate-cascade.js';
import { argumentsAndList, expandInputs } from '../../runs/inputs.js';
import { parseModelRef } from '../cost-flags.js';
import { pageSelectionFrom } from '../document-flags.js';
import type { EstimateFlags } from '../estimate.js';
import { fixedWidth } from '../format.js';
import { skippedFilesText } from '../summary-print.js';
import { buildPipelineSet, planPipelines } from './pipelines.js';
import { profileFlag } from './run-checks.js';

const usd = (value: number | null) => (value === null ? 'unknown' : `$${value.toFixed(4)}`);

/** `, 1 blank, 2 cached`: a document's selected pages left unpriced, and why. */
function skippedPages(image: EstimatedImage): string {
  const blank = image.blank_pages?.length ?? 0;
  const cached = image.cached_pages?.length ?? 0;
  return `${blank > 0 ? `, ${blank} blank` : ''}${cached > 0 ? `, ${cached} cached` : ''}`;
}

function row(image: EstimatedImage): string {
  const size = image.width === null ? '' : `${image.width}×${image.height}`;
  const original = image.original ? `${image.original.width}×${image.original.height}` : '';
  const note = image.error ? `${image.error.code}` : image.status;
  const pages =
    image.pages === undefined
      ? ''
      : ` (${image.pages_priced} of ${image.pages} pages${skippedPages(image)}, ${usd(image.cost_per_page_usd ?? null)}/page)`;
  return `${fixedWidth(note, 10)} ${fixedWidth(original, 11, 'right')} → ${fixedWidth(size, 10)} ${fixedWidth(String(image.image_tokens), 7, 'right')} img tok ${fixedWidth(usd(image.cost_usd), 10, 'right')}  ${image.input}${pages}`;
}

/** The batch APIs run --batch-api uses (src/providers/batch/). */
const BATCH_PROVIDERS = ['openai', 'anthropic'];

/**
 * Refuses what estimate cannot price: a provider's triage (each verdict is a paid answer),
 * escalation with --batch-api (as run), a rate without --escalate-to, and --batch-api for a
 * provider without a batch API, each with an INVALID_OPTION naming it.
 */
export function checkEstimateFlags(flags: EstimateFlags): void {
  if (flags.triage !== undefined) {
    const triage = parseModelRef(flags.triage, '--triage');
    if (triage.provider !== 'local')
      throw new VisionpipeError(
        'INVALID_OPTION',
        `estimate does not run --triage ${flags.triage}: its verdicts are paid answers, known only from a run. ` +
          'estimate runs --triage local (free, no network) and prices only what it finds relevant; ' +
          'without --triage it prices every image (an upper bound of a run with triage).',
        { option: 'triage' },
      );
  }
  if (flags.triageBaseUrl !== undefined)
    throw new VisionpipeError(
      'INVALID_OPTION',
      `estimate does not use --triage-base-url: the only triage it runs is --triage local, on this machine (no endpoint); ` +
        'a triage model on an endpoint gives paid answers, known only from a run. Leave --triage-base-url out to estimate.',
      { option: 'triageBaseUrl' },
    );
  if (flags.escalateTo !== undefined) parseModelRef(flags.escalateTo, '--escalate-to');
  for (const [option, value] of [
    ['--escalate-below', flags.escalateBelow],
    ['--escalate-base-url', flags.escalateBaseUrl],
    ['--escalation-rate', flags.escalationRate],
    ['--results', flags.results],
  ] as const) {
    if (value !== undefined && flags.escalateTo === undefined)
      throw new VisionpipeError('INVALID_OPTION', `${option} needs --escalate-to provider:model`, {
        option,
      });
  }
  const provider = flags.provider;
  if (flags.batchApi && flags.escalateTo !== undefined)
    throw new VisionpipeError(
      'INVALID_OPTION',
      '--batch-api and --escalate-to cannot be combined: escalation needs an answer now (as in run)',
      { option: 'batchApi' },
    );
  if (flags.batchApi && !BATCH_PROVIDERS.includes(provider))
    throw new VisionpipeError(
      'INVALID_OPTION',
      `--batch-api: provider "${provider}" has no batch API in visionpipe (${BATCH_PROVIDERS.join(', ')} do)`,
      { option: 'batchApi' },
    );
}

/** The local triage and escalation pricing the flags ask for; `close` ends what they opened. */
async function cascadeFor(flags: EstimateFlags, providerOptions: ProviderOptions) {
  const prices = flags.priceTable ? { table: flags.priceTable } : {};
  // Read first: a results file that cannot be read stops here, before anything is opened.
  const rate =
    flags.escalationRate !== undefined
      ? { rate: flags.escalationRate, source: '--escalation-rate' }
      : flags.results
        ? await escalationRateFromResults(flags.results)
        : flags.escalateTo
          ? await escalationRateFromStateDir(path.resolve(flags.stateDir), flags.provider, flags.model)
          : null;
  const local = flags.triage ? createProvider('local', providerOptions) : undefined;
  const to = flags.escalateTo ? parseModelRef(flags.escalateTo, '--escalate-to') : undefined;
  // As run: the escalation's own endpoint (--escalate-base-url), even on the main provider's id.
  const escalationProvider = to
    ? createProvider(to.provider, withBaseUrl(providerOptions, to.provider, flags.escalateBaseUrl))
    : undefined;
  const pricer = escalationProvider ? escalationPricer(escalationProvider, to?.model, prices) : undefined;
  return {
    triage: local ? localTriage(local, flags.triageQuestion, triageQuestion) : undefined,
    triageTotals: local ? { triaged: 0, relevant: 0 } : undefined,
    pricer,
    escalation:
      escalationProvider && pricer
        ? // As run: --min-confidence escalates too when --escalate-below is not given.
          new EscalationTotaller(
            `${escalationProvider.id}:${pricer.model}`,
            rate,
            flags.escalateBelow ?? flags.minConfidence,
          )
        : undefined,
    close: async () => {
      await local?.close?.();
      await escalationProvider?.close?.();
    },
  };
}

const TRIAGE_ASSUMPTION =
  'local triage ran here on each image to send (free, no network) at the size run triages at; ' +
  'images it found not relevant are not priced, as run skips them; documents are priced without triage';

export async function runEstimate(inputs: string[], flags: EstimateFlags): Promise<void> {
  checkEstimateFlags(flags);
  const profile = profileFlag(flags.profile);
  const plan = await planPipelines(flags, profile ? { profile } : {});
  const cascade = await cascadeFor(flags, plan.providerOptions);
  const cache = await openCache({
    spec: flags.cache,
    stateDir: path.resolve(flags.stateDir),
    warn: (m) => process.stderr.write(`warning: ${m}\n`),
  });
  // As run reads inputs: larger ones are refused, private URLs only when allowed.
  const sourceLimits = {
    maxInputBytes: flags.maxInputBytes,
    allowPrivateNetworks: flags.allowPrivateUrls ?? false,
  };
  const pipelines = buildPipelineSet(plan, {
    cache,
    warn: () => {},
    sourceLimits,
    timeoutMs: 120_000,
    ...(flags.maxImageTokens === undefined ? {} : { maxImageTokens: flags.maxImageTokens }),
  });
  const pages = pageSelectionFrom(flags);
  const totals = new EstimateTotaller();
  const seen = new Set<string>();
  const out = process.stdout;
  let first = true;
  /** Files in the folders that are not images or documents (runs/inputs.ts): said, not priced. */
  let skippedFiles = 0;
  if (flags.json) out.write('{"images":[');
  try {
    for await (const item of expandInputs(argumentsAndList(inputs, flags.list), {
      exclude: [path.resolve(flags.stateDir)],
      onSkipped: () => skippedFiles++,
    })) {
      const pipeline = await pipelines.pipelineFor(item);
      const { image, naiveCost, naive } = await estimateItem(item, pipeline, seen, {
        ...(flags.priceTable ? { priceTable: flags.priceTable } : {}),
        sourceLimits,
        pages,
        pagesMode: flags.pages ?? 'document',
        ...(flags.batchApi ? { batch: true } : {}),
        ...(cascade.triage ? { triage: cascade.triage } : {}),
      });
      if (image.triage && cascade.triageTotals) {
        cascade.triageTotals.triaged++;
        if (image.triage.relevant) cascade.triageTotals.relevant++;
      }
      if (image.status === 'send' && cascade.pricer && cascade.escalation) {
        image.escalation = cascade.pricer.price(image, pipeline.pattern);
        cascade.escalation.add(image.escalation);
      }
      totals.add(image, naiveCost, naive);
      if (flags.json) {
        out.write(`${first ? '' : ','}\n${JSON.stringify(image)}`);
        first = false;
      } else out.write(`${row(image)}\n`);
    }
  } finally {
    await pipelines.close();
    await cache.close();
    await cascade.close();
  }
  const base = totals.toJSON();
  const triage: TriageTotals | undefined = cascade.triageTotals
    ? {
        model: 'local',
        ...cascade.triageTotals,
        not_relevant: cascade.triageTotals.triaged - cascade.triageTotals.relevant,
        assumption: TRIAGE_ASSUMPTION,
      }
    : undefined;
  const escalation = cascade.escalation?.totals(base.optimized);
  const t = {
    ...base,
    skipped_files: skippedFiles,
    ...(triage ? { triage } : {}),
    ...(escalation ? { escalation } : {}),
  };
  if (flags.json) {
    out.write(`\n],"totals":${JSON.stringify(t)}}\n`);
    return;
  }
  out.write(
    `\n${t.images} inputs: ${t.to_send} to send${t.triaged_out > 0 ? `, ${t.triaged_out} not relevant (triage)` : ''}${t.document_pages > 0 ? ` (documents: ${t.document_pages} pages priced)` : ''}, ${t.duplicates} duplicates, ${t.cached} already cached${t.skipped > 0 ? `, ${t.skipped} skipped (every page blank)` : ''}, ${t.errors} unreadable${t.skipped_files > 0 ? `; ${skippedFilesText(t.skipped_files)}` : ''}\n` +
      `naive      ${fixedWidth(t.naive.tokens.toLocaleString('en-US'), 12, 'right')} tokens  ${usd(t.naive.cost_usd)}\n` +
      `optimized  ${fixedWidth(t.optimized.tokens.toLocaleString('en-US'), 12, 'right')} tokens  ${usd(t.optimized.cost_usd)}` +
      `${t.ratio === null ? '' : `  (${fewerTokens(t.naive.tokens, t.optimized.tokens, t.ratio)})`}\n`,
  );
  if (triage)
    out.write(
      `triage     local on ${triage.triaged} images: ${triage.relevant} relevant, ${triage.not_relevant} not relevant (not priced)\n` +
        `           assumption: ${triage.assumption}\n`,
    );
  if (escalation) {
    const figure = (p: { tokens: number; cost_usd: number | null }) =>
      `${p.tokens.toLocaleString('en-US')} tokens ${usd(p.cost_usd)}`;
    out.write(
      `escalation to ${escalation.to}, ${escalation.images} images: none escalate ${figure(escalation.min)} … all escalate ${figure(escalation.max)}` +
        `${escalation.expected ? `; expected at rate ${escalation.rate}: ${figure(escalation.expected)}` : ''}\n` +
        `           assumption: ${escalation.assumption}\n`,
    );
  }
}

/** "3.2× fewer tokens"; "same as naive" when nothing is saved (not "1× fewer"). */
function fewerTokens(naive: number, optimized: number, ratio: number): string {
  if (optimized >= naive) return optimized === naive ? 'same as naive' : 'more than naive';
  return `${ratio}× fewer tokens`;
}
