/** `visionpipe simulate --limiter <shape>` as users start it: a real process, a real port, real refusals. */
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { solidJpeg } from '../support/simulator-fixtures.js';

describe('visionpipe simulate --limiter', () => {
  it('serves a concurrency-capped zoo server and reports its refusals on exit', async () => {
    let child: ChildProcess | undefined;
    let stdout = '';
    const url = new Promise<string>((resolve) => {
      const done = runCli(
        ['simulate', '--limiter', 'concurrency', '--max-in-flight', '2', '--latency', '300ms', '--port', '0'],
        {
          timeoutMs: 60_000,
          onSpawn: (spawned) => {
            child = spawned;
            spawned.stdout?.on('data', (chunk: Buffer) => {
              stdout += chunk.toString();
              const match = /--base-url (http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(stdout);
              if (match) resolve(match[1]!);
            });
          },
        },
      );
      void done;
    });
    const base = await url;
    expect(stdout).toContain('limiter concurrency');
    const image = (await solidJpeg(32, 32)).toString('base64');
    const call = () =>
      fetch(`${base}/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk-x', 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'gpt-4o-mini',
          messages: [
            {
              role: 'user',
              content: [{ type: 'image_url', image_url: { url: `data:image/jpeg;base64,${image}` } }],
            },
          ],
        }),
      }).then((r) => r.status);
    const statuses = await Promise.all([call(), call(), call(), call()]);
    expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    expect(statuses.filter((s) => s === 429)).toHaveLength(2);
    const exited = new Promise<void>((resolve) => child!.once('close', () => resolve()));
    child!.kill('SIGINT');
    await exited;
    expect(stdout).toMatch(/"rateLimited": 2/);
  });

  it('refuses an unknown shape naming the choices', async () => {
    const result = await runCli(['simulate', '--limiter', 'hourglass']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/token-bucket/);
  });
});
