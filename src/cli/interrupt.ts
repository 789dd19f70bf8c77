/**
 * Ctrl-C handling for batch commands: the first SIGINT stops new work from starting and
 * lets running items finish (so results are flushed and the summary printed); the second
 * aborts at once with exit code 130, after printing what `onSecond` prints (the partial summary).
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
   * Called on the second signal, after in-flight work was aborted and just before the
   * process exits with 130: what to print at once (a run's partial summary). Must be quick
   * and synchronous; what it throws is ignored.
   */
  onSecond?: () => void;
}

/** What bin/visionpipe.cjs keeps of the signals that came while `run` was starting. */
interface EarlySignals {
  signals: NodeJS.Signals[];
  handler: (signal: NodeJS.Signals) => void;
}

const EARLY = Symbol.for('visionpipe.earlySignals');

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
    abort.abort();
    process.stderr.write('\nInterrupted again: aborting.\n');
    try {
      options.onSecond?.();
    } catch {
      // the exit must not wait on a summary that cannot be printed
    }
    process.exit(130);
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
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
