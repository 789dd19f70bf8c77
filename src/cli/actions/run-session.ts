/**
 * What watches one `visionpipe run` while it lasts: the progress line, the waits shown in
 * it (wait-watch.ts), the observers (metrics, log, alerts, budget, report: observe.ts) and
 * the Ctrl-C/SIGTERM handling with its grace period.
 */
import path from 'node:path';
import { RunSummary } from '../../runs/summary.js';
import { DependencyNotes } from '../dependency-notes.js';
import { ABORT_GRACE_MS, handleInterrupts, type Interrupt } from '../interrupt.js';
import { createProgress, type Progress } from '../progress.js';
import type { RunFlags } from '../run.js';
import { WaitWatch } from '../wait-watch.js';
import { type RunObservers, startRunObservers } from './observe.js';

/**
 * How long (ms) images in flight may finish after the first SIGINT/SIGTERM before they are
 * aborted: calls about to answer finish, but an image waiting on a rate limit or a
 * Retry-After (minutes at a low --rpm) does not hold a stopped process past a container's
 * grace period (30 s by default in Kubernetes).
 */
export const STOP_GRACE_MS = 10_000;

export interface RunSession {
  /** The run's figures; replaced once the confidence threshold is known (retries go to the current one). */
  summary: RunSummary;
  progress: Progress;
  /** Prints `warning: …` without breaking the progress line. */
  warn(message: string): void;
  observers: RunObservers;
  interrupt: Interrupt;
  /** Stops the progress line and the wait watch (idempotent). */
  stopWatching(): void;
  /** Gives SIGINT/SIGTERM back and closes the observers: nothing may keep the process alive. */
  close(): Promise<void>;
  /**
   * What a second Ctrl-C prints before the process exits with 130: the partial summary of
   * the records so far (set by the run once it can say it; nothing before).
   */
  partialSummary: (() => void) | undefined;
  /** Releases the run's lock (set once it is taken; idempotent): a forced exit must not leave it behind. */
  releaseLock: () => void;
}

/** Starts the progress line, the observers (a metrics port in use throws) and the signal handlers. */
export async function startRunSession(flags: RunFlags): Promise<RunSession> {
  const session = { summary: new RunSummary() } as RunSession;
  // What tesseract prints is captured, never written through the progress line; the summary shows it once.
  const notes = new DependencyNotes();
  // Retries and rate-limit pauses show in the progress line while they last (wait-watch.ts).
  const waits = new WaitWatch({
    onWait: (status) => progress.log(status),
    onRetry: () => session.summary.addRetry(),
    onPaced: (ms) => session.summary.addPacing(ms),
  });
  const progress = createProgress({
    label: 'run',
    mode: flags.progress ? undefined : 'off',
    status: () => waits.status(),
    totals: () => waits.totals(),
  });
  const warn = (message: string) => progress.log(`warning: ${message}`);
  const observers = await startRunObservers(flags, progress, path.resolve(flags.out));
  const interrupt = handleInterrupts(
    () =>
      progress.log(
        `Stopping: finishing images in flight for up to ${STOP_GRACE_MS / 1000} s (Ctrl-C again to abort)`,
      ),
    {
      graceMs: STOP_GRACE_MS,
      onGraceOver: () =>
        progress.log('Stopping: images still in flight are aborted (ABORTED; the next run redoes them)'),
      // A second Ctrl-C aborts what is in flight; the run then ends as usual (ABORTED records
      // written, lock released, summary printed, exit 130) unless that takes longer than
      // ABORT_GRACE_MS or a third comes: then the lock goes and the partial summary is printed here.
      abortGraceMs: ABORT_GRACE_MS,
      onSecond: () => {
        session.stopWatching();
        session.releaseLock();
        session.partialSummary?.();
      },
    },
  );
  return Object.assign(session, {
    partialSummary: undefined,
    releaseLock: () => {},
    progress,
    warn,
    observers,
    interrupt,
    stopWatching() {
      progress.stop();
      session.summary.setHeld(waits.held()); // the wall time held, as the progress line said it
      waits.close();
      session.summary.setDependencyNotes(notes.toJSON());
      notes.close();
    },
    async close() {
      interrupt.dispose();
      await observers.close().catch(() => {});
    },
  });
}
