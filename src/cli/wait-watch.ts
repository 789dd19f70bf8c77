/**
 * What a run is waiting on, for the progress line: the flow publishes every call it will
 * send again (observe/events.ts `retry`), with the pause ahead and whether the provider
 * refused it for its rate limit. While a pause lasts, the progress line says why
 * (`waiting 12 s: rate limited by openai (Retry-After)`) instead of sitting still with a
 * climbing ETA; the summary's figures come from the records (runs/summary.ts).
 */
import { type RetryEvent, subscribe } from '../observe/events.js';

export interface WaitWatchOptions {
  /** Called once when a pause of at least `announceMs` starts while none was under way. */
  onWait?: (status: string) => void;
  /** Shortest pause worth a line of its own, ms (default 1000). */
  announceMs?: number;
  /** Called for every failed call sent again (not a rate-limit refusal). */
  onRetry?: () => void;
  /** Clock in ms (default performance.now). */
  now?: () => number;
}

export class WaitWatch {
  private holdUntil = 0;
  private reason = '';
  private readonly now: () => number;
  private readonly off: () => void;

  constructor(private readonly options: WaitWatchOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.off = subscribe('retry', (event) => this.seen(event));
  }

  /** `waiting 12 s: <why>` while a pause is under way, else undefined. */
  status(): string | undefined {
    const left = this.holdUntil - this.now();
    if (left <= 0) return undefined;
    return `waiting ${Math.max(1, Math.ceil(left / 1000))} s: ${this.reason}`;
  }

  close(): void {
    this.off();
  }

  private seen(event: RetryEvent): void {
    if (!event.throttled) this.options.onRetry?.();
    const now = this.now();
    const until = now + event.delayMs;
    const idle = this.holdUntil <= now;
    if (until <= this.holdUntil) return;
    this.holdUntil = until;
    this.reason = describe(event);
    if (idle && event.delayMs >= (this.options.announceMs ?? 1000)) {
      const status = this.status();
      if (status) this.options.onWait?.(status);
    }
  }
}

/** Why a call waits, in the words a user reads in the progress line. */
export function describe(event: RetryEvent): string {
  if (!event.throttled) return `retrying ${event.provider} after ${event.code}`;
  const what = event.code === 'RATE_LIMITED' ? 'rate limited' : `throttled (${event.code})`;
  const source = event.retryAfterMs === undefined ? 'no Retry-After, backing off' : 'Retry-After';
  return `${what} by provider ${event.provider} (${source})`;
}
