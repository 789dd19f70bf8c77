/**
 * What `visionpipe run` offers to watch a run: Prometheus metrics (`--metrics-port`),
 * structured logs (`--log-file`), alerts (`--alert-webhook`, repeatable), a cost budget
 * (`--max-cost-usd`) and the HTML report (`--report`). All of them listen to the
 * pipeline's events (src/observe) or take finished records; none changes a result.
 * Flags only (light, loaded at start-up); actions/observe.ts does the work.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { ALERT_DEFAULTS, LOG_LEVELS, type LogLevel, parseAlertWebhook } from '../metrics/options.js';
import { durationOption } from './duration-flag.js';
import { integer, oneOf } from './parsers.js';

export interface ObserveFlags {
  metricsPort?: number;
  metricsHost: string;
  metricsLinger: number;
  logFile?: string;
  logLevel: LogLevel;
  alertWebhook?: string[];
  alertSuccessRate: number;
  alertP95: number;
  alertWindow: number;
  alertInterval: number;
  alertMinSamples: number;
  maxCostUsd?: number;
  report?: string;
}

function fraction(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n <= 1)) throw new InvalidArgumentError(`expected a fraction in (0, 1], got "${value}".`);
  return n;
}

function usd(value: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0))
    throw new InvalidArgumentError(`expected a positive amount in USD, got "${value}".`);
  return n;
}

function webhook(value: string, previous: string[] | undefined): string[] {
  try {
    return [...(previous ?? []), parseAlertWebhook(value)];
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

export function addObserveOptions(command: Command): Command {
  return command
    .option(
      '--metrics-port <n>',
      'serve Prometheus metrics at http://127.0.0.1:N/metrics while the run lasts',
      integer(0, 65_535),
    )
    .option('--metrics-host <host>', 'address for --metrics-port', '127.0.0.1')
    .addOption(
      durationOption(
        '--metrics-linger',
        'keep /metrics up this long after the run (a last scrape; SIGINT/SIGTERM ends it)',
        0,
      ),
    )
    .option(
      '--log-file <file>',
      'structured log: JSON lines (run start/end, retries, 429s, failures; images at debug)',
    )
    .option(
      '--log-level <level>',
      `level for --log-file: ${LOG_LEVELS.join(', ')}`,
      oneOf(LOG_LEVELS),
      'info',
    )
    .option(
      '--alert-webhook <url>',
      'POST alerts here (Slack or generic JSON; value/threshold: fraction 0-1, ms, USD); repeatable',
      webhook,
    )
    .option(
      '--alert-success-rate <fraction>',
      "alert (condition success_rate) when ok / (ok + empty + low_confidence + errors) over the window (the summary's success rate) drops below this fraction 0-1 (0.95 = 95 %)",
      fraction,
      ALERT_DEFAULTS.minSuccessRate,
    )
    .addOption(
      durationOption(
        '--alert-p95',
        'alert (condition p95_latency) when p95 image latency over the window rises above this',
        ALERT_DEFAULTS.maxP95Ms,
      ),
    )
    .addOption(
      durationOption('--alert-window', 'the sliding window the rate alerts look at', ALERT_DEFAULTS.windowMs),
    )
    .addOption(
      durationOption(
        '--alert-interval',
        'at most one message per condition per this',
        ALERT_DEFAULTS.intervalMs,
      ),
    )
    .option(
      '--alert-min-samples <n>',
      'attempted images needed in the window before the rate alerts can fire (a count)',
      integer(1),
      ALERT_DEFAULTS.minSamples,
    )
    .option(
      '--max-cost-usd <usd>',
      "cost budget in USD: stop before it would be exceeded, exit 4 (run again with more to resume); alert cost_budget when the projected cost (spent / done x total) reaches 80 %; every model the run can call needs a price (built in or the config's prices; the local engine needs none), else exit 2",
      usd,
    )
    .option(
      '--report <file>',
      'write the HTML run report here when the run ends (checked before the run starts)',
    );
}
