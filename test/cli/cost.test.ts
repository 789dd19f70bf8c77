/**
 * The cost features as users run them: estimate against what a real run bills at the
 * simulator, and the batch API with a crash between submit and fetch. Routing over the
 * bundled samples with local triage skipping the non-documents is `npm start`: its records
 * and eval scores are asserted where the README's Quick start runs it (test/readme.test.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/pipeline/record.js';
import type { EstimatedImage, EstimateTotals } from '../../src/runs/estimate.js';
import type { Summary } from '../../src/runs/summary.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { runCli } from '../support/cli.js';
import { corpus, photoLikeJpeg, tempDir } from '../support/images.js';

let folder: string;
let pattern: string;
let simulator: Simulator | undefined;

afterEach(async () => {
  await simulator?.close();
  simulator = undefined;
});

beforeAll(async () => {
  folder = await tempDir('visionpipe-cost-');
  await copyFile(corpus('inventory4.jpg'), path.join(folder, 'shelf.jpg')); // 2448×3264
  await copyFile(corpus('inventory4.jpg'), path.join(folder, 'shelf-copy.jpg')); // exact duplicate
  await copyFile(corpus('invoice1.jpg'), path.join(folder, 'invoice.jpg')); // 830×1080
  await writeFile(path.join(folder, 'photo.jpg'), await photoLikeJpeg(4000, 3000, 9)); // 12 MP
  pattern = path.join(folder, '..', `${path.basename(folder)}-pattern.json`);
  await writeFile(
    pattern,
    JSON.stringify({
      name: 'document',
      format: 'json',
      instructions: 'Read the document.',
      json_schema: { title: 'string', total: 'number' },
    }),
  );
});

async function records(file: string): Promise<RunRecord[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as RunRecord);
}

/** `visionpipe run INPUT` on the OpenAI batch API of the simulator, polled every 50 ms. */
function batchRun(input: string, sim: Simulator): string[] {
  return [
    'run',
    input,
    '-p',
    pattern,
    '--provider',
    'openai',
    '--model',
    'gpt-4o',
    '--base-url',
    sim.baseUrls.openai,
    '--batch-api',
    '--batch-poll',
    '50ms',
  ];
}

describe('visionpipe estimate', () => {
  it('prices a run without calling anything, and its input tokens are what a real run is billed', async () => {
    simulator = await startSimulator({ answer: () => ({ title: 'x', total: 1 }) });
    const work = await tempDir('visionpipe-work-');
    const common = [
      '-p',
      pattern,
      '--provider',
      'openai',
      '--model',
      'gpt-4o',
      '--base-url',
      simulator.baseUrls.openai,
    ];
    const env = { OPENAI_API_KEY: 'sk-sim' };

    const estimated = await runCli(['estimate', folder, ...common, '--json'], { cwd: work, env });
    expect(estimated.code).toBe(0);
    expect(simulator.stats.total).toBe(0); // nothing was called
    const { images, totals } = JSON.parse(estimated.stdout) as {
      images: EstimatedImage[];
      totals: EstimateTotals;
    };
    expect(totals).toMatchObject({ images: 4, to_send: 3, duplicates: 1, cached: 0, errors: 0 });
    // Which copy of the shelf photo comes first depends on the directory order.
    const shelf = images.find((i) => i.input.includes('shelf') && i.status === 'send')!;
    expect(shelf).toMatchObject({ status: 'send', width: 768, height: 1024, image_tokens: 765 });
    expect(totals.naive.tokens).toBeGreaterThan(totals.optimized.tokens); // the duplicate is paid once

    const run = await runCli(['run', folder, ...common, '--json'], { cwd: work, env });
    expect(run.code).toBe(0);
    expect(simulator.stats.tokens.input).toBe(totals.optimized.input_tokens);
    expect(simulator.stats.tokens.image).toBe(images.reduce((sum, i) => sum + i.image_tokens, 0));
    const summary = JSON.parse(run.stdout) as Summary;
    expect(summary.cost_usd).toBeGreaterThan(0);
    expect(Math.abs(summary.cost_usd - totals.optimized.cost_usd!)).toBeLessThan(
      totals.optimized.cost_usd! * 0.5,
    );

    // Now everything is cached: a second estimate sends nothing.
    const again = JSON.parse(
      (await runCli(['estimate', folder, ...common, '--json'], { cwd: work, env })).stdout,
    ) as {
      totals: EstimateTotals;
    };
    expect(again.totals).toMatchObject({ to_send: 0, cached: 3, optimized: { tokens: 0 } });
  });

  it('respects --max-image-tokens and prints a readable table', async () => {
    const work = await tempDir('visionpipe-work-');
    const result = await runCli(
      [
        'estimate',
        folder,
        '-p',
        pattern,
        '--provider',
        'openai',
        '--model',
        'gpt-4o',
        '--max-image-tokens',
        '300',
      ],
      {
        cwd: work,
        env: { OPENAI_API_KEY: 'sk-never-used' },
      },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/4 inputs: 3 to send, 1 duplicates/);
    expect(result.stdout).toMatch(/naive .* tokens/);
    expect(result.stdout).toMatch(/× fewer tokens/);
    for (const match of result.stdout.matchAll(/(\d+) img tok/g))
      expect(Number(match[1])).toBeLessThanOrEqual(300);
  });
});

describe('run --batch-api', () => {
  it('a crash between submit and fetch resumes the same batch, never submitting it twice; cost is half', async () => {
    let child: ChildProcess | undefined;
    simulator = await startSimulator({
      latency: { minMs: 300, maxMs: 400 },
      answer: () => ({ title: 'x', total: 1 }),
    });
    const sim = simulator;
    const work = await tempDir('visionpipe-work-');
    const out = path.join(work, 'results.jsonl');
    const args = [...batchRun(folder, sim), '--out', out, '--json'];
    const env = { OPENAI_API_KEY: 'sk-sim' };
    const crashed = await runCli(args, {
      cwd: work,
      env,
      onSpawn: (spawned) => {
        child = spawned;
        // Crash once the batch id is on disk: after submit, before any result is fetched.
        const poll = setInterval(async () => {
          const files = await readdir(path.join(work, '.visionpipe', 'batches')).catch(() => []);
          if (files.some((f) => f.endsWith('.json'))) {
            clearInterval(poll);
            child?.kill('SIGKILL');
          }
        }, 2);
        spawned.once('exit', () => clearInterval(poll));
      },
    });
    expect(crashed.signal).toBe('SIGKILL');
    expect(
      (await readdir(path.join(work, '.visionpipe', 'batches'))).filter((f) => f.endsWith('.json')),
    ).toHaveLength(1);

    const resumed = await runCli(args, { cwd: work, env });
    expect(resumed.code).toBe(0);
    expect((sim.stats as unknown as { batchesCreated: number }).batchesCreated).toBe(1);
    expect(resumed.stderr).toContain('resuming');
    const all = await records(out);
    expect(all).toHaveLength(4);
    expect(all.every((r) => r.status === 'ok')).toBe(true);

    // Half the single-call price: the same image through a normal run costs twice as much.
    const batchCost = all.find((r) => r.input.endsWith('invoice.jpg'))!.cost_usd!;
    const single = await runCli(
      [
        'run',
        path.join(folder, 'invoice.jpg'),
        ...args.slice(2, 10),
        '--cache',
        'off',
        '--out',
        path.join(work, 'single.jsonl'),
      ],
      { cwd: work, env },
    );
    expect(single.code, single.stderr).toBe(0);
    const singleCost = (await records(path.join(work, 'single.jsonl')))[0]!.cost_usd!;
    expect(batchCost).toBeCloseTo(singleCost / 2, 8);
    void mkdir;
    void sharp;
  });

  it('near-duplicates follow their original into the batch result instead of being submitted themselves', async () => {
    simulator = await startSimulator({
      latency: { minMs: 50, maxMs: 100 },
      answer: () => ({ title: 'x', total: 1 }),
    });
    const sim = simulator;
    const work = await tempDir('visionpipe-work-');
    const images = path.join(work, 'images');
    await mkdir(images);
    const original = await readFile(corpus('invoice1.jpg'));
    await writeFile(path.join(images, 'a-invoice.jpg'), original);
    // The same page, 70 % the size and re-encoded: different bytes, a few bits of dHash apart.
    const meta = await sharp(original).metadata();
    await writeFile(
      path.join(images, 'b-invoice-smaller.jpg'),
      await sharp(original)
        .resize(Math.round(meta.width! * 0.7))
        .jpeg({ quality: 70 })
        .toBuffer(),
    );
    const out = path.join(work, 'results.jsonl');
    const result = await runCli(
      [
        ...batchRun(images, sim),
        '--near-dup',
        '6',
        // One at a time: a-… is read first, and is still waiting for its batch when b-… arrives.
        '--concurrency',
        '1',
        '--out',
        out,
      ],
      { cwd: work, env: { OPENAI_API_KEY: 'sk-sim' } },
    );
    expect(result.code, result.stderr).toBe(0);
    const byName = new Map((await records(out)).map((r) => [path.basename(r.input), r]));
    expect(byName.get('a-invoice.jpg')).toMatchObject({ status: 'ok', cache: 'miss' });
    const near = byName.get('b-invoice-smaller.jpg')!;
    expect(near).toMatchObject({ status: 'ok', cache: 'near-dup', output: { title: 'x', total: 1 } });
    expect(near.duplicate_of?.input).toContain('a-invoice.jpg');
    expect(near.cost_usd).toBe(0);
    expect((sim.stats as unknown as { batchRequests: number }).batchRequests).toBe(1);
  });
});
