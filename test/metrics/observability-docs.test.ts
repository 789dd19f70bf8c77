/**
 * docs/observability.md, run as written: every fenced shell block runs in bash (with
 * `visionpipe` being this checkout's binary and the documented ports replaced by free
 * ones) in a folder holding the `scans` and `invoice.json` it names. The report block runs
 * against a simulator started here; the alerts block starts its own simulator and alert
 * receiver, and must end with the budget stop (exit 4), the alert, the log line and a
 * report. The alert table names every condition the monitor has, with its units.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import { BIN, ROOT, runCommand } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import { fencedBlocks } from '../support/markdown.js';
import { freePort } from '../support/redis.js';
import { solidJpeg } from '../support/simulator-fixtures.js';

const DOC = path.join(ROOT, 'docs/observability.md');

const blocks = fencedBlocks;

async function folder(): Promise<string> {
  const dir = await tempDir('vp-observability-docs-');
  await mkdir(path.join(dir, 'scans'));
  for (let i = 0; i < 12; i++)
    await writeFile(path.join(dir, 'scans', `s-${i}.jpg`), await solidJpeg(300 + i, 200, '#8090a0'));
  await copyFile(path.join(ROOT, 'samples/patterns/invoice.json'), path.join(dir, 'invoice.json'));
  return dir;
}

const bash = (script: string, cwd: string) =>
  runCommand('bash', ['-euo', 'pipefail', '-c', script], {
    cwd,
    env: { ...process.env, NO_COLOR: '1' },
    timeoutMs: 120_000,
  });

describe('docs/observability.md', () => {
  it('has shell blocks, and each one runs as written', async () => {
    const doc = await readFile(DOC, 'utf8');
    const shell = blocks(doc).filter((b) => b.lang === 'sh');
    expect(shell.map((b) => b.section)).toEqual(['The run report', 'Alerts and the cost budget']);
    for (const block of shell) {
      const dir = await folder();
      const simPort = await freePort();
      const hookPort = await freePort();
      const script = block.code
        .replaceAll('visionpipe ', `node ${BIN} `)
        .replaceAll('8791', String(simPort))
        .replaceAll('9001', String(hookPort));
      // The report block expects a simulator already running (the alerts block starts its own).
      const sim = block.code.includes('visionpipe simulate')
        ? undefined
        : await startSimulator({ port: simPort, latency: { minMs: 10, maxMs: 30 } });
      try {
        const run = await bash(script, dir);
        expect(run.code, `${block.section}: ${run.stderr}`).toBe(0);
      } finally {
        await sim?.close();
      }
      const html = await readFile(path.join(dir, 'report.html'), 'utf8');
      expect(html, block.section).toContain('<canvas');
      const records = (await readFile(path.join(dir, 'results.jsonl'), 'utf8')).split('\n').filter(Boolean);
      expect(records.length, block.section).toBeGreaterThan(0);
    }
  }, 300_000);

  it('names every alert condition with the unit of its threshold', async () => {
    const doc = await readFile(DOC, 'utf8');
    for (const [condition, unit] of [
      ['success_rate', 'fraction 0–1'],
      ['p95_latency', 'milliseconds'],
      ['circuit_open:PROVIDER', '1 open, 0 closed'],
      ['cost_budget', 'USD'],
    ])
      expect(doc).toMatch(new RegExp(`\\| \`${condition}\` \\|.*${unit}`));
  });
});
