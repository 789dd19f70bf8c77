#!/usr/bin/env node
'use strict';
// CommonJS on purpose: Node's ESM loader reads modules through the libuv thread pool,
// which fixes the pool's size before any ESM code runs. Sizing it here, before the
// first asynchronous read, is the only way a `UV_THREADPOOL_SIZE` default can take effect.
// libvips works on one image per pool thread, so the pool bounds image parallelism.
const os = require('node:os');
if (!process.env.UV_THREADPOOL_SIZE) {
  process.env.UV_THREADPOOL_SIZE = String(Math.max(4, os.availableParallelism() + 2));
}
// A Ctrl-C or SIGTERM while `run` is still starting (loading modules, the pattern, the
// providers) must not kill it before its summary: the first signal is kept here and taken
// over by the run's own handler (src/cli/interrupt.ts), which stops the run at once and
// prints the stopped summary. A second one exits with 130, as it does later.
if (process.argv.slice(2).find((arg) => !arg.startsWith('-')) === 'run') {
  const latch = {
    signals: [],
    handler(signal) {
      latch.signals.push(signal);
      if (latch.signals.length > 1) process.exit(130);
    },
  };
  globalThis[Symbol.for('visionpipe.earlySignals')] = latch;
  process.on('SIGINT', latch.handler);
  process.on('SIGTERM', latch.handler);
}
import('../dist/cli/main.js').catch((error) => {
  process.stderr.write(`visionpipe failed to start: ${error?.stack ?? error}\n`);
  process.exit(3);
});
