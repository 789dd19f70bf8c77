/**
 * The limiter's Lua scripts, kept as standalone `.lua` files (BullMQ style) and
 * loaded by name. The build compiles TypeScript only, so the files are looked up in
 * two places: beside this module (`src/flow/lua/` when running from source under
 * vitest or tsx) and, from the compiled `dist/flow/`, in the package's own
 * `src/flow/lua/` (shipped through package.json `files`). No copy step to forget.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { VisionpipeError } from '../errors.js';

export const SCRIPT_NAMES = ['acquire', 'pause', 'flow'] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

const cache = new Map<ScriptName, string>();

/** The candidate locations of a script, in the order they are tried. */
export function scriptCandidates(name: ScriptName, base: string | URL = import.meta.url): URL[] {
  return [new URL(`./lua/${name}.lua`, base), new URL(`../../src/flow/lua/${name}.lua`, base)];
}

export function loadScript(name: ScriptName): string {
  const cached = cache.get(name);
  if (cached !== undefined) return cached;
  const tried: string[] = [];
  for (const url of scriptCandidates(name)) {
    try {
      const source = readFileSync(url, 'utf8');
      cache.set(name, source);
      return source;
    } catch {
      tried.push(fileURLToPath(url));
    }
  }
  throw new VisionpipeError('INTERNAL', `Lua script ${name}.lua not found (looked in ${tried.join(', ')})`);
}

/** The commands the scripts add to an ioredis client (EVALSHA, falling back to EVAL after a restart). */
export interface LimiterCommands {
  visionpipeAcquire(...keysThenArgs: (string | number)[]): Promise<[number, string, string]>;
  visionpipePause(...keysThenArgs: (string | number)[]): Promise<string>;
  /** lua/flow.lua: the learned limits the adaptive flows of all processes share. */
  visionpipeFlow(...keysThenArgs: (string | number)[]): Promise<string[]>;
}

export function defineLimiterCommands(client: Redis): Redis & LimiterCommands {
  if (!('visionpipeAcquire' in client)) {
    client.defineCommand('visionpipeAcquire', { numberOfKeys: 3, lua: loadScript('acquire') });
    client.defineCommand('visionpipePause', { numberOfKeys: 3, lua: loadScript('pause') });
    client.defineCommand('visionpipeFlow', { numberOfKeys: 2, lua: loadScript('flow') });
  }
  return client as Redis & LimiterCommands;
}
