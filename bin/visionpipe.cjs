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
import('../dist/cli/main.js').catch((error) => {
  process.stderr.write(`visionpipe failed to start: ${error?.stack ?? error}\n`);
  process.exit(3);
});
