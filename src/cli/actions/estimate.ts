/**
 * What `visionpipe estimate` does (flags and help: ../estimate.ts): measures each input as
 * the pipeline would send it, calling no provider, and streams rows (or JSON array items)
 * as inputs are measured, then the totals beside the naive plan.
 */
import path from 'node:path';
import { openCache } from '../../cache/open-cache.js';
import { VisionpipeError } from '../../errors.js';
import { type EstimatedImage, EstimateTotaller, estimateItem } from '../../runs/estimate.js';
import { argumentsAndList, expandInputs } from '../../runs/inputs.js';
import { pageSelectionFrom } from '../document-flags.js';
import type { EstimateFlags } from '../estimate.js';
import { fixedWidth } from '../format.js';
import { buildPipelineSet, planPipelines } from './pipelines.js';

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
 * Refuses what estimate cannot price without answers (--triage, --escalate-to) and
 * --batch-api for a provider without a batch API, each with an INVALID_OPTION naming it.
 */
export function checkEstimateFlags(flags: EstimateFlags): void {
  for (const [option, value] of [
    ['--triage', flags.triage],
    ['--escalate-to', flags.escalateTo],
  ] as const) {
    if (value === undefined) continue;
    throw new VisionpipeError(
      'INVALID_OPTION',
      `estimate does not price ${option} ${value}: how many images ${option === '--triage' ? 'triage skips' : 'escalate'} is known only from the answers. Without it, estimate prices every image sent once to the main model (${option === '--triage' ? 'an upper bound of a run with triage' : 'a lower bound of a run with escalation'}).`,
      { option: option === '--triage' ? 'triage' : 'escalateTo' },
    );
  }
  const provider = flags.provider;
  if (flags.batchApi && !BATCH_PROVIDERS.includes(provider))
    throw new VisionpipeError(
      'INVALID_OPTION',
      `--batch-api: provider "${provider}" has no batch API in visionpipe (${BATCH_PROVIDERS.join(', ')} do)`,
      { option: 'batchApi' },
    );
}

export async function runEstimate(inputs: string[], flags: EstimateFlags): Promise<void> {
  checkEstimateFlags(flags);
  const plan = await planPipelines(flags);
  const cache = await openCache({
    spec: flags.cache,
    stateDir: path.resolve(flags.stateDir),
    warn: (m) => process.stderr.write(`warning: ${m}\n`),
  });
  const pipelines = buildPipelineSet(plan, {
    cache,
    warn: () => {},
    sourceLimits: {},
    timeoutMs: 120_000,
    ...(flags.maxImageTokens === undefined ? {} : { maxImageTokens: flags.maxImageTokens }),
  });
  const pages = pageSelectionFrom(flags);
  const totals = new EstimateTotaller();
  const seen = new Set<string>();
  const out = process.stdout;
  let first = true;
  if (flags.json) out.write('{"images":[');
  try {
    for await (const item of expandInputs(argumentsAndList(inputs, flags.list), {
      exclude: [path.resolve(flags.stateDir)],
    })) {
      const pipeline = await pipelines.pipelineFor(item);
      const { image, naiveCost, naive } = await estimateItem(item, pipeline, seen, {
        ...(flags.priceTable ? { priceTable: flags.priceTable } : {}),
        pages,
        pagesMode: flags.pages ?? 'document',
        ...(flags.batchApi ? { batch: true } : {}),
      });
      totals.add(image, naiveCost, naive);
      if (flags.json) {
        out.write(`${first ? '' : ','}\n${JSON.stringify(image)}`);
        first = false;
      } else out.write(`${row(image)}\n`);
    }
  } finally {
    await pipelines.close();
    await cache.close();
  }
  const t = totals.toJSON();
  if (flags.json) {
    out.write(`\n],"totals":${JSON.stringify(t)}}\n`);
    return;
  }
  out.write(
    `\n${t.images} inputs: ${t.to_send} to send${t.document_pages > 0 ? ` (documents: ${t.document_pages} pages priced)` : ''}, ${t.duplicates} duplicates, ${t.cached} already cached${t.skipped > 0 ? `, ${t.skipped} skipped (every page blank)` : ''}, ${t.errors} unreadable\n` +
      `naive      ${fixedWidth(t.naive.tokens.toLocaleString('en-US'), 12, 'right')} tokens  ${usd(t.naive.cost_usd)}\n` +
      `optimized  ${fixedWidth(t.optimized.tokens.toLocaleString('en-US'), 12, 'right')} tokens  ${usd(t.optimized.cost_usd)}` +
      `${t.ratio === null ? '' : `  (${t.ratio}× fewer tokens)`}\n`,
  );
}
