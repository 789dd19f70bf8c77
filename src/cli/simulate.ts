/**
 * `visionpipe simulate`: the provider simulator as a local server, to rehearse a batch
 * (rate limits, latency spread, outages) without spending anything. It speaks the
 * OpenAI, Anthropic, Gemini and ImgGo wire formats on 127.0.0.1 only. The command's flags
 * and help; what it does is actions/simulate.ts, loaded when it runs.
 */
import { Command } from 'commander';
import { VisionpipeError } from '../errors.js';
import { LIMITER_SHAPES, type LimiterShape } from '../simulator/shapes.js';
import { durationOption } from './duration-flag.js';
import { integer, oneOf } from './parsers.js';

export interface SimulateFlags {
  port: number;
  latency: string;
  timeScale: number;
  rpm?: number;
  tpm?: number;
  faults5xx: number;
  faults529: number;
  faultsReset: number;
  faultsMalformed: number;
  answer: 'local' | 'empty';
  quotaExceeded?: boolean;
  seed: number;
  limiter?: LimiterShape;
  rps: number;
  /** The limiter window, ms. */
  window: number;
  maxInFlight: number;
  queue: number;
  /** leaky-bucket: calls beyond the even spacing admitted. */
  burst: number;
  /** Every --limiter refusal says this Retry-After (s), true or not. */
  retryAfter?: number;
  /** JSONL file for the request log. */
  log?: string;
  /** `id=file` (or `file`: the id is its name without extension) pattern registrations for ImgGo. */
  imggoPattern?: string[];
}

const fraction = (option: string) => (value: string) => {
  const n = Number(value);
  if (!(n >= 0 && n <= 1))
    throw new VisionpipeError('INVALID_OPTION', `${option} must be a fraction from 0 to 1 (got "${value}")`, {
      option,
    });
  return n;
};

function positiveNumber(value: string, option: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0))
    throw new VisionpipeError('INVALID_OPTION', `${option} must be a positive number (got "${value}")`, {
      option: option.replace(/^--/, ''),
    });
  return n;
}

const EXAMPLES = `
Examples:
  $ visionpipe simulate --rpm 300 --latency 2s-10s --faults-5xx 0.05
  $ visionpipe simulate --limiter token-bucket --rps 10 --latency 200ms-1s --faults-5xx 0.05 --faults-reset 0.01
  $ visionpipe simulate --limiter concurrency --max-in-flight 6      # bare 429s, no headers
  $ visionpipe simulate --limiter fixed-window --rps 5 --window 1m   # OpenAI header semantics
  $ OPENAI_API_KEY=sim visionpipe run samples/images -p samples/patterns/invoice.json \\
      --provider openai --base-url http://127.0.0.1:8787/v1 --rpm 300
  $ visionpipe simulate --imggo-pattern invoice=samples/patterns/invoice.json --log requests.jsonl
  $ IMGGO_API_KEY=sim visionpipe run samples/images -p samples/patterns/invoice.json \\
      --provider imggo --imggo-pattern invoice --base-url http://127.0.0.1:8787/api

Limiter shapes (--limiter): ${LIMITER_SHAPES.join(', ')}. Rates and windows are real
time; --time-scale scales latencies and the --rpm/--tpm windows only.

Answers come from the local OCR engine run on the pixels received (--answer local), so
the resolution you send changes the accuracy you get, as with a real model.`;

export function simulateCommand(): Command {
  return new Command('simulate')
    .description(
      'Run the provider simulator: OpenAI/Anthropic/Gemini/ImgGo wire formats with real 429s, latency and faults',
    )
    .option('--port <n>', 'port on 127.0.0.1', integer(0, 65_535), 8787)
    .option(
      '--latency <range>',
      'per-call latency, uniform in a range of durations, e.g. 2s-10s or 50ms (30s, 5m, 1500ms; a bare number is ms)',
      '500ms-2s',
    )
    .option('--time-scale <x>', 'real ms per simulated ms (0.1 = ten times faster)', (v) => Number(v), 1)
    .option('--rpm <n>', 'requests per minute before 429s', integer(1))
    .option('--tpm <n>', 'input tokens per minute before 429s', integer(1))
    .option('--faults-5xx <p>', 'share of calls answered with a 5xx', fraction('faults-5xx'), 0)
    .option('--faults-529 <p>', 'share of calls answered overloaded (529)', fraction('faults-529'), 0)
    .option('--faults-reset <p>', 'share of connections reset', fraction('faults-reset'), 0)
    .option('--faults-malformed <p>', 'share of bodies with malformed JSON', fraction('faults-malformed'), 0)
    .option(
      '--answer <how>',
      'local (OCR the pixels received) or empty (nulls)',
      oneOf(['local', 'empty'] as const),
      'local',
    )
    .option('--quota-exceeded', 'answer every call as out of quota (test fail-fast)')
    .option('--seed <n>', 'seed for latencies and faults', integer(0), 1)
    .option(
      '--limiter <shape>',
      'a rate limiter from the zoo in front of model calls (see below); replaces --rpm/--tpm',
      oneOf(LIMITER_SHAPES),
    )
    .option(
      '--rps <n>',
      'requests per second the --limiter shape sustains',
      (v) => positiveNumber(v, '--rps'),
      20,
    )
    .addOption(durationOption('--window', 'fixed-window / sliding-log window', 2000))
    .option(
      '--max-in-flight <n>',
      'concurrency shapes: calls at once (queue-503: processed at once)',
      integer(1),
      8,
    )
    .option('--queue <n>', 'queue-503: calls that wait before the 503s start', integer(0), 4)
    .option('--burst <n>', 'leaky-bucket: calls beyond the even 1/--rps spacing admitted', integer(0), 0)
    .option(
      '--retry-after <s>',
      "every --limiter refusal says this Retry-After (whole s) instead of the shape's own wait, true or not",
      integer(0),
    )
    .option(
      '--log <file>',
      'append every request received and its answer to this JSONL file (credentials redacted)',
    )
    .option(
      '--imggo-pattern <id=file>',
      'serve this pattern file under an ImgGo pattern id (repeatable; FILE alone: the id is its name), so --provider imggo --imggo-pattern ID gets answers in its schema',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .addHelpText('after', EXAMPLES)
    .action(async (flags: SimulateFlags) => {
      const { runSimulator } = await import('./actions/simulate.js');
      await runSimulator(flags);
    });
}
