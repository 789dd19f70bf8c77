/**
 * Packages loaded on their first use, not at start: undici (110 CommonJS modules), ioredis
 * (45) and pino-pretty (30) cost about 0.3 s of CPU before a run read anything, and a run on
 * local files with the local engine, no Redis and no terminal calls none of them: every short
 * `visionpipe run` paid for them. Likewise yaml (73 modules: YAML patterns, configs, route
 * rules and output only), fast-xml-parser (25: XML patterns and output), csv-stringify (8: CSV output) and
 * hdr-histogram-js (29: the first latency recorded), which a run on JSON files that stops
 * before a call never needs. A synchronous `require` keeps the callers' code as it was;
 * one instance each, as the ESM `import` of a CommonJS package shares it.
 */
import { createRequire } from 'node:module';
import type * as CsvStringifySync from 'csv-stringify/sync';
import type * as FastXmlParser from 'fast-xml-parser';
import type * as HdrHistogram from 'hdr-histogram-js';
import type * as IORedis from 'ioredis';
import type * as PinoPretty from 'pino-pretty';
import type * as Undici from 'undici';
import type * as Yaml from 'yaml';

const load = createRequire(import.meta.url);

/** A function that requires `name` on its first call and returns the same module after. */
function onFirstUse<T>(name: string): () => T {
  let module: T | undefined;
  return () => {
    module ??= load(name) as T;
    return module;
  };
}

/** The undici module, required once. */
export const undici = onFirstUse<typeof Undici>('undici');

/** The ioredis module, required once. */
export const ioredis = onFirstUse<typeof IORedis>('ioredis');

/** pino-pretty (30 modules), for warnings shown on a terminal only; required once. */
export const pinoPretty = onFirstUse<typeof PinoPretty>('pino-pretty');

/** The yaml package, required once. */
export const yaml = onFirstUse<typeof Yaml>('yaml');

/** fast-xml-parser (XML patterns and output), required once. */
export const fastXmlParser = onFirstUse<typeof FastXmlParser>('fast-xml-parser');

/** csv-stringify's synchronous API (CSV output), required once. */
export const csvStringifySync = onFirstUse<typeof CsvStringifySync>('csv-stringify/sync');

/** hdr-histogram-js (latency percentiles), required once. */
export const hdrHistogram = onFirstUse<typeof HdrHistogram>('hdr-histogram-js');
