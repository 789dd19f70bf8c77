/**
 * What `visionpipe estimate` does (flags and help: ../estimate.ts): measures each input as
 * the pipeline would send it, calling no provider, and streams rows (or JSON array items)
 * as inputs are measured, then the totals beside the naive plan.
 */
import path from 'node:path';
import { openCache } from '../../cache/open-cache.js';
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

export async function runEstimate(inputs: string[], flags: EstimateFlags): Promise<void> {
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
