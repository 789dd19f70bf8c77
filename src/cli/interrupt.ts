/**
 * Ctrl-C handling for batch commands: the first SIGINT stops new work from starting and
 * lets running items finish (so results are flushed and the summary printed); the second
 * aborts in-flight work at once and (with `abortGraceMs`) gives the command that long to write what was
 * aborted (ABORTED records, so the results stay consistent for resume), release its lock
 * and print its summary, exiting 130 through its normal end; if it has not ended by then,
 * or on a third signal, the process exits 130 after `onSecond` (the partial summary and the
 * lock's release).
 */
import { setMaxListeners } from 'node:events';

export interface Interrupt {
  /** Aborted on the first SIGINT/SIGTERM. */
  stop: AbortSignal;
  /** Aborted on the second SIGINT: cancel in-flight work. */
  abort: AbortSignal;
  dispose(): void;
}

export interface InterruptOptions {
  /**
   * After the first signal, in-flight work gets this long (ms) to finish before it is
   * aborted as by a second one, without exiting: what waits on a rate limit or a
   * Retry-After could otherwise keep a stopped process alive for minutes, past any
   * orchestrator's grace period. Undefined: wait for in-flight work however long it takes.
   */
  graceMs?: number;
  /** Told when the grace period ran out and in-flight work is being aborted. */
  onGraceOver?: () => void;
  /**
   * Called when the process exits 130 without the command's normal end (the second
   * signal's `abortGraceMs` ran out, or a third signal came): what to do at once (a run's
   * partial summary, releasing its lock). Must be quick and synchronous; what it throws is
   * ignored.
   */
  onSecond?: () => void;
  /**
   * After the second signal aborted in-flight work, how long (ms) the command may take to
   * end normally (write the ABORTED records, release its lock, print its summary) before
   * the process exits anyway (ABORT_GRACE_MS is the run's). Undefined: the second signal
   * exits 130 at once, after `onSecond`.
   */
  abortGraceMs?: number;
}

/** What bin/visionpipe.cjs keeps of the signals that came while `run` was starting. */
interface EarlySignals {
  signals: NodeJS.Signals[];
  handler: (signal: NodeJS.Signals) => void;
}

const EARLY = Symbol.for('visionpipe.earlySignals');

/**
 * Default time (ms) a command has after a second Ctrl-C to end on its own: aborted calls
 * and timers end within milliseconds, so this bounds only a step that cannot be cancelled
 * (an OCR pass, a slow disk).
 */
export const ABORT_GRACE_MS = 3000;

/**
 * Removes the start-up latch of bin/visionpipe.cjs (when there is one) and returns the
 * signals it kept, oldest first.
 */
function takeEarlySignals(): NodeJS.Signals[] {
  const holder = globalThis as { [EARLY]?: EarlySignals };
  const latch = holder[EARLY];
  if (!latch) return [];
  delete holder[EARLY];
  process.off('SIGINT', latch.handler);
  process.off('SIGTERM', latch.handler);
  return latch.signals;
}

/**
 * Installs the handlers. A signal that came while the command was still starting (kept by
 * bin/visionpipe.cjs) counts as the first one: the command stops at once and still prints
 * its summary.
 */
export function handleInterrupts(
  onFirst: (signal: NodeJS.Signals) => void,
  options: InterruptOptions = {},
): Interrupt {
  const stop = new AbortController();
  const abort = new AbortController();
  let grace: NodeJS.Timeout | undefined;
  let forced: NodeJS.Timeout | undefined;
  const exitNow = () => {
    try {
      options.onSecond?.();
    } catch {
      // the exit must not wait on a summary that cannot be printed
    }
    process.exit(130);
  };
  // Every in-flight image listens on `abort` (its timeout, limiter wait, retry sleep):
  // with a window of 50 that is 50+ listeners by design, not a leak.
  setMaxListeners(0, stop.signal, abort.signal);
  const handler = (signal: NodeJS.Signals) => {
    if (!stop.signal.aborted) {
      stop.abort();
      onFirst(signal);
      if (options.graceMs !== undefined) {
        grace = setTimeout(() => {
          if (abort.signal.aborted) return;
          options.onGraceOver?.();
          abort.abort();
        }, options.graceMs);
        grace.unref(); // never what keeps the process alive
      }
      return;
    }
    if (abort.signal.aborted && forced !== undefined) {
      exitNow(); // a third signal: no more waiting
      return;
    }
    if (options.abortGraceMs === undefined) {
      abort.abort();
      process.stderr.write('\nInterrupted again: aborting.\n');
      exitNow();
      return;
    }
    process.stderr.write(
      '\nInterrupted again: aborting images in flight (ABORTED; the next run redoes them). Ctrl-C again to exit at once.\n',
    );
    // Ref'd on purpose: it must fire even if something the abort missed keeps the loop busy.
    forced = setTimeout(exitNow, options.abortGraceMs);
    abort.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  const early = takeEarlySignals(); // after ours are on: no signal falls between the two
  for (const signal of early) handler(signal);
  return {
    stop: stop.signal,
    abort: abort.signal,
    dispose() {
      clearTimeout(grace);
      clearTimeout(forced);
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
