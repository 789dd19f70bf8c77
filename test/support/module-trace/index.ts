/**
 * Runs the real `visionpipe` binary under register.mjs and reports which modules it
 * loaded: every URL/path, and the npm packages among them (`sharp`, `@fastify/multipart`).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BIN, type CliResult, runCommand } from '../cli.js';

const REGISTER = path.join(import.meta.dirname, 'register.mjs');

export interface TracedRun extends CliResult {
  /** Every module loaded, as a file URL, `node:` URL or path, in load order (repeats removed). */
  modules: string[];
  /** npm package names among `modules`, e.g. `commander`, `sharp`, `@fastify/multipart`. */
  packages: Set<string>;
}

/** The npm package a module URL or path belongs to (the innermost node_modules), if any. */
export function packageOf(module: string): string | undefined {
  const match = /.*node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(decodeURIComponent(module));
  return match?.[1]?.replace('\\', '/');
}

/** `visionpipe <args>` with its module loads recorded. */
export async function traceCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<TracedRun> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'visionpipe-trace-'));
  const file = path.join(dir, 'modules.txt');
  try {
    const result = await runCommand(process.execPath, ['--import', REGISTER, BIN, ...args], {
      ...options,
      env: { ...process.env, NO_COLOR: '1', ...options.env, MODULE_TRACE_FILE: file },
    });
    const text = await readFile(file, 'utf8').catch(() => '');
    const modules = [...new Set(text.split('\n').filter(Boolean))];
    const packages = new Set(modules.map(packageOf).filter((name): name is string => name !== undefined));
    return { ...result, modules, packages };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
