/**
 * `run --queue` writes under the same output guard as a local run (issue 12): -o naming the
 * pattern file or an input is OUTPUT_CONFLICT (exit 2, nothing truncated), and a file
 * visionpipe did not write is only replaced with --overwrite. Real Redis (a unique prefix),
 * a unique PostgreSQL database, one `visionpipe worker` on a counting loopback provider.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecords, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import { type CompatibleServer, startCompatibleServer } from '../support/openai-compatible.js';
import type { Running } from '../support/processes.js';
import { type QueueTestbed, queueRunArgs, queueTestbed, startQueueWorker } from '../support/queue-run.js';

let server: CompatibleServer;
let testbed: QueueTestbed;
let worker: Running;
let dir: string;
let image: string;

beforeAll(async () => {
  server = await startCompatibleServer('{"merchant": "Blue Bottle", "total": 8.99}');
  testbed = await queueTestbed('queueoutputs', 'vpqo', {
    name: 'Receipt',
    instructions: 'Read the receipt',
    schema: { merchant: 'string', total: 'number' },
  });
  worker = await startQueueWorker(testbed, server.baseUrl, 1);
  dir = await tempDir('vp-queue-outputs-');
  image = path.join(dir, 'receipt.png');
  await sharp({ create: { width: 24, height: 24, channels: 3, background: '#468' } })
    .png()
    .toFile(image);
}, 120_000);

afterAll(async () => {
  await worker?.stop('SIGTERM');
  await testbed?.close();
  await server?.close();
});

function queueRun(out: string, extra: string[] = []) {
  return runCli(
    queueRunArgs([image], { pattern: testbed.pattern, out, state: path.join(dir, 'state') }, extra),
    {
      env: testbed.env,
    },
  );
}

describe('run --queue: outputs under the output guard', () => {
  it('-o naming the pattern file or an input is refused, exit 2, nothing truncated', async () => {
    const patternBefore = await readFile(testbed.pattern);
    const imageBefore = await readFile(image);
    const onPattern = await queueRun(testbed.pattern, ['--overwrite']);
    expect(onPattern.code, onPattern.stderr).toBe(2);
    expect(onPattern.stderr).toContain(`error [OUTPUT_CONFLICT]: -o ${testbed.pattern} is the pattern file`);
    const onInput = await queueRun(image, ['--overwrite']);
    expect(onInput.code, onInput.stderr).toBe(2);
    expect(onInput.stderr).toContain(`error [OUTPUT_CONFLICT]: -o ${image} is an input`);
    expect(await readFile(testbed.pattern)).toEqual(patternBefore);
    expect(await readFile(image)).toEqual(imageBefore);
    expect(server.calls).toHaveLength(0);
  });

  it('a file visionpipe did not write is replaced only with --overwrite', async () => {
    const notes = path.join(dir, 'notes.txt');
    await writeFile(notes, 'my notes\n');
    const refused = await queueRun(notes);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain('not a visionpipe results file: pass --overwrite');
    expect(await readFile(notes, 'utf8')).toBe('my notes\n');
    const replaced = await queueRun(notes, ['--overwrite']);
    expect(replaced.code, replaced.stderr).toBe(0);
    const records = await readRecords(notes);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 'ok', output: { merchant: 'Blue Bottle', total: 8.99 } });
  }, 120_000);
});
