/**
 * Start-up stays cheap (issue 10): `--help`, `--version` and usage errors load commander
 * and the commands' declarations, never a command's dependencies (sharp, bullmq, fastify,
 * kysely, tesseract.js, providers, zod…). Checked by what the real binary loads, not by
 * timing; bench/startup.ts measures the time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { ROOT } from '../support/cli.js';
import { traceCli } from '../support/module-trace/index.js';

/** The only package start-up may load. */
const START_UP_PACKAGES = ['commander'];

/** Every command path of the program: `run`, `cache stats`, `keys create`… */
function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands.flatMap((sub) => {
    const own = [...prefix, sub.name()];
    return [own, ...commandPaths(sub, own)];
  });
}

const COMMANDS = commandPaths(buildProgram());

describe('CLI start-up', () => {
  it('knows every command (the list below is the program, not a copy)', () => {
    expect(COMMANDS.map((c) => c.join(' '))).toEqual(
      expect.arrayContaining([
        'run',
        'estimate',
        'optimize',
        'serve',
        'worker',
        'keys create',
        'cache clear',
      ]),
    );
  });

  it.each([[['--help']], [['--version']], [['help', 'run']]])(
    'visionpipe %j loads no package but commander',
    async (args) => {
      const run = await traceCli(args);
      expect(run.code).toBe(0);
      expect(run.stdout.length).toBeGreaterThan(0);
      expect([...run.packages].sort()).toEqual(START_UP_PACKAGES);
    },
  );

  it.each(COMMANDS.map((c) => [c.join(' ')]))(
    'visionpipe %s --help shows examples and loads no package but commander',
    async (name) => {
      const command = name.split(' ');
      const run = await traceCli([...command, '--help']);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('Examples:');
      expect(run.stdout).toContain(`$ visionpipe ${command[0]}`);
      expect([...run.packages].sort()).toEqual(START_UP_PACKAGES);
    },
  );

  it('a usage error loads no package but commander either', async () => {
    const run = await traceCli(['run', 'samples/images']); // no --pattern
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--pattern');
    expect([...run.packages].sort()).toEqual(START_UP_PACKAGES);
  });

  it('a local run loads neither undici, ioredis, pino-pretty, prom-client, yaml, fast-xml-parser, csv-stringify nor hdr-histogram-js (loaded on first use)', async () => {
    // 217 CommonJS modules a run on local files, no Redis, no terminal, no metrics never calls,
    // and 135 more a run of a JSON pattern to JSON output that records no latency never needs.
    const out = await mkdtemp(path.join(os.tmpdir(), 'visionpipe-startup-'));
    try {
      const run = await traceCli([
        'run',
        path.join(out, 'missing.png'),
        '--pattern',
        path.join(ROOT, 'samples/patterns/invoice.json'),
        '--out',
        path.join(out, 'results.jsonl'),
        '--cache',
        'off',
      ]);
      expect(run.stderr).toContain('NOT_FOUND');
      expect(run.modules.some((m) => m.endsWith('/dist/pipeline/create-pipeline.js'))).toBe(true);
      expect(run.packages).not.toContain('undici');
      expect(run.packages).not.toContain('ioredis');
      expect(run.packages).not.toContain('pino-pretty');
      expect(run.packages).not.toContain('prom-client');
      for (const lazy of ['yaml', 'fast-xml-parser', 'csv-stringify', 'hdr-histogram-js'])
        expect(run.packages).not.toContain(lazy);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('the trace sees a command load its dependencies when it runs (sharp for optimize)', async () => {
    // Without this, a trace that recorded nothing would pass every test above.
    const out = await mkdtemp(path.join(os.tmpdir(), 'visionpipe-startup-'));
    try {
      const run = await traceCli([
        'optimize',
        path.join(ROOT, 'samples/images/invoice-001.png'),
        '--out-dir',
        out,
        '--no-progress',
        '--json',
      ]);
      expect(run.code).toBe(0);
      expect(run.packages).toContain('sharp');
      expect(run.modules.some((m) => m.endsWith('/dist/cli/actions/optimize.js'))).toBe(true);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
