/**
 * Packages loaded on their first use, not at start. undici (110 CommonJS modules) and
 * ioredis (45) cost about 0.5 s of CPU together before a run read anything, and a run
 * reading local files with the local engine and no Redis never calls either: every short
 * `visionpipe run` paid for them. A synchronous `require` keeps the callers' code as it was;
 * one instance each, as the ESM `import` of a CommonJS package shares it.
 */
import { createRequire } from 'node:module';
import type * as IORedis from 'ioredis';
import type * as Undici from 'undici';

const load = createRequire(import.meta.url);
let undiciModule: typeof Undici | undefined;
let ioredisModule: typeof IORedis | undefined;

/** The undici module, required once. */
export function undici(): typeof Undici {
  undiciModule ??= load('undici') as typeof Undici;
  return undiciModule;
}

/** The ioredis module, required once. */
export function ioredis(): typeof IORedis {
  ioredisModule ??= load('ioredis') as typeof IORedis;
  return ioredisModule;
}
