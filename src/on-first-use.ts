/**
 * Packages loaded on their first use, not at start: undici (110 CommonJS modules), ioredis
 * (45) and pino-pretty (30) cost about 0.3 s of CPU before a run read anything, and a run on
 * local files with the local engine, no Redis and no terminal calls none of them: every short
 * `visionpipe run` paid for them. A synchronous `require` keeps the callers' code as it was;
 * one instance each, as the ESM `import` of a CommonJS package shares it.
 */
import { createRequire } from 'node:module';
import type * as IORedis from 'ioredis';
import type * as PinoPretty from 'pino-pretty';
import type * as Undici from 'undici';

const load = createRequire(import.meta.url);
let undiciModule: typeof Undici | undefined;
let ioredisModule: typeof IORedis | undefined;
let pinoPrettyModule: typeof PinoPretty | undefined;

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

/** pino-pretty (30 modules), for warnings shown on a terminal only; required once. */
export function pinoPretty(): typeof PinoPretty {
  pinoPrettyModule ??= load('pino-pretty') as typeof PinoPretty;
  return pinoPrettyModule;
}
