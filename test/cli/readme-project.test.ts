/**
 * The README's "Your own project" block, run line by line as written, in a new folder
 * holding what the block says it needs (a `receipt.jpg`, an `inbox/` with an image).
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import { startCli } from '../support/processes.js';

async function projectBlock(): Promise<string[][]> {
  const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Your own project'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README: no sh block under "### Your own project"');
  return block
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line !== '')
    .map((line) => line.split(/\s+/));
}

describe('README: your own project', () => {
  it('every command of the block runs and succeeds', async () => {
    const commands = await projectBlock();
    expect(commands.length).toBeGreaterThanOrEqual(5);
    const dir = await tempDir('visionpipe-readme-project-');
    await copyFile(path.join(ROOT, 'samples/images/receipt-004.jpg'), path.join(dir, 'receipt.jpg'));
    await mkdir(path.join(dir, 'inbox'));
    await copyFile(path.join(ROOT, 'samples/images/receipt-002.png'), path.join(dir, 'inbox', 'r.png'));
    for (const [program, ...args] of commands) {
      expect(program).toBe('visionpipe');
      if (args.includes('--watch')) {
        const out = path.join(dir, args[args.indexOf('--out') + 1]!);
        const watching = startCli([...args, '--no-progress'], {}, dir);
        await watching.waitFor(/Watching inbox/);
        for (let i = 0; i < 600; i++) {
          if ((await readFile(out, 'utf8').catch(() => '')).includes('"status":"ok"')) break;
          await sleep(200);
        }
        expect(await watching.stop('SIGINT')).toBe(0);
        continue;
      }
      const result = await runCli(args, { cwd: dir });
      expect({ args, code: result.code, stderr: result.stderr }).toMatchObject({ code: 0 });
    }
    const stats = await runCli(['cache', 'stats', '--json'], { cwd: dir });
    expect(JSON.parse(stats.stdout)).toMatchObject({ results: { entries: 2 } });
  }, 180_000);
});
