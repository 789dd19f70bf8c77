/**
 * The answer is keyed on everything that changes it (issue 11 §1), tried as a user would:
 * real CLI processes against real loopback servers. A rehearsal against one endpoint must
 * never be served for another endpoint or other provider options, from the cache or from
 * resume; and resume decides by the content an input holds now, never by its name, for
 * every input kind the CLI takes (files, URLs, list files).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/pipeline/record.js';
import { runCli } from '../support/cli.js';
import { startServer, type TestServer } from '../support/http.js';
import { seededBytes, tempDir } from '../support/images.js';
import {
  type CompatibleServer,
  startCompatibleServer,
  writeSimplePattern,
} from '../support/openai-compatible.js';

let folder: string;
let pattern: string;
let receipt: string;
const servers: TestServer[] = [];

const answer = (vendor: string) => JSON.stringify({ vendor_name: vendor, total: 12.5 });

async function server(vendor: string): Promise<CompatibleServer> {
  const started = await startCompatibleServer(answer(vendor));
  servers.push(started);
  return started;
}

async function image(seed: number): Promise<Buffer> {
  return sharp(seededBytes(16 * 16 * 3, seed), { raw: { width: 16, height: 16, channels: 3 } })
    .resize(128, 96)
    .png()
    .toBuffer();
}

async function records(file: string): Promise<RunRecord[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RunRecord);
}

function run(inputs: string[], baseUrl: string, dir: string, extra: string[] = []) {
  return runCli(
    [
      'run',
      ...inputs,
      '-p',
      pattern,
      '--provider',
      'openai',
      '--base-url',
      baseUrl,
      '--state-dir',
      path.join(dir, 'state'),
      '-o',
      path.join(dir, 'out.jsonl'),
      '--no-progress',
      '--json',
      '--allow-private-urls',
      ...extra,
    ],
    { env: { OPENAI_API_KEY: 'sk-test-000000000000' } },
  );
}

beforeAll(async () => {
  folder = await tempDir('visionpipe-keys-');
  pattern = await writeSimplePattern(folder);
  receipt = path.join(folder, 'receipt.png');
  await writeFile(receipt, await image(1));
});

afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

describe('cache and resume are keyed on the endpoint and the provider options', () => {
  it.each(['sqlite', 'off'])(
    'a rehearsal against endpoint A is never served for endpoint B (--cache %s, same -o and state, --fresh)',
    async (cache) => {
      const dir = await tempDir('visionpipe-keys-run-');
      const a = await server('REHEARSAL');
      const b = await server('ACME');
      expect((await run([receipt], a.baseUrl, dir, ['--cache', cache])).code).toBe(0);
      expect(a.calls).toHaveLength(1);
      // Same -o for another endpoint: refused (exit 2), the rehearsal's records untouched...
      const refused = await run([receipt], b.baseUrl, dir, ['--cache', cache]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('--fresh');
      expect(b.calls).toHaveLength(0);
      // ...and with --fresh the cache never serves endpoint A's answer for B.
      const second = await run([receipt], b.baseUrl, dir, ['--cache', cache, '--fresh']);
      expect(second.code).toBe(0);
      expect(b.calls).toHaveLength(1);
      const [record] = await records(path.join(dir, 'out.jsonl'));
      expect(record).toMatchObject({ status: 'ok', cache: 'miss', output: { vendor_name: 'ACME' } });
      // The same endpoint again: now it is known (a hit, or a resumed record).
      await run([receipt], b.baseUrl, dir, ['--cache', cache]);
      expect(b.calls).toHaveLength(1);
    },
  );

  it('an option that changes the answer (--detail) is a new answer; the same options are a hit', async () => {
    const dir = await tempDir('visionpipe-keys-detail-');
    const a = await server('ACME');
    await run([receipt], a.baseUrl, dir, ['--detail', 'low', '--fresh']);
    await run([receipt], a.baseUrl, dir, ['--detail', 'high', '--fresh']);
    expect(a.calls.map((c) => JSON.stringify(c.body.messages).includes('"detail":"low"'))).toEqual([
      true,
      false,
    ]);
    await run([receipt], a.baseUrl, dir, ['--detail', 'low', '--fresh']);
    expect(a.calls).toHaveLength(2);
  });
});

describe('resume decides by content, never by an input name', () => {
  it('a file rewritten under the same name is read again even with no stat memo (--cache off)', async () => {
    const dir = await tempDir('visionpipe-keys-file-');
    const file = path.join(dir, 'scan.png');
    await writeFile(file, await image(2));
    const a = await startCompatibleServer((_call, n) => answer(`V${n}`));
    servers.push(a);
    await run([file], a.baseUrl, dir, ['--cache', 'off']);
    await run([file], a.baseUrl, dir, ['--cache', 'off']);
    expect(a.calls).toHaveLength(1); // unchanged: resumed
    await writeFile(file, await image(3));
    await run([file], a.baseUrl, dir, ['--cache', 'off']);
    expect(a.calls).toHaveLength(2);
    const [record] = await records(path.join(dir, 'out.jsonl'));
    expect(record?.output).toEqual({ vendor_name: 'V2', total: 12.5 });
  });

  it('a URL (given directly or in a --list file) whose image changed is processed again, an unchanged one is not', async () => {
    const dir = await tempDir('visionpipe-keys-url-');
    let current = await image(4);
    const origin = await startServer((_req, res) => {
      res.setHeader('content-type', 'image/png');
      res.end(current);
    });
    servers.push(origin);
    const a = await startCompatibleServer((_call, n) => answer(`V${n}`));
    servers.push(a);
    const direct = `${origin.url}/direct.png`;
    const listed = `${origin.url}/listed.png`;
    const list = path.join(dir, 'urls.txt');
    await writeFile(list, `${listed}\n`);
    const both = () => run([direct], a.baseUrl, dir, ['--cache', 'off', '--list', list]);
    await both();
    expect(a.calls).toHaveLength(1); // same bytes at both URLs: one call, one dedup
    await both();
    expect(a.calls).toHaveLength(1); // nothing changed: both resumed
    current = await image(5);
    await both();
    expect(a.calls).toHaveLength(2);
    const byInput = new Map((await records(path.join(dir, 'out.jsonl'))).map((r) => [r.input, r]));
    expect(byInput.get(direct)?.output).toEqual({ vendor_name: 'V2', total: 12.5 });
    expect(byInput.get(listed)?.output).toEqual({ vendor_name: 'V2', total: 12.5 });
  });
});
