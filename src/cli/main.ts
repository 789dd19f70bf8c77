/**
 * The `visionpipe` binary, loaded by bin/visionpipe.cjs after it has sized the libuv
 * thread pool (see image/tuning.ts for why parallelism is per image).
 *
 * Start-up imports commander and the commands' declarations only: `--help`, `--version`
 * and usage errors never load sharp, the queue, the service or a provider
 * (test/cli/startup.test.ts holds this). Each command imports what it does when it runs.
 */
import { reportCliError } from './error-output.js';
import { runCli } from './program.js';

process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  // `visionpipe ... | head` closes stdout early: stop quietly, like other CLI tools.
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

// visionpipe's own warnings (a pattern keyword it cannot check, a limiter falling back to
// memory) are messages for the user, printed as one `warning [CODE]: …` line. Node's default
// printer would add "(node:PID)" and a "(Use `node --trace-warnings …`)" hint meant for
// developers; other warnings (deprecations of dependencies) keep Node's own format.
const [nodeWarningPrinter] = process.listeners('warning');
process.removeAllListeners('warning');
process.on('warning', (warning: Error & { code?: string }) => {
  if (typeof warning.code === 'string' && warning.code.startsWith('VISIONPIPE_'))
    process.stderr.write(`warning [${warning.code.slice('VISIONPIPE_'.length)}]: ${warning.message}\n`);
  else nodeWarningPrinter?.call(process, warning);
});

// Whatever escapes a command still ends as one `error [INTERNAL]` line, not a stack trace.
const crash = (error: unknown) => process.exit(reportCliError(error));
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

let tracing: { shutdown(): Promise<void> } | undefined;
process.exitCode = await runCli(process.argv.slice(2), {
  // Before any command runs (never for help): sharp's process-wide batch settings, and
  // tracing when OTEL_EXPORTER_OTLP_ENDPOINT asks for it (the SDK is not loaded otherwise).
  beforeAction: async () => {
    (await import('../image/tuning.js')).tuneSharpForBatches();
    tracing = await (await import('../metrics/tracing.js')).startTracingFromEnv();
  },
});
await tracing?.shutdown();
