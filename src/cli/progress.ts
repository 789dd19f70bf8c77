/**
 * Progress for long batches: a live bar on a terminal (done/total, rate, ETA, errors),
 * and plain periodic lines when stderr is not a TTY (CI logs, files), so a long run is
 * never silent and never floods a log.
 */

import cliProgress from 'cli-progress';
import { redactSecrets } from '../secrets.js';
import { formatDuration, formatRate, plural } from './format.js';

export interface Progress {
  /** The total, once known (counting runs beside the work, so it may arrive late). */
  setTotal(total: number): void;
  /**
   * One input finished (`failed` for an error record), or stopped in flight by Ctrl-C
   * (`aborted`: not done, not an error, as the summary counts it).
   */
  tick(failed: boolean, aborted?: boolean): void;
  /** Prints a line without breaking the bar. */
  log(line: string): void;
  stop(): void;
}

export interface ProgressOptions {
  label: string;
  stream?: NodeJS.WriteStream;
  /** Force the mode; default: bar when the stream is a TTY. */
  mode?: 'bar' | 'lines' | 'off';
  /** Interval between plain lines, ms. Default 5000 (VISIONPIPE_PROGRESS_INTERVAL_MS overrides). */
  intervalMs?: number;
  /** What the run waits on now (e.g. `waiting 12 s: rate limited by …`), shown in place of the ETA. */
  status?: () => string | undefined;
  /** Figures added at the end of the line once there are some (e.g. `rate limit: waited 12 s, 3 × 429, 1 retry`). */
  totals?: () => string | undefined;
}

class Counter {
  done = 0;
  failed = 0;
  /** Inputs stopped in flight (ABORTED): neither done nor failed, as the summary counts them. */
  aborted = 0;
  total: number | undefined;
  readonly started = performance.now();

  rate(): number {
    const seconds = (performance.now() - this.started) / 1000;
    return seconds > 0 ? this.done / seconds : 0;
  }

  etaMs(): number {
    const rate = this.rate();
    if (this.total === undefined || rate === 0) return Number.NaN;
    return ((this.total - this.done) / rate) * 1000;
  }

  count(failed: boolean, aborted: boolean | undefined): void {
    if (aborted) {
      this.aborted++;
      return;
    }
    this.done++;
    if (failed) this.failed++;
  }

  /** `, 2 aborted` once a stop aborted inputs in flight, else nothing. */
  abortedText(): string {
    return this.aborted > 0 ? `, ${this.aborted} aborted` : '';
  }

  /**
   * What the last line says in place of the status/ETA: a wait is over once the run ends,
   * and a run that did not finish every input says "stopped" (the summary says why).
   */
  finalStatus(): string | undefined {
    return this.aborted > 0 || (this.total !== undefined && this.done < this.total) ? 'stopped' : undefined;
  }

  describe(label: string, status: string | undefined, totals: string | undefined): string {
    const total = this.total === undefined ? '?' : String(this.total);
    const pct = this.total ? ` (${Math.floor((this.done / this.total) * 100)}%)` : '';
    return `${label}: ${this.done}/${total}${pct}, ${formatRate(this.rate())}/s, ${plural(this.failed, 'error')}${this.abortedText()}, ${status ?? `ETA ${formatDuration(this.etaMs())}`}${totals ? ` · ${totals}` : ''}`;
  }
}

function barProgress(options: ProgressOptions, stream: NodeJS.WriteStream): Progress {
  const counter = new Counter();
  /** Set by stop(): the last frame shows no wait (it is over), "stopped" when inputs were left. */
  let ended = false;
  const multibar = new cliProgress.MultiBar(
    {
      stream,
      hideCursor: true,
      clearOnComplete: false,
      fps: 8,
      format: (opts, params) => {
        const width = opts.barsize ?? 30;
        const filled = counter.total ? Math.round((params.value / counter.total) * width) : 0;
        const bar = '█'.repeat(filled) + '░'.repeat(Math.max(0, width - filled));
        const total = counter.total === undefined ? '?' : counter.total;
        const waiting = ended ? counter.finalStatus() : options.status?.();
        const totals = options.totals?.();
        return `${options.label} ${bar} ${params.value}/${total} | ${formatRate(counter.rate())}/s | ${waiting ?? `ETA ${formatDuration(counter.etaMs())}`} | ${plural(counter.failed, 'error')}${counter.abortedText()}${totals ? ` | ${totals}` : ''}`;
      },
    },
    cliProgress.Presets.shades_grey,
  );
  const bar = multibar.create(1, 0);
  return {
    setTotal(total) {
      counter.total = total;
      bar.setTotal(Math.max(total, 1));
    },
    tick(failed, aborted) {
      counter.count(failed, aborted);
      bar.update(counter.done);
    },
    log(line) {
      multibar.log(line.endsWith('\n') ? line : `${line}\n`);
    },
    stop() {
      ended = true;
      bar.update(counter.done);
      multibar.stop();
    },
  };
}

function lineProgress(options: ProgressOptions, stream: NodeJS.WriteStream): Progress {
  const counter = new Counter();
  const envInterval = Number(process.env.VISIONPIPE_PROGRESS_INTERVAL_MS);
  const interval =
    options.intervalMs ?? (Number.isFinite(envInterval) && envInterval > 0 ? envInterval : 5000);
  const timer = setInterval(
    () => stream.write(`${counter.describe(options.label, options.status?.(), options.totals?.())}\n`),
    interval,
  );
  timer.unref();
  return {
    setTotal(total) {
      counter.total = total;
    },
    tick(failed, aborted) {
      counter.count(failed, aborted);
    },
    log(line) {
      stream.write(line.endsWith('\n') ? line : `${line}\n`);
    },
    stop() {
      clearInterval(timer);
      if (counter.done + counter.aborted > 0)
        stream.write(`${counter.describe(options.label, counter.finalStatus(), options.totals?.())}\n`);
    },
  };
}

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const mode = options.mode ?? (stream.isTTY ? 'bar' : 'lines');
  const progress: Progress =
    mode === 'bar'
      ? barProgress(options, stream)
      : mode === 'lines'
        ? lineProgress(options, stream)
        : { setTotal() {}, tick() {}, log: (line) => stream.write(`${line}\n`), stop() {} };
  // Log lines quote warnings, URLs and provider messages: never a secret (secrets.ts).
  const log = progress.log.bind(progress);
  return { ...progress, log: (line) => log(redactSecrets(line)) };
}
