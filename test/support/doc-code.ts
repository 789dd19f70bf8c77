/** Running a doc's TypeScript block as a user would: `visionpipe` is this checkout's src/. */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, runCommand } from './cli.js';
import { tempDir } from './images.js';

/** A folder holding what the examples name: `invoice.json` and two scans in `scans/`. */
export async function exampleFolder(prefix: string): Promise<string> {
  const dir = await tempDir(prefix);
  await mkdir(path.join(dir, 'scans'));
  await copyFile(path.join(ROOT, 'samples/patterns/invoice.json'), path.join(dir, 'invoice.json'));
  await copyFile(path.join(ROOT, 'samples/images/invoice-001.png'), path.join(dir, 'scans/invoice-0042.jpg'));
  await copyFile(path.join(ROOT, 'samples/images/invoice-002.png'), path.join(dir, 'scans/invoice-0043.png'));
  return dir;
}

/** Runs `code` (imports from 'visionpipe' pointed at src/) with tsx in `dir`. */
export async function runTypeScript(code: string, dir: string, env: Record<string, string> = {}) {
  if (!code.includes("from 'visionpipe'")) throw new Error("a library example imports from 'visionpipe'");
  const file = path.join(dir, `example-${Math.random().toString(36).slice(2, 8)}.mts`);
  await writeFile(file, code.replaceAll("from 'visionpipe'", `from '${path.join(ROOT, 'src/index.ts')}'`));
  return runCommand(process.execPath, ['--import', import.meta.resolve('tsx'), file], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1', ...env },
    timeoutMs: 180_000,
  });
}
