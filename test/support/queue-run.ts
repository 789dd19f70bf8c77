/**
 * `visionpipe run … --queue` tests: a unique PostgreSQL database and Redis key prefix for
 * the coordinator and its workers, `visionpipe worker` processes pointed at a loopback
 * OpenAI-compatible provider, and the coordinator's command line.
 */
import path from 'node:path';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator } from '../../src/simulator/types.js';
import { tempDir } from './images.js';
import { type JsonPatternSpec, writeJsonPattern } from './patterns.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { type Running, startCli } from './processes.js';
import { clearRedisPrefix, REDIS_URL } from './service.js';

export interface QueueTestbed {
  database: TestDatabase;
  /** The Redis key prefix (VISIONPIPE_QUEUE_PREFIX) of this test file. */
  prefix: string;
  /** The environment of the coordinator and its workers. */
  env: Record<string, string>;
  /** The pattern file the coordinator reads with. */
  pattern: string;
  /** Drops the database and the Redis keys. */
  close(): Promise<void>;
}

/**
 * A fresh database named after `label`, a unique Redis prefix starting with `prefixStem`,
 * and `pattern` written as a JSON pattern file.
 */
export async function queueTestbed(
  label: string,
  prefixStem: string,
  pattern: JsonPatternSpec,
): Promise<QueueTestbed> {
  const database = await createTestDatabase(label);
  const prefix = `${prefixStem}-${process.pid}-${Date.now().toString(36)}`;
  const dir = await tempDir(`${prefixStem}-pattern-`);
  return {
    database,
    prefix,
    pattern: await writeJsonPattern(path.join(dir, 'pattern.json'), pattern),
    env: { DATABASE_URL: database.url, VISIONPIPE_QUEUE_PREFIX: prefix, OPENAI_API_KEY: 'sim' },
    async close() {
      await database.drop();
      await clearRedisPrefix(prefix);
    },
  };
}

/** A `visionpipe worker` process on the testbed, its provider OpenAI at `baseUrl`, once it takes jobs. */
export async function startQueueWorker(
  testbed: Pick<QueueTestbed, 'env'>,
  baseUrl: string,
  concurrency: number,
  more: { args?: readonly string[]; env?: Record<string, string> } = {},
): Promise<Running> {
  const worker = startCli(
    [
      'worker',
      '--provider',
      'openai',
      '--base-url',
      baseUrl,
      '--concurrency',
      String(concurrency),
      '--state-dir',
      await tempDir('rq-worker'),
      ...(more.args ?? []),
    ],
    { ...testbed.env, REDIS_URL, ...more.env },
  );
  await worker.waitFor(/visionpipe worker: taking jobs/);
  return worker;
}

/** `run INPUTS -p PATTERN --queue REDIS --out OUT --state-dir STATE --no-progress …extra`. */
export function queueRunArgs(
  inputs: readonly string[],
  files: { pattern: string; out: string; state: string },
  extra: readonly string[] = [],
): string[] {
  return [
    'run',
    ...inputs,
    '-p',
    files.pattern,
    '--queue',
    REDIS_URL,
    '--out',
    files.out,
    '--state-dir',
    files.state,
    '--no-progress',
    ...extra,
  ];
}

/** The receipt pattern the `run --queue` tests read with. */
export const RECEIPT_PATTERN: JsonPatternSpec = {
  name: 'Receipt',
  instructions: 'Read the receipt',
  schema: { merchant: 'string', total: 'number' },
};

/** A simulator that answers a receipt and counts what it bills, a testbed, and worker processes on it. */
export interface QueueRig {
  sim: Simulator;
  testbed: QueueTestbed;
  /** Provider calls billed so far. */
  billed(): number;
  close(): Promise<void>;
}

export async function startQueueRig(
  label: string,
  prefixStem: string,
  options: { latencyMs: number; workers: number; concurrency: number },
): Promise<QueueRig> {
  let billed = 0;
  const sim = await startSimulator({
    latency: { minMs: options.latencyMs, maxMs: options.latencyMs },
    answer: () => ({ merchant: 'Blue Bottle', total: 8.99 }),
    onBilled: () => {
      billed++;
    },
  });
  const testbed = await queueTestbed(label, prefixStem, RECEIPT_PATTERN);
  const workers: Running[] = [];
  for (let i = 0; i < options.workers; i++)
    workers.push(await startQueueWorker(testbed, sim.baseUrls.openai, options.concurrency));
  return {
    sim,
    testbed,
    billed: () => billed,
    async close() {
      for (const w of workers) await w.stop('SIGTERM');
      await sim.close();
      await testbed.close();
    },
  };
}
