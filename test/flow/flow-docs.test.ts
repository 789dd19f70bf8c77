/**
 * docs/flow-control.md's adaptive section, run as written: its shell block starts a zoo
 * server and runs visionpipe against it with no limit (every image must come back ok),
 * and its table of shapes is exactly the zoo's. The TypeScript blocks ("One call" and the
 * adaptive flow) run as written against a simulator (OPENAI_BASE_URL), `visionpipe` being src/.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/pipeline/record.js';
import { startSimulator } from '../../src/simulator/index.js';
import { LIMITER_SHAPES } from '../../src/simulator/shapes.js';
import { BIN, ROOT, runCommand } from '../support/cli.js';
import { exampleFolder, runTypeScript } from '../support/doc-code.js';
import { tempDir } from '../support/images.js';
import { fencedBlocks } from '../support/markdown.js';
import { freePort } from '../support/redis.js';
import { solidJpeg } from '../support/simulator-fixtures.js';

const DOC = path.join(ROOT, 'docs/flow-control.md');
const SECTION = 'Adaptive flow control (no limit given)';

const blocks = fencedBlocks;

describe('docs/flow-control.md, adaptive flow control', () => {
  it('the zoo table lists exactly the shapes the simulator has', async () => {
    const doc = await readFile(DOC, 'utf8');
    const listed = [...doc.matchAll(/^\| `([a-z0-9-]+)` \| .*\| .* \|$/gm)].map((m) => m[1]);
    expect(listed.filter((name) => (LIMITER_SHAPES as readonly string[]).includes(name!))).toEqual([
      ...LIMITER_SHAPES,
    ]);
  });

  it('the shell block runs as written: a concurrency-capped server, no --rpm, every image ok', async () => {
    const code = blocks(await readFile(DOC, 'utf8')).find(
      (b) => b.section === SECTION && b.lang === 'sh',
    )!.code;
    const dir = await tempDir('vp-flow-docs-');
    await mkdir(path.join(dir, 'scans'));
    for (let i = 0; i < 12; i++)
      await writeFile(path.join(dir, 'scans', `s-${i}.jpg`), await solidJpeg(60 + i, 40, '#8090a0'));
    await copyFile(path.join(ROOT, 'samples/patterns/invoice.json'), path.join(dir, 'invoice.json'));
    const port = await freePort();
    const script = code.replaceAll('visionpipe ', `node ${BIN} `).replaceAll('8787', String(port));
    const run = await runCommand(
      'bash',
      ['-euo', 'pipefail', '-c', script.replace('simulate --limiter', `simulate --port ${port} --limiter`)],
      { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, timeoutMs: 120_000 },
    );
    expect(run.code, run.stderr).toBe(0);
    const records = (await readFile(path.join(dir, 'results.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as RunRecord);
    expect(records).toHaveLength(12);
    expect(records.filter((r) => r.status !== 'ok').map((r) => r.error?.message)).toEqual([]);
  });

  it('the TypeScript blocks run as written against a simulator', async () => {
    const ts = blocks(await readFile(DOC, 'utf8')).filter((b) => b.lang === 'ts');
    expect(ts.map((b) => b.section)).toEqual(['One call', SECTION]);
    // A server that refuses the first call with a 429: the adaptive block waits it out.
    const sim = await startSimulator({ latency: { minMs: 5, maxMs: 20 } });
    try {
      const dir = await exampleFolder('vp-flow-docs-ts-');
      const env = { OPENAI_API_KEY: 'sk-flow-docs', OPENAI_BASE_URL: sim.baseUrls.openai };
      const one = await runTypeScript(ts[0]!.code, dir, env);
      expect(one.code, one.stderr).toBe(0);
      expect(one.stderr).toBe('');
      expect(one.stdout).toMatch(/invoice_number[\s\S]*1 attempt\(s\)/);
      sim.inject('rate-limit', 1);
      const adaptive = await runTypeScript(ts[1]!.code, dir, env);
      expect(adaptive.code, adaptive.stderr).toBe(0);
      expect(adaptive.stderr).toBe('');
      const lines = adaptive.stdout.trim().split('\n').sort();
      expect(lines.map((line) => line.split(' ')[0])).toEqual([
        'scans/invoice-0042.jpg',
        'scans/invoice-0043.png',
      ]);
      // The 429 was a throttle: waited out, not an attempt.
      expect(lines.every((line) => line.includes('1 attempt(s)'))).toBe(true);
      expect(adaptive.stdout).toMatch(/1 throttled/);
    } finally {
      await sim.close();
    }
  }, 300_000);
});
