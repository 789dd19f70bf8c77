/**
 * Which queue job a provider call belongs to, for the answer journal's in-flight claims
 * (answer-journal.ts): the worker runs each job inside `withPaidWatch`, and a journal
 * that finds the claim of a call an earlier (dead) worker started and never answered
 * marks the job as `possibly_paid`. AsyncLocalStorage carries the job through the
 * pipeline's awaits; a call made outside any job (a CLI run) marks nothing.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

interface PaidWatch {
  possiblyPaid: boolean;
  /** Provider calls made for the job, and answers replayed from the answer journal instead. */
  calls: number;
  replayed: number;
}

const watches = new AsyncLocalStorage<PaidWatch>();

/** Runs `work` for one job; resolves to its result and whether a call of it may have been paid before. */
export async function withPaidWatch<T>(
  work: () => Promise<T>,
): Promise<{ result: T; possiblyPaid: boolean; onlyReplayed: boolean }> {
  const watch: PaidWatch = { possiblyPaid: false, calls: 0, replayed: 0 };
  const result = await watches.run(watch, work);
  // Every answer came from the journal (another job's paid call): this job paid nothing.
  return { result, possiblyPaid: watch.possiblyPaid, onlyReplayed: watch.replayed > 0 && watch.calls === 0 };
}

/** Counts a provider call made for the job running now (if any). */
export function markCalled(): void {
  const watch = watches.getStore();
  if (watch) watch.calls++;
}

/** Counts an answer the journal gave back for the job running now (no call made). */
export function markReplayed(): void {
  const watch = watches.getStore();
  if (watch) watch.replayed++;
}

/** Marks the job whose call is running now (if any) as possibly paid before. */
export function markPossiblyPaid(): void {
  const watch = watches.getStore();
  if (watch) watch.possiblyPaid = true;
}
