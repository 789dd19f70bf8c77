/**
 * The README's example record, made by a real run instead of written by hand (issue 13):
 * `visionpipe run` on a sample receipt with `--provider openai --model gpt-4.1-mini`
 * against the provider simulator, which answers with the local OCR engine's reading of
 * the pixels it received. `npx tsx scripts/readme-record.ts --write` puts the record in
 * README.md; test/readme.test.ts runs it again and compares every field but the latency.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startSimulator } from '../src/simulator/index.js';

const ROOT = path.resolve(import.meta.dirname, '..');
export const README_RECORD_INPUT = 'samples/images/receipt-004.jpg';

/** The record of one real run on the sample receipt, as parsed JSON. */
export async function readmeRecord(): Promise<Record<string, unknown>> {
  const sim = await startSimulator({ answer: 'local', latency: { minMs: 0, maxMs: 0 }, localWorkers: 1 });
  const dir = await mkdtemp(path.join(tmpdir(), 'vp-readme-record-'));
  try {
    const out = path.join(dir, 'results.jsonl');
    await promisify(execFile)(
      process.execPath,
      [
        path.join(ROOT, 'bin/visionpipe.cjs'),
        'run',
        README_RECORD_INPUT,
        '--pattern',
        'samples/patterns/receipt.yaml',
        '--provider',
        'openai',
        '--model',
        'gpt-4.1-mini',
        '--base-url',
        sim.baseUrls.openai,
        '--cache',
        'off',
        '--state-dir',
        path.join(dir, 'state'),
        '--out',
        out,
        '--no-progress',
      ],
      { cwd: ROOT, env: { ...process.env, OPENAI_API_KEY: 'sk-readme-example' } },
    );
    const [line] = (await readFile(out, 'utf8')).split('\n');
    return JSON.parse(line ?? '') as Record<string, unknown>;
  } finally {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The record as the README shows it: a few related fields per line. */
export function formatRecord(record: Record<string, unknown>): string {
  const groups = [
    ['input', 'pattern', 'sha256', 'status'],
    ['output'],
    ['error', 'cache', 'provider', 'model', 'latency_ms', 'attempts'],
    ['rate_limited', 'image'],
    ['usage', 'cost_usd'],
    ['profile', 'confidence', 'reason', 'duplicate_of'],
  ];
  const seen = new Set(groups.flat());
  groups.push(Object.keys(record).filter((key) => !seen.has(key)));
  const lines = groups
    .map((keys) =>
      keys
        .filter((key) => key in record)
        .map((key) => `${JSON.stringify(key)}:${JSON.stringify(record[key])}`)
        .join(','),
    )
    .filter(Boolean);
  return `{${lines.join(',\n ')}}`;
}

/** The README's record block (the first `json` block after "### The record"). */
export const RECORD_BLOCK = /(### The record[^\n]*\n[\s\S]*?```json\n)([\s\S]*?)(\n```)/;

if (import.meta.url === `file://${process.argv[1]}`) {
  const text = formatRecord(await readmeRecord());
  if (process.argv.includes('--write')) {
    const file = path.join(ROOT, 'README.md');
    const readme = await readFile(file, 'utf8');
    if (!RECORD_BLOCK.test(readme)) throw new Error('README.md has no "### The record" json block');
    await writeFile(
      file,
      readme.replace(RECORD_BLOCK, (_m, open, _old, close) => `${open}${text}${close}`),
    );
  }
  process.stdout.write(`${text}\n`);
}
