/**
 * Every code block of README.md is run or checked by a test (issue 13), so the README
 * cannot drift from what visionpipe does:
 *
 * - the Quick start's shell blocks: `npm start` and `npx visionpipe eval` as written, in a
 *   scratch folder that sees the samples (`npm ci` and `npm test` are this suite's own
 *   set-up and run: never run from inside it);
 * - the record: made by a real run (scripts/readme-record.ts), equal field for field
 *   but the latency and the time it finished;
 * - the library example: run as written with tsx against the provider simulator
 *   (OPENAI_BASE_URL), on a copy of a sample invoice at the paths it names;
 * - the config file example: loaded by the config loader;
 * - the service walkthrough: run by test/service/docs.test.ts (it asserts the README's
 *   block is the docs' own);
 * - Development: every `npm run` names a script of package.json and `.ci/run` exists
 *   (they are the suite, the linters and the benches themselves).
 *
 * A new block fails the first test until it is covered here.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { formatRecord, RECORD_BLOCK, readmeRecord } from '../scripts/readme-record.js';
import { loadConfig } from '../src/config/file.js';
import { type Simulator, startSimulator } from '../src/simulator/index.js';
import { BIN, ROOT, readRecords, runCommand } from './support/cli.js';

interface Block {
  section: string;
  lang: string;
  code: string;
}

/** The fenced blocks of a markdown text (indented ones too), each under its last heading. */
function blocks(markdown: string): Block[] {
  const found: Block[] = [];
  let section = '';
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heading = /^#{2,3} (.*)$/.exec(line);
    if (heading) section = heading[1]!.trim();
    const open = /^(\s*)```(\w*)\s*$/.exec(line);
    if (!open) continue;
    const indent = open[1]!.length;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.trim().startsWith('```'); i++)
      body.push(lines[i]!.slice(indent));
    found.push({ section, lang: open[2]!, code: body.join('\n') });
  }
  return found;
}

const README = await readFile(path.join(ROOT, 'README.md'), 'utf8');
const ALL = blocks(README);
const of = (section: string, lang: string) => ALL.filter((b) => b.section === section && b.lang === lang);

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

async function scratch(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vp-readme-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** `npm start` and `npx visionpipe` as this checkout runs them, for a scratch folder. */
async function shellOf(code: string): Promise<string> {
  const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const start = pkg.scripts.start!.replace('node bin/visionpipe.cjs', `node ${BIN}`);
  return code
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, ''))
    .filter((line) => line.trim() !== '' && line.trim() !== 'npm test')
    .map((line) =>
      line
        .replace(/^npm ci && npm start$/, start)
        .replace(/^npm start$/, start)
        .replaceAll('npx visionpipe', `node ${BIN}`),
    )
    .join('\n');
}

describe('README.md code blocks', () => {
  it('are all covered here', () => {
    const covered = [
      ...of('Quick start', 'sh'),
      ...of('The record (one JSONL line per input)', 'json'),
      ...of('Library', 'ts'),
      ...of('Configuration', 'yaml'),
      ...ALL.filter((b) => b.lang === 'sh' && b.code.includes('visionpipe serve --workers 2')),
      // The service walkthrough: test/service/docs.test.ts runs these as docs/service.md's
      // one-machine blocks and checks the README's are the same blocks, whole and in order.
      ...of('Service', 'sh'),
      ...of('Development', 'sh'),
      // Run line by line as written by test/cli/readme-project.test.ts.
      ...of('Your own project', 'sh'),
      // A drawing, not code.
      ...of('Concepts', 'text'),
    ];
    expect(
      ALL.filter((b) => !covered.includes(b)).map((b) => `${b.section}: ${b.code.slice(0, 60)}`),
    ).toEqual([]);
    expect(of('Quick start', 'sh')).toHaveLength(2);
  });

  it('Quick start: npm start, eval, npm start again (everything resumed)', async () => {
    const dir = await scratch();
    await symlink(path.join(ROOT, 'samples'), path.join(dir, 'samples'));
    const [first, second] = of('Quick start', 'sh');
    const run = await runCommand('bash', ['-e', '-c', await shellOf(first!.code)], {
      cwd: dir,
      timeoutMs: 600_000,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/21 inputs/);
    // What it promises (routing and triage over the bundled samples): receipts and invoices
    // read with their own patterns, the three non-documents skipped by local triage, and
    // the truth file's fields and verdicts met. Asserted on this run, the suite's only run
    // of all 21 samples (local OCR of each image, once: triage and extraction share the reading).
    const all = await readRecords(path.join(dir, 'results.jsonl'));
    expect(all).toHaveLength(21);
    const byKind = (prefix: string) => all.filter((r) => path.basename(r.input).startsWith(prefix));
    expect(byKind('receipt-').every((r) => r.pattern === 'Receipt' && r.status === 'ok')).toBe(true);
    expect(byKind('invoice-').every((r) => r.pattern === 'Invoice' && r.status === 'ok')).toBe(true);
    const others = [...byKind('photo-'), ...byKind('noise-'), ...byKind('gradient-')];
    expect(others).toHaveLength(3);
    for (const other of others) {
      expect(other, other.input).toMatchObject({ status: 'skipped', output: null });
      expect(other.cascade.triage).toMatchObject({ relevant: false, provider: 'local' });
    }
    expect(all.filter((r) => r.status === 'error')).toEqual([]);
    const evaluation = await runCommand(
      process.execPath,
      [BIN, 'eval', '--truth', path.join(ROOT, 'samples/truth.jsonl'), 'results.jsonl', '--json'],
      { cwd: dir },
    );
    expect(evaluation.code, evaluation.stderr).toBe(0);
    const scores = JSON.parse(evaluation.stdout) as {
      overall: { accuracy: number };
      triage: { precision: number; recall: number };
    };
    expect(scores.overall.accuracy).toBeGreaterThan(0.9);
    expect(scores.triage).toMatchObject({ precision: 1, recall: 1 });
    const again = await runCommand('bash', ['-e', '-c', await shellOf(second!.code)], {
      cwd: dir,
      timeoutMs: 300_000,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/accuracy|fields/i);
    expect(again.stdout).toMatch(/21 kept from an earlier run/);
  }, 900_000);

  it('the record comes from a real run: every field equal but latency and time', async () => {
    const shown = RECORD_BLOCK.exec(README)?.[2];
    expect(shown).toBeDefined();
    const readme = JSON.parse(shown!) as Record<string, unknown>;
    const real = await readmeRecord();
    // When and how fast are the run's own; everything else is what any run of it writes.
    const { latency_ms: _a, finished_at: _c, ...expected } = real;
    const { latency_ms: _b, finished_at: _d, ...actual } = readme;
    expect(
      actual,
      `regenerate with: npx tsx scripts/readme-record.ts --write\n${formatRecord(real)}`,
    ).toEqual(expected);
  }, 120_000);

  it('the library example runs as written against the simulator', async () => {
    const [block] = of('Library', 'ts');
    const dir = await scratch();
    await mkdir(path.join(dir, 'patterns'));
    await mkdir(path.join(dir, 'scans'));
    await mkdir(path.join(dir, 'node_modules'));
    await symlink(ROOT, path.join(dir, 'node_modules/visionpipe'));
    await copyFile(path.join(ROOT, 'samples/patterns/invoice.json'), path.join(dir, 'patterns/invoice.json'));
    await copyFile(
      path.join(ROOT, 'samples/images/invoice-001.png'),
      path.join(dir, 'scans/invoice-0042.jpg'),
    );
    await copyFile(
      path.join(ROOT, 'samples/images/invoice-002.png'),
      path.join(dir, 'scans/invoice-0043.png'),
    );
    await writeFile(path.join(dir, 'example.mts'), block!.code);
    const sim: Simulator = await startSimulator({ answer: 'empty' });
    cleanups.push(() => sim.close());
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'example.mts'],
      {
        cwd: dir,
        env: {
          ...process.env,
          OPENAI_API_KEY: 'sk-readme-library',
          OPENAI_BASE_URL: sim.baseUrls.openai,
          NODE_PATH: path.join(ROOT, 'node_modules'),
        },
      },
    ).catch((error: { stdout: string; stderr: string }) => {
      throw new Error(`the README library example failed:\n${error.stderr}`);
    });
    expect(stderr).toBe('');
    // console.log(record.output, record.cost_usd): the output object and a price.
    expect(stdout).toMatch(/invoice_number/);
    expect(sim.stats.requests['openai POST /v1/chat/completions']).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('the config file example is one the config loader accepts', async () => {
    const [block] = of('Configuration', 'yaml');
    const dir = await scratch();
    const file = path.join(dir, 'visionpipe.config.yaml');
    await writeFile(file, block!.code);
    const { config } = await loadConfig(file);
    expect(config).toMatchObject({
      provider: 'openai',
      model: 'gpt-4.1-mini',
      rpm: 500,
      cacheTtl: 7 * 86_400_000,
    });
  });

  it('Development: every npm run names a script, and .ci/run exists', async () => {
    const [block] = of('Development', 'sh');
    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const runs = [...block!.code.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!);
    expect(runs.length).toBeGreaterThan(3);
    for (const name of runs) {
      if (name.endsWith(':')) continue; // bench:<name>, below
      expect(pkg.scripts[name], `npm run ${name}`).toBeDefined();
    }
    // `npm run bench:<name>` lists its names: each is a script.
    const benches = /npm run bench:<name>\s+#\s*([\w, -]+)/.exec(block!.code)?.[1]?.split(/,\s*/) ?? [];
    expect(benches.length).toBeGreaterThan(0);
    for (const name of benches) expect(pkg.scripts[`bench:${name.trim()}`], `bench:${name}`).toBeDefined();
    expect(pkg.scripts.test).toBeDefined();
    await expect(readFile(path.join(ROOT, '.ci/run'), 'utf8')).resolves.toBeTruthy();
  });
});
