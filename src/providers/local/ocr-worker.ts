/**
 * The tesseract.js worker thread, wrapped so that nothing it prints reaches the user's
 * terminal. tesseract's C++ core writes diagnostics (`Warning: Invalid resolution 0 dpi`,
 * `Error in boxClipToRectangle: box outside rectangle`) through console.log/console.error,
 * which a worker thread pipes into the parent's stdout/stderr, through the progress line.
 * The wrapper replaces the console before the core loads (emscripten binds console.log
 * and console.error when its module is evaluated) and sends every line to the parent over
 * OCR_DIAGNOSTICS_CHANNEL, where ocr-diagnostics.ts logs it at debug level.
 *
 * The wrapper is plain CommonJS written once to the OS temp folder (named by its content
 * hash): a worker thread cannot load TypeScript sources, and the same file then serves the
 * built package, the tests and the benchmarks alike. Nothing is written to the working
 * directory.
 */
import { createHash } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { OCR_DIAGNOSTICS_CHANNEL } from './ocr-diagnostics.js';

const require = createRequire(import.meta.url);

function source(): string {
  const tesseractWorker = require.resolve('tesseract.js/src/worker-script/node/index.js');
  return `'use strict';
// Written by visionpipe (src/providers/local/ocr-worker.ts): tesseract's output goes to the parent, not the terminal.
const { BroadcastChannel } = require('node:worker_threads');
const channel = new BroadcastChannel(${JSON.stringify(OCR_DIAGNOSTICS_CHANNEL)});
channel.unref();
const forward = (level) => (...args) => channel.postMessage({ level, text: args.map(String).join(' ') });
console.log = forward('log');
console.info = forward('log');
console.debug = forward('log');
console.warn = forward('warn');
console.error = forward('error');
require(${JSON.stringify(tesseractWorker)});
`;
}

let cached: string | undefined;

/** The wrapper's path, writing it first when it is not there yet. */
export function ocrWorkerPath(): string {
  if (cached) return cached;
  const text = source();
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const file = path.join(os.tmpdir(), `visionpipe-ocr-worker-${hash}.cjs`);
  if (!existsSync(file)) {
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, text);
    renameSync(temporary, file); // atomic: a concurrent process never loads half a file
  }
  cached = file;
  return file;
}
