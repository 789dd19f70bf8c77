/**
 * docs/service.md and the README's service section, run as written: the shell blocks of
 * each walkthrough in one bash session (the database name, port and Redis prefix made
 * unique, `npx visionpipe` pointed at this checkout, 0.0.0.0 kept to loopback), the
 * config example loaded by the config loader, the README's block being one of the docs'.
 */
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/file.js';
import { BIN, ROOT, runCommand } from '../support/cli.js';
import { fencedBlocks } from '../support/markdown.js';
import { PG_ADMIN_URL } from '../support/postgres.js';
import { freePort } from '../support/redis.js';
import { clearRedisPrefix } from '../support/service.js';

const DOC = path.join(ROOT, 'docs/service.md');

const blocks = fencedBlocks;

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

/** Runs shell blocks in one bash session in a scratch folder that sees the samples. */
async function walkthrough(code: string): Promise<{ code: number | null; output: string; dir: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vp-docs-'));
  await symlink(path.join(ROOT, 'samples'), path.join(dir, 'samples'));
  const database = `vp_docs_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const prefix = `vpd-${database}`;
  const port = await freePort();
  const receiverPort = await freePort();
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  cleanups.push(() => clearRedisPrefix(prefix));
  cleanups.push(async () => {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL });
    await client.connect();
    await client.query(`drop database if exists ${database} with (force)`);
    await client.end();
  });
  const script = code
    .replaceAll('/visionpipe\n', `/${database}\n`)
    .replaceAll(' visionpipe   # once', ` ${database}   # once`)
    .replaceAll('npx visionpipe', `node ${BIN}`)
    .replaceAll('8080', String(port))
    .replaceAll('9000', String(receiverPort))
    .replaceAll('--host 0.0.0.0', '--host 127.0.0.1');
  const run = await runCommand('bash', ['-euo', 'pipefail', '-c', script], {
    cwd: dir,
    env: { ...process.env, PORT: String(port), VISIONPIPE_QUEUE_PREFIX: prefix, NO_COLOR: '1' },
    timeoutMs: 300_000,
  });
  return { code: run.code, output: run.stdout + run.stderr, dir };
}

describe('docs/service.md', async () => {
  const all = blocks(await readFile(DOC, 'utf8'));
  const shell = (section: string) =>
    all
      .filter((b) => b.section === section && b.lang === 'sh')
      .map((b) => b.code)
      .join('\n');

  it('one machine: start, create a pattern, ingest, read the result in YAML, run through the service, stop', async () => {
    const run = await walkthrough(shell('One machine, one command'));
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('visionpipe serve: http://127.0.0.1:');
    expect(run.output).toContain('invoice_number: INV-2025-0515');
    const records = (await readFile(path.join(run.dir, 'through-service.jsonl'), 'utf8')).trim().split('\n');
    expect(records.map((r) => JSON.parse(r).status)).toEqual(['ok', 'ok']);
    expect(run.output).toContain('drained; bye');
  });

  it('several machines: an API process and a worker process, ready together, stopped cleanly', async () => {
    const one = shell('One machine, one command').split('\n').slice(0, 4).join('\n');
    const run = await walkthrough(`${one}\n${shell('Several machines')}`);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('(0 workers');
    expect(run.output).toContain('visionpipe worker: taking jobs');
  });

  it('webhooks: a receiver gets job.succeeded, the delivery log shows it delivered', async () => {
    const one = shell('One machine, one command').split('\n').slice(0, 4).join('\n');
    const run = await walkthrough(`${one}\n${shell('Webhooks')}`);
    expect(run.code, run.output).toBe(0);
    const hooks = (await readFile(path.join(run.dir, 'hooks.log'), 'utf8')).trim().split('\n');
    expect(JSON.parse(hooks[0]!)).toMatchObject({ type: 'job.succeeded', data: { status: 'succeeded' } });
    expect(run.output).toContain('"status":"delivered"');
  });

  it('batch runs on the workers: run --queue writes the usual records', async () => {
    const one = shell('One machine, one command').split('\n').slice(0, 4).join('\n');
    const run = await walkthrough(`${one}\n${shell('Batch runs on the workers')}`);
    expect(run.code, run.output).toBe(0);
    const records = (await readFile(path.join(run.dir, 'on-workers.jsonl'), 'utf8')).trim().split('\n');
    expect(records.map((r) => JSON.parse(r).status)).toEqual(['ok', 'ok']);
  });

  it('the config example is valid for the config loader', async () => {
    const yaml = all.find((b) => b.lang === 'yaml')!.code;
    const dir = await mkdtemp(path.join(tmpdir(), 'vp-docs-config-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, 'visionpipe.config.yaml'), yaml);
    const { config } = await loadConfig(undefined, dir);
    expect(config).toMatchObject({
      databaseUrl: expect.stringMatching(/^postgres:/),
      rpm: 500,
      rateLimit: '1200/min',
    });
  });

  it("the README's service blocks are the docs' one-machine walkthrough, whole and in order", async () => {
    const readme = blocks(await readFile(path.join(ROOT, 'README.md'), 'utf8')).filter(
      (b) => b.section === 'Service' && b.lang === 'sh',
    );
    expect(readme.length).toBeGreaterThan(0);
    for (const block of readme) expect(all.map((b) => b.code)).toContain(block.code);
    // Followed alone, the README goes the whole one-machine walkthrough: start, create a
    // pattern, ingest, read the result, point a client at the service, stop.
    const oneMachine = all.filter((b) => b.section === 'One machine, one command' && b.lang === 'sh');
    expect(readme.map((b) => b.code)).toEqual(oneMachine.map((b) => b.code));
  });
});
