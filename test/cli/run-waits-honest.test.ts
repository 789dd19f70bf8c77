/**
 * What a new user's trial found still wrong (issue 13), each as a kind, with the real CLI
 * against loopback OpenAI-compatible servers:
 *
 * - `--max-retry-wait` is a per-image limit on the rate-limit wait: against a server that
 *   always answers 429 + Retry-After, no record waits longer than it, every image fails
 *   RATE_LIMITED, and the progress line and summary show the waits, the 429s and that
 *   every call is held.
 * - waits before a call's first send (--rpm pacing) are on the progress line and in the
 *   summary too.
 * - rates count only images a call worked out: an input that fails before any call is not
 *   an image processed.
 * - an empty folder is a usage error naming it (exit 2).
 * - one success rate: the alert prints the figure the summary prints, also on a resumed run.
 * - a second Ctrl-C still prints the (partial) summary, headed "stopped", before exit 130.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Summary } from '../../src/runs/summary.js';
import { readRecords, runCli, runOpenAiCompatible } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import {
  type CompatibleServer,
  startCompatibleServer,
  writeSimplePattern,
} from '../support/openai-compatible.js';
import { solidJpeg } from '../support/simulator-fixtures.js';

const ANSWER = JSON.stringify({ vendor_name: 'Harbour Cafe', total: 3.5 });
let work: string;
let pattern: string;
let images: string;
let server: CompatibleServer | undefined;

beforeAll(async () => {
  work = await tempDir('visionpipe-waits-honest-');
  pattern = await writeSimplePattern(work);
  images = path.join(work, 'images');
  await mkdir(images);
  for (let i = 0; i < 4; i++)
    await writeFile(
      path.join(images, `r-${i}.jpg`),
      await solidJpeg(64 + i, 48, `#${(0x304050 + i * 4321).toString(16)}`),
    );
});

afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('--max-retry-wait against a server that always answers 429 + Retry-After', () => {
  it('no image waits past it; the progress line and summary show the waits, the 429s and that all calls are held', async () => {
    server = await startCompatibleServer(() => ({ status: 429, headers: { 'retry-after': '1' } }));
    const out = path.join(work, 'always-429.jsonl');
    const result = await runOpenAiCompatible(images, {
      pattern,
      baseUrl: server.baseUrl,
      out,
      extra: ['--max-retry-wait', '4s', '--cache', 'off', '--concurrency', '4'],
      cwd: work,
      env: { VISIONPIPE_PROGRESS_INTERVAL_MS: '300' },
    });
    expect(result.code, result.stderr).toBe(0);
    const records = await readRecords(out);
    expect(records).toHaveLength(4);
    for (const record of records) {
      expect(record).toMatchObject({ status: 'error', error: { code: 'RATE_LIMITED' } });
      expect(record.rate_limited.count).toBeGreaterThan(0);
      expect(record.rate_limited.wait_ms).toBeLessThanOrEqual(4000);
      expect(record.error?.message).toContain('--max-retry-wait budget of 4 s for one image');
      // Every image stops as soon as the next send could not fit, not after sitting out the
      // budget. The server's 1 s, disproved by the refusal right after it, doubles (1 s, 2 s,
      // then 4 s ahead: flow/understated-wait.ts); with a 3 s budget the waits met it exactly
      // and the message's kind was timing (a loaded clean-clone run failed it).
      expect(record.error?.message).toMatch(
        /its waits would add up past the --max-retry-wait budget|the next wait would overrun the --max-retry-wait budget/,
      );
      expect(record.error?.message).toContain('so the image fails now rather than wait');
      // Only refused calls: no attempt (README: attempts are calls not refused; 429s are rate_limited).
      expect(record.attempts).toBe(0);
    }
    // While every call waits, the line says so, with the waits so far.
    expect(result.stderr).toMatch(
      /^run: \d+\/4.*, waiting \d+ s: rate limited by provider openai \(Retry-After\), all \d calls held/m,
    );
    expect(result.stderr).toMatch(
      / · rate limit: held [\dm.]+ ?s, calls waited [\dm.]+ ?s in all, \d+ × 429, 0 retries$/m,
    );
    const refused = records.reduce((sum, r) => sum + r.rate_limited.count, 0);
    expect(result.stdout).toMatch(new RegExp(`waiting on rate limit: held .* · ${refused} × refused`));
  });

  it('--help says what it bounds', async () => {
    const help = await runCli(['run', '--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).toMatch(
      /--max-retry-wait <duration> per image: the most its calls wait in all to be sent again after 429\/overloaded answers/,
    );
  });
});

/** ms of a duration as formatDuration prints it: `2 ms`, `1.5 s`, `1m02s`. */
function ms(text: string): number {
  const m = /^(?:(\d+) ms|([\d.]+) s|(\d+)m(\d+)s)$/.exec(text.trim());
  if (!m) throw new Error(`not a printed duration: ${text}`);
  if (m[1]) return Number(m[1]);
  if (m[2]) return Number(m[2]) * 1000;
  return (Number(m[3]) * 60 + Number(m[4])) * 1000;
}

describe('held and calls waited during a Retry-After hold', () => {
  it('never contradict: every line and the summary show calls waited at least as long as held', async () => {
    // The first call of each image is refused for 3 s; the second is answered.
    server = await startCompatibleServer((_call, n) =>
      n <= 2 ? { status: 429, headers: { 'retry-after': '3' } } : ANSWER,
    );
    const out = path.join(work, 'hold.jsonl');
    const result = await runOpenAiCompatible([path.join(images, 'r-0.jpg'), path.join(images, 'r-1.jpg')], {
      pattern,
      baseUrl: server.baseUrl,
      out,
      extra: ['--cache', 'off', '--concurrency', '2', '--fresh'],
      cwd: work,
      env: { VISIONPIPE_PROGRESS_INTERVAL_MS: '200' },
    });
    expect(result.code, result.stderr).toBe(0);
    const lines = [...result.stderr.matchAll(/rate limit: held ([^,]+), calls waited ([^,]+) in all/g)];
    // Lines printed while the calls were still held (held past a second), not only after.
    expect(
      lines.some(([, held]) => ms(held!) >= 1000),
      result.stderr,
    ).toBe(true);
    for (const [line, held, waited] of lines) expect(ms(waited!), line).toBeGreaterThanOrEqual(ms(held!));
    const summary = /held ([^(]+) \(wall time with a call held\) · calls waited ([^(]+) in all/.exec(
      result.stdout,
    );
    expect(summary, result.stdout).not.toBeNull();
    expect(ms(summary![2]!)).toBeGreaterThanOrEqual(ms(summary![1]!));
  }, 120_000);
});

describe('pacing before the first send (--rpm)', () => {
  it('is on the progress line while every call waits, and in the summary', async () => {
    server = await startCompatibleServer(ANSWER);
    const out = path.join(work, 'paced.jsonl');
    const result = await runOpenAiCompatible(images, {
      pattern,
      baseUrl: server.baseUrl,
      out,
      extra: ['--rpm', '20', '--cache', 'off', '--concurrency', '4', '--fresh'],
      cwd: work,
      env: { VISIONPIPE_PROGRESS_INTERVAL_MS: '300' },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /all \d calls? waiting on the rate limit for \d+ s \(pacing: --rpm\/--tpm, flow\)/,
    );
    expect(result.stdout).toMatch(/waiting on rate limit: .* paced before first sends\)/);
  });
});

describe('rates count only images a call worked out', () => {
  it('an input that fails before any call is not an image processed', async () => {
    server = await startCompatibleServer(ANSWER);
    const folder = path.join(work, 'mixed');
    await mkdir(folder);
    await writeFile(path.join(folder, 'a.jpg'), await solidJpeg(80, 60, '#123456'));
    await writeFile(path.join(folder, 'broken.jpg'), 'this is not an image at all\n');
    const out = path.join(work, 'mixed.jsonl');
    const result = await runOpenAiCompatible(folder, {
      pattern,
      baseUrl: server.baseUrl,
      out,
      extra: ['--cache', 'off', '--json', '--no-progress'],
      cwd: work,
    });
    expect(result.code, result.stderr).toBe(0);
    const records = await readRecords(out);
    const broken = records.find((r) => r.input.endsWith('broken.jpg'));
    expect(broken).toMatchObject({ status: 'error', attempts: 0 });
    expect(broken?.sha256).toMatch(/^[0-9a-f]{64}$/); // it was read, but no call worked it out
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.throughput.images).toBe(1);
    expect(server.calls).toHaveLength(1);
  });
});

describe('an empty folder', () => {
  it('is a usage error naming the folder (exit 2), not a 100 % run', async () => {
    const empty = path.join(work, 'empty');
    await mkdir(empty, { recursive: true });
    const result = await runOpenAiCompatible(empty, {
      pattern,
      baseUrl: 'http://127.0.0.1:9/v1',
      out: path.join(work, 'empty.jsonl'),
      extra: ['--no-progress'],
      cwd: work,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`no input found in ${empty}`);
    expect(result.stdout).not.toContain('100.0 %');
  });
});

describe('one success rate', () => {
  it('the alert prints the figure the summary prints, on a resumed run too', async () => {
    const folder = path.join(work, 'resume');
    await mkdir(folder);
    await writeFile(path.join(folder, 'a.jpg'), await solidJpeg(70, 50, '#a01010'));
    await writeFile(path.join(folder, 'b.jpg'), await solidJpeg(72, 50, '#10a010'));
    const out = path.join(work, 'resume.jsonl');
    let failing = false;
    server = await startCompatibleServer(() => (failing ? { status: 400 } : { content: ANSWER }));
    const run = () =>
      runOpenAiCompatible(folder, {
        pattern,
        baseUrl: server!.baseUrl,
        out,
        extra: ['--cache', 'off', '--no-progress'],
        cwd: work,
      });
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    // Two more inputs, which now fail; the first two are kept from the earlier run.
    await writeFile(path.join(folder, 'c.jpg'), await solidJpeg(74, 50, '#1010a0'));
    await writeFile(path.join(folder, 'd.jpg'), await solidJpeg(76, 50, '#a0a010'));
    failing = true;
    const second = await run();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('2 kept from an earlier run');
    const figures = [...second.stdout.matchAll(/success (?:rate )?(\d+\.\d) %/g)].map((m) => m[1]);
    expect(figures).toEqual(['50.0', '50.0']);
  });
});

describe('a second Ctrl-C', () => {
  it('still prints the partial summary, headed stopped with what was done and left, then exits 130', async () => {
    // The first call answers at once; the others hang until the run is stopped.
    server = await startCompatibleServer((_call, n) =>
      n === 1 ? { content: ANSWER } : { content: ANSWER, delayMs: 60_000 },
    );
    const out = path.join(work, 'twice.jsonl');
    const result = await runOpenAiCompatible(images, {
      pattern,
      baseUrl: server.baseUrl,
      out,
      extra: ['--cache', 'off', '--no-progress', '--fresh'],
      cwd: work,
      timeoutMs: 90_000, // a loaded machine starts the CLI slowly; the stop itself is bounded by the 3 s abort grace
      onSpawn: (child) => {
        let stderr = '';
        let again = false;
        child.stderr?.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          if (!again && stderr.includes('Stopping:')) {
            again = true;
            child.kill('SIGINT');
          }
        });
        // Ctrl-C once the first record is written: 1 done, 3 in flight.
        const poll = setInterval(() => {
          void readFile(out, 'utf8').then(
            (text) => {
              if (text.includes('\n')) {
                clearInterval(poll);
                child.kill('SIGINT');
              }
            },
            () => {},
          );
        }, 50);
        child.on('exit', () => clearInterval(poll));
      },
    });
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain('Interrupted again: aborting');
    expect(result.stdout).toMatch(
      /^stopped \(Ctrl-C\/SIGTERM\) after 1 of 4 inputs, 3 not processed: 1 image processed in /m,
    );
    expect(result.stdout).toContain('stopped early (Ctrl-C/SIGTERM): 3 inputs not processed');
  });
});
