/**
 * Bytes and rates of a run with a 10-page PDF, counted one way (runs/volume.ts) by the
 * summary (--json), /metrics and the report, through the real CLI on the loopback
 * simulator: the file's bytes once in either pages mode, sent bytes equal to the image
 * bytes the simulator received, a page as an image; an all-cache rerun sends nothing and
 * says so. data: URI inputs: a malformed one is INVALID_INPUT named by a short preview.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Summary } from '../../src/runs/summary.js';
import { type SimCall, type Simulator, startSimulator } from '../../src/simulator/index.js';
import { runOpenAiCompatible } from '../support/cli.js';
import { documentFolder } from '../support/document-folder.js';
import { makePdf, numberedPages } from '../support/documents.js';
import { corpus, tempDir } from '../support/images.js';
import { scrape, total } from '../support/metrics-scrape.js';

let sim: Simulator;
let folder: string;
let pattern: string;
let fileBytes: number;
const received: number[] = [];

beforeAll(async () => {
  sim = await startSimulator({
    answer: (call: SimCall) => {
      received.push(call.image.data.length + (call.pages ?? []).reduce((n, p) => n + p.data.length, 0));
      return { title: 'x', total: 1 };
    },
  });
  ({ folder, pattern, fileBytes } = await documentFolder(
    'visionpipe-volume-',
    'ten.pdf',
    await makePdf(numberedPages(10, 5)),
  ));
});
afterAll(async () => {
  await sim?.close();
});

/** `run INPUTS` on the simulator's OpenAI API in `work`, without progress. */
function simulatorRun(inputs: string | string[], work: string, extra: string[]) {
  return runOpenAiCompatible(inputs, {
    pattern,
    baseUrl: sim.baseUrls.openai,
    model: 'gpt-4.1-mini',
    cwd: work,
    extra: ['--no-progress', ...extra],
  });
}

function figure(html: string, name: string): number {
  return Number(new RegExp(`data-figure="${name}" data-value="([0-9.]+)"`).exec(html)?.[1]);
}

async function runScraped(work: string, extra: string[]) {
  let stdout = '';
  let stderr = '';
  let scraped: Promise<Awaited<ReturnType<typeof scrape>>> | undefined;
  const result = await runOpenAiCompatible(folder, {
    pattern,
    baseUrl: sim.baseUrls.openai,
    model: 'gpt-4.1-mini',
    cwd: work,
    extra: [
      '--no-progress',
      '--json',
      '--report',
      'r.html',
      '--metrics-port',
      '0',
      '--metrics-linger',
      '10s',
      ...extra,
    ],
    onSpawn: (child) => {
      child.stderr?.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      child.stdout?.on('data', (c: Buffer) => {
        stdout += c.toString();
        if (scraped || !stdout.includes('\n')) return;
        scraped = scrape(`${/Metrics at (http:\/\/\S+)\/metrics/.exec(stderr)?.[1]}/metrics`);
      });
    },
  });
  expect(result.code, result.stderr).toBe(0);
  return {
    summary: JSON.parse(result.stdout) as Summary,
    families: await scraped!,
    html: await readFile(path.join(work, 'r.html'), 'utf8'),
  };
}

describe.each(['document', 'each'])('--pages %s: summary, metrics and report agree', (mode) => {
  it('bytes once per file, sent = what the provider received, a page is an image', async () => {
    const work = await tempDir('visionpipe-volume-work-');
    received.length = 0;
    const { summary, families, html } = await runScraped(work, ['--pages', mode, '--cache', 'sqlite']);
    const sent = received.reduce((a, b) => a + b, 0);
    expect(summary.bytes.original).toBe(fileBytes);
    expect(summary.bytes.sent).toBe(sent);
    expect(summary.bytes.original_sent).toBe(fileBytes);
    expect(summary.throughput).toMatchObject({ images: 11, pages: 10, documents: 1 });
    expect(summary.from_cache).toBe(0);
    expect(total(families, 'visionpipe_bytes_total', { stage: 'original' })).toBe(fileBytes);
    expect(total(families, 'visionpipe_bytes_total', { stage: 'sent' })).toBe(sent);
    expect(total(families, 'visionpipe_processed_images_total')).toBe(11);
    expect(total(families, 'visionpipe_processed_documents_total')).toBe(1);
    expect(figure(html, 'bytes_read')).toBe(fileBytes);
    expect(figure(html, 'bytes_sent')).toBe(sent);

    // Again, all from the cache: nothing sent, no rate, and the text says so.
    const again = await simulatorRun(folder, work, ['--pages', mode, '--cache', 'sqlite', '--fresh']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/no image processed · \d+ from cache/);
    expect(again.stdout).toMatch(/0 B sent, all from cache/);
    expect(again.stdout).not.toMatch(/-100 %/);
  }, 180_000);
});

describe('data: URI inputs', () => {
  it('a malformed one is INVALID_INPUT named by a short preview; a valid PDF one is read', async () => {
    const work = await tempDir('visionpipe-volume-data-');
    const body = (await readFile(corpus('invoice1.jpg'))).toString('base64');
    const bad = `data:image/jpeg;base64,${body.slice(0, 5000)}!${body.slice(5000)}`;
    const pdf = `data:application/pdf;base64,${(await readFile(path.join(folder, 'ten.pdf'))).toString('base64')}`;
    const result = await simulatorRun([bad, pdf], work, ['--cache', 'off', '--max-pages', '10']);
    const text = result.stdout + result.stderr + (await readFile(path.join(work, 'results.jsonl'), 'utf8'));
    expect(text).not.toContain(body.slice(0, 200));
    expect(text).not.toContain(pdf.slice(40, 240));
    const records = (await readFile(path.join(work, 'results.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const broken = records.find((r) => r.status === 'error');
    expect(broken.error.code).toBe('INVALID_INPUT');
    expect(broken.input).toMatch(/^data:image\/jpeg;base64,.{12}…\([\d,]+ chars\)$/);
    expect(broken.error.message).toMatch(/not valid base64 \(character "!" at 5001\)/);
    const read = records.find((r) => r.status === 'ok');
    expect(read.input).toMatch(/^data:application\/pdf;sha256=[0-9a-f]{16}$/);
    expect(read.pages).toBe(10);
  }, 120_000);

  it('a run whose every input is malformed is a usage error (exit 2), as when none exists', async () => {
    const work = await tempDir('visionpipe-volume-data-bad-');
    const result = await simulatorRun(['data:image/png;base64,@@@', 'data:nonsense'], work, [
      '--cache',
      'off',
    ]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('none of the 2 inputs is a readable input');
  }, 120_000);
});
