/**
 * How each provider call is paced, retried and isolated (flow/): the limiter applies to
 * the main provider only (its rate limit is the one configured); every remote provider
 * gets its process-wide circuit breaker, the main one the breaker given, if any.
 */
import { AdaptiveFlow } from '../flow/adaptive.js';
import { breakerFor, type ProviderBreaker } from '../flow/circuit-breaker.js';
import type { Limiter } from '../flow/limiter.js';
import type { RetryOptions } from '../flow/retry.js';
import type { ThrottleTally } from '../flow/throttle.js';
import type { Provider } from '../providers/spec.js';
import type { CallControls } from './stages.js';

export interface CallControlOptions {
  /** The pipeline's main provider: the one the limiter and the given breaker belong to. */
  provider: Provider;
  limiter: Limiter | undefined;
  /** A breaker for the main provider, or false for none on any provider. */
  breaker: ProviderBreaker | false | undefined;
  retry: Omit<RetryOptions, 'signal'> | undefined;
  timeoutMs: number;
  /** Adaptive flow per remote provider (default one each); false for none. */
  flow?: false | ((provider: Provider) => AdaptiveFlow) | undefined;
}

/** The controls of a call to `p` on behalf of an image whose work `signal` aborts. */
export type ControlsFor = (
  p: Provider,
  signal: AbortSignal | undefined,
  tally?: ThrottleTally,
) => CallControls;

export function callControls(options: CallControlOptions): ControlsFor {
  const { provider, limiter, retry, timeoutMs } = options;
  // OCR failures are per image, not an outage: the local engine gets no breaker.
  const breakers = new Map<string, ProviderBreaker | undefined>();
  const breakerOf = (p: Provider) => {
    if (options.breaker === false || p.id === 'local') return undefined;
    if (p === provider && options.breaker) return options.breaker;
    if (!breakers.has(p.id)) breakers.set(p.id, breakerFor(p.id));
    return breakers.get(p.id);
  };
  // One adaptive flow per remote provider: it learns that provider's rate and calls in flight.
  const flows = new Map<string, AdaptiveFlow | undefined>();
  const flowOf = (p: Provider) => {
    if (options.flow === false || p.id === 'local') return undefined;
    const shared = p === provider ? limiter : undefined;
    // A Redis limiter shares what the flows learn (rate, calls in flight, pauses) across processes.
    const share = shared?.flowShare;
    if (!flows.has(p.id))
      flows.set(
        p.id,
        options.flow
          ? options.flow(p)
          : new AdaptiveFlow({
              maxConcurrency: 1024,
              peers: () => share?.read()?.peers ?? shared?.peers ?? 1,
              ...(share ? { share } : {}),
            }),
      );
    return flows.get(p.id);
  };
  return (p, signal, tally) => {
    const breaker = breakerOf(p);
    const flow = flowOf(p);
    return {
      timeoutMs,
      ...(flow ? { flow } : {}),
      ...(tally ? { tally } : {}),
      ...(p === provider && limiter ? { limiter } : {}),
      ...(breaker ? { breaker } : {}),
      ...(retry ? { retry } : {}),
      ...(signal ? { signal } : {}),
    };
  };
}
