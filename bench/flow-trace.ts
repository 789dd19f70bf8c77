/**
 * A traced adaptive flow for the bench (VISIONPIPE_FLOW_TRACE=<path>): every call's phases
 * on the flow's clock (admitted, request created, answer headers, done with its outcome
 * and the budget it reported) and what the flow had learned after it, so a run over real
 * HTTP can be laid beside the fake-clock model's (test/support/flow-drive.ts) call by call.
 */
import { AdaptiveFlow, type FlowSlot } from '../src/flow/adaptive.js';
import { monotonicNow } from '../src/flow/clock.js';

/** One phase of one call (t: epoch ms on the monotonic clock, as the flow's). */
export interface TraceEvent {
  id: number;
  ev: 'send' | 'start' | 'headers' | 'done';
  t: number;
  status?: number | undefined;
  kind?: string;
  remaining?: number | undefined;
  limit?: number | undefined;
  resetMs?: number | undefined;
  retryAfterMs?: number | undefined;
  rate?: number;
  logWindowMs?: number | undefined;
  pausedUntil?: number;
}

/** A flow factory for createPipeline's `flow` option that appends every call's phases to `trace`. */
export function tracedFlow(trace: TraceEvent[]): () => AdaptiveFlow {
  return () => {
    const flow = new AdaptiveFlow({ maxConcurrency: 1024 });
    let ids = 0;
    const admit = flow.admit.bind(flow);
    flow.admit = async (signal, deadline) => {
      const slot = await admit(signal, deadline);
      const id = ++ids;
      trace.push({ id, ev: 'send', t: monotonicNow() });
      const traced: FlowSlot = {
        started: () => {
          trace.push({ id, ev: 'start', t: monotonicNow() });
          slot.started();
        },
        answered: (status) => {
          trace.push({ id, ev: 'headers', t: monotonicNow(), status });
          slot.answered(status);
        },
        overCap: () => slot.overCap(),
        done: (outcome) => {
          slot.done(outcome);
          const requests = outcome.kind === 'failed' ? undefined : outcome.rateLimit?.requests;
          const s = flow.state;
          trace.push({
            id,
            ev: 'done',
            t: monotonicNow(),
            kind: outcome.kind,
            remaining: requests?.remaining,
            limit: requests?.limit,
            resetMs: requests?.resetMs,
            retryAfterMs: outcome.kind === 'throttled' ? outcome.retryAfterMs : undefined,
            rate: s.rate,
            logWindowMs: s.logWindowMs,
            pausedUntil: s.pausedUntil,
          });
        },
      };
      return traced;
    };
    return flow;
  };
}
