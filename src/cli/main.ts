/**
 * The `visionpipe` binary, loaded by bin/visionpipe.cjs after it has sized the libuv
 * thread pool (see image/tuning.ts for why parallelism is per image).
 */
import { tuneSharpForBatches } from '../image/tuning.js';
import { runCli } from './program.js';

process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  // `visionpipe ... | head` closes stdout early: stop quietly, like other CLI tools.
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

tuneSharpForBatches();
process.exitCode = await runCli(process.argv.slice(2));
