/**
 * `node --import` this file to record every module a process loads, one URL or path a
 * line, in the file named by MODULE_TRACE_FILE: ES modules through a loader hook (which
 * also sees the entry of every CommonJS package imported from ESM) and, at exit, the
 * CommonJS require cache. Used to check what the CLI loads at start-up.
 */
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const file = process.env.MODULE_TRACE_FILE;
if (file) {
  register(new URL('./hooks.mjs', import.meta.url), { data: { file } });
  const require = createRequire(import.meta.url);
  process.on('exit', () => {
    const paths = Object.keys(require.cache);
    if (paths.length > 0) appendFileSync(file, `${paths.join('\n')}\n`);
  });
}
