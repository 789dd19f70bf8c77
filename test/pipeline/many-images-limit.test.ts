/**
 * Anthropic's rule "more than 20 images in one request → each at most 2000×2000 px" holds
 * even with `--profile none` (issue 11 §6): a 21-page document sent together goes out with
 * every page within 2000 px on the first call, not after the API's 400 and a retry; 20
 * pages keep their size. Real AnthropicProvider against `visionpipe simulate`'s Anthropic API
 * (which answers the real 400 past the limit), a real multi-page TIFF made with sharp.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import { AnthropicProvider } from '../../src/providers/anthropic.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { multiPageTiff, textImage } from '../support/documents.js';
import { invoicePattern } from '../support/simulator-fixtures.js';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ answer: 'empty' });
});
afterAll(async () => {
  await sim.close();
  await closeAllAgents();
});

async function documentOf(pages: number): Promise<Buffer> {
  const page = await textImage(['INVOICE', 'Invoice No: INV-7', 'Total: 12.50'], 2400, 1200);
  return multiPageTiff(Array.from({ length: pages }, () => page));
}

async function send(pages: number) {
  const provider = new AnthropicProvider({ apiKey: 'sim', baseUrl: sim.baseUrls.anthropic });
  const pipeline = await createPipeline({
    pattern: invoicePattern,
    provider,
    profile: 'none',
    documents: { pages: 'document', maxPages: 50 },
    cache: { spec: 'off' },
  });
  const record = await pipeline.process({ bytes: await documentOf(pages), name: `scan-${pages}.tiff` });
  await pipeline.close();
  await provider.close();
  return record;
}

describe('more than 20 images in one Anthropic request: each within 2000 px', () => {
  it('21 pages at 2400 px: sent within 2000 px on the first call, no refusal, no retry', async () => {
    const record = await send(21);
    expect(record.error).toBeNull();
    expect(record.attempts).toBe(1);
    expect(record.cascade).not.toHaveProperty('resized');
    expect(record.profile).toContain('2000px-many-images');
  }, 120_000);

  it('20 pages keep their 2400 px (the rule starts past 20)', async () => {
    const record = await send(20);
    expect(record.error).toBeNull();
    expect(record.attempts).toBe(1);
    expect(record.profile).not.toContain('many-images');
  }, 120_000);
});
