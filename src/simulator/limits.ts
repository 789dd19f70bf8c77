/**
 * Sliding-window rate limits (requests or tokens per minute), the way providers enforce
 * them: an entry counts until one window after it was admitted. `windowMs` is already
 * scaled by the simulator's timeScale.
 */

export interface WindowState {
  limit: number;
  remaining: number;
  /** Until the window is back to its initial state (every entry expired), ms. */
  resetMs: number;
}

export type Admission = { ok: true } | { ok: false; retryAfterMs: number };

export class SlidingWindow {
  private entries: Array<{ at: number; cost: number }> = [];

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  private prune(now: number): number {
    while (this.entries.length > 0 && this.entries[0]!.at + this.windowMs <= now) this.entries.shift();
    return this.entries.reduce((sum, entry) => sum + entry.cost, 0);
  }

  /** Admits `cost` or says how long until it would fit. */
  take(cost: number, now: number): Admission {
    const used = this.prune(now);
    if (used + cost <= this.limit) {
      this.entries.push({ at: now, cost });
      return { ok: true };
    }
    // Walk the oldest entries until enough has expired for `cost` to fit.
    let freed = 0;
    for (const entry of this.entries) {
      freed += entry.cost;
      if (used - freed + cost <= this.limit)
        return { ok: false, retryAfterMs: entry.at + this.windowMs - now };
    }
    // Larger than the whole limit: it never fits; say "one window".
    return { ok: false, retryAfterMs: this.windowMs };
  }

  state(now: number): WindowState {
    const used = this.prune(now);
    const last = this.entries.at(-1);
    return {
      limit: this.limit,
      remaining: Math.max(0, this.limit - used),
      resetMs: last === undefined ? 0 : last.at + this.windowMs - now,
    };
  }
}

/** The requests and tokens windows of one API family (either may be absent). */
export interface FamilyLimits {
  requests?: SlidingWindow;
  tokens?: SlidingWindow;
}

export interface LimitVerdict {
  limited?: 'requests' | 'tokens';
  retryAfterMs?: number;
  requests?: WindowState;
  tokens?: WindowState;
}

/** Admits one request of `tokens` input tokens against both windows (nothing is taken on refusal). */
export function admit(limits: FamilyLimits, tokens: number, now: number): LimitVerdict {
  if (limits.requests) {
    const state = limits.requests.state(now);
    if (state.remaining < 1) {
      const probe = limits.requests.take(1, now);
      return {
        limited: 'requests',
        retryAfterMs: probe.ok ? 0 : probe.retryAfterMs,
        requests: state,
        ...(limits.tokens ? { tokens: limits.tokens.state(now) } : {}),
      };
    }
  }
  if (limits.tokens) {
    const taken = limits.tokens.take(tokens, now);
    if (!taken.ok) {
      return {
        limited: 'tokens',
        retryAfterMs: taken.retryAfterMs,
        tokens: limits.tokens.state(now),
        ...(limits.requests ? { requests: limits.requests.state(now) } : {}),
      };
    }
  }
  limits.requests?.take(1, now);
  return {
    ...(limits.requests ? { requests: limits.requests.state(now) } : {}),
    ...(limits.tokens ? { tokens: limits.tokens.state(now) } : {}),
  };
}
