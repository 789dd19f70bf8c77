/**
 * Structured logs with pino, fed by the pipeline's events: JSON lines to a file
 * (`--log-file`), and warnings shown pretty on the console when it is a terminal.
 *
 * What is logged, at which level:
 * - info: run start and end (`event: run.start`, `run.end`), retries (`event: retry`)
 *   and 429 answers (`event: rate_limited`), with the provider, model and error code;
 * - debug: one line per image (`event: image`: input, status, cache, latency, calls, cost);
 * - warn: one line per failed image (`event: image.failed`: code and message), circuit
 *   breaker changes (`event: circuit`) and alerts (`event: alert`).
 *
 * Secrets are kept out by construction: lines are built from records, events and the
 * flags named by the caller, never from request headers or the environment; as a second
 * guard, fields named like credentials are redacted wherever they appear.
 */
import pino, { type Logger } from 'pino';
import { VisionpipeError } from '../errors.js';
import { refusedForRate, subscribe } from '../observe/events.js';
import { pinoPretty } from '../on-first-use.js';
import { redactSecrets } from '../secrets.js';

import { LOG_LEVELS, type LogLevel } from './options.js';

export { LOG_LEVELS, type LogLevel };

/** Field names redacted wherever they appear (a second guard: none are logged on purpose). */
const REDACT = [
  'apiKey',
  'api_key',
  'authorization',
  'password',
  'token',
  '*.apiKey',
  '*.api_key',
  '*.authorization',
  '*.password',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  '*.headers["x-goog-api-key"]',
];

export interface RunLogOptions {
  /** JSON lines go here (appended). */
  file?: string;
  /** Level for the file (default info). */
  level?: LogLevel;
  /** Pretty warnings for a terminal (e.g. the progress bar's log()); none when undefined. */
  console?: (line: string) => void;
}

export interface RunLog {
  readonly logger: Logger;
  /** Flushes the file and stops listening to events. */
  close(): void;
}

export function createRunLog(options: RunLogOptions): RunLog {
  const streams: pino.StreamEntry[] = [];
  let destination: (pino.DestinationStream & { flushSync?: () => void; end?: () => void }) | undefined;
  if (options.file) {
    try {
      destination = pino.destination({ dest: options.file, sync: true, mkdir: true, append: true });
    } catch (error) {
      throw new VisionpipeError(
        'WRITE_FAILED',
        `--log-file ${options.file}: cannot open (${(error as Error).message})`,
        {
          option: 'logFile',
          cause: error,
        },
      );
    }
    const level = options.level ?? 'info';
    if (level !== 'silent') streams.push({ level, stream: destination });
  }
  if (options.console) {
    const pretty = pinoPretty().prettyFactory({
      colorize: false,
      translateTime: 'HH:MM:ss',
      ignore: 'pid,hostname,event',
    });
    const write = options.console;
    streams.push({ level: 'warn', stream: { write: (line: string) => write(pretty(line).trimEnd()) } });
  }
  const lowest = streams.length ? undefined : 'silent';
  const logger = pino(
    {
      level: lowest ?? (options.file ? minLevel(options.level ?? 'info', 'warn') : 'warn'),
      base: { pid: process.pid },
      redact: { paths: REDACT, censor: '[redacted]' },
      // Every line, message included, as every other writer: known keys and key shapes hidden.
      hooks: { streamWrite: (line) => redactSecrets(line) },
    },
    pino.multistream(streams),
  );

  const unsubscribe = followEvents(logger);
  return {
    logger,
    close() {
      for (const off of unsubscribe) off();
      destination?.flushSync?.();
    },
  };
}

function minLevel(a: LogLevel, b: LogLevel): LogLevel {
  return LOG_LEVELS.indexOf(a) <= LOG_LEVELS.indexOf(b) ? a : b;
}

/** Logs the pipeline's events (images, failures, retries, 429s, circuits); returns the unsubscribes. */
function followEvents(logger: Logger): Array<() => void> {
  return [
    subscribe('image', ({ record }) => {
      logger.debug(
        {
          event: 'image',
          input: record.input,
          status: record.status,
          cache: record.cache,
          provider: record.provider,
          model: record.model,
          latency_ms: record.latency_ms,
          attempts: record.attempts,
          cost_usd: record.cost_usd,
        },
        `${record.status} ${record.input}`,
      );
      if (record.status === 'error')
        logger.warn(
          { event: 'image.failed', input: record.input, code: record.error?.code, provider: record.provider },
          record.error?.message ?? 'failed',
        );
    }),
    subscribe('retry', (e) =>
      logger.info(
        {
          event: 'retry',
          provider: e.provider,
          model: e.model,
          attempt: e.attempt,
          code: e.code,
          delay_ms: e.delayMs,
        },
        `${e.provider} ${e.model}: attempt ${e.attempt} failed (${e.code}), retrying in ${e.delayMs} ms`,
      ),
    ),
    subscribe('attempt', (e) => {
      if (refusedForRate(e))
        logger.info(
          { event: 'rate_limited', provider: e.provider, model: e.model },
          `${e.provider} answered 429`,
        );
    }),
    subscribe('circuit', (e) =>
      logger.warn(
        { event: 'circuit', provider: e.provider, state: e.state },
        `${e.provider}: circuit ${e.state}`,
      ),
    ),
  ];
}

export interface ServiceLog {
  readonly logger: Logger;
  /** A one-line logger for the service's plumbing (info). */
  line(message: string): void;
  close(): void;
}

/**
 * The log of `serve` and `worker`: pino JSON lines on stdout (the same fields and
 * redaction as a run's `--log-file`, plus `role`), with the pipeline's events as in a
 * run. The API logs each request with its request id (`reqId`, the `x-request-id` it
 * answers with). `level` as in LOG_LEVELS (default info).
 */
export function createServiceLog(
  role: 'serve' | 'worker',
  options: { level?: LogLevel; destination?: pino.DestinationStream } = {},
): ServiceLog {
  const destination = options.destination ?? pino.destination({ dest: 1, sync: true });
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid, role },
      redact: {
        paths: [...REDACT, 'req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie'],
        censor: '[redacted]',
      },
      hooks: { streamWrite: (line) => redactSecrets(line) },
    },
    destination,
  );
  const unsubscribe = followEvents(logger);
  return {
    logger,
    line: (message) => logger.info({ event: role }, message),
    close() {
      for (const off of unsubscribe) off();
    },
  };
}
