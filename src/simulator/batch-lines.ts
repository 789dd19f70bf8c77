/**
 * One request inside a simulated batch, answered exactly as the single-call endpoint
 * would answer it: the same validation (a bad body is that request's 400), the same
 * answerer, the same response shape and the same token formulas. What differs is only
 * where the answer goes (a results file) and where its tokens are counted
 * (`stats.batchTokens`, billed at the batch price).
 */
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Context, type Core, type Family, isReply } from './core.js';
import type { BatchLineFailure } from './types.js';

export interface LineAnswer {
  /** The HTTP status the single call would have had. */
  status: number;
  /** Its response body (a completion or message, or the API's error body). */
  body: unknown;
  requestId: string;
}

/** How the request with this custom id fails, if it does (the `batchFailures` option). */
export function lineFailure(core: Core, customId: string): BatchLineFailure | undefined {
  const failures = core.options.batchFailures;
  if (failures === undefined) return undefined;
  if (typeof failures === 'function') return failures(customId) || undefined;
  return core.random.next() < failures ? 'bad-request' : undefined;
}

/** A fresh id with the provider's prefix (`batch_…`, `file-…`, `msgbatch_…`). */
export function simId(prefix: string): string {
  return `${prefix}${randomBytes(12).toString('hex')}`;
}

/**
 * Answers one request body. `create` is the context of the call that created the batch:
 * its headers (anthropic-version, the key) stand for every request in it.
 */
export async function answerLine(
  family: Family,
  create: Context,
  route: string,
  body: unknown,
  failure: 'bad-request' | 'server' | undefined,
): Promise<LineAnswer> {
  const core = create.core;
  const requestId = simId('req_');
  if (failure !== undefined) {
    const reply = family.error(failure, failure === 'bad-request' ? 'Simulated invalid request.' : '');
    return { status: reply.status, body: reply.body, requestId };
  }
  const ctx: Context = {
    api: create.api,
    route,
    req: create.req,
    url: create.url,
    body: Buffer.from(JSON.stringify(body ?? null)),
    json: body,
    apiKey: create.apiKey,
    core,
  };
  const parsed = await family.parse(ctx);
  if (isReply(parsed)) return { status: parsed.status, body: parsed.body, requestId };
  let answer: unknown;
  if (parsed.call) {
    await sleep(core.latencyMs(), undefined, { signal: core.signal });
    try {
      answer = await core.answerer.answer(parsed.call, core.signal);
    } catch {
      const reply = family.error('server', '');
      return { status: reply.status, body: reply.body, requestId };
    }
  }
  const reply = await parsed.reply(answer);
  if (parsed.call && reply.status === 200) {
    core.stats.batchTokens.input += parsed.inputTokens;
    core.stats.batchTokens.image += parsed.imageTokens;
    core.stats.batchTokens.output += reply.outputTokens ?? 0;
    core.options.onBilled?.({
      at: Date.now(),
      api: create.api,
      sha256: createHash('sha256').update(parsed.call.image.data).digest('hex'),
      batch: true,
    });
  }
  return { status: reply.status, body: reply.body, requestId };
}

/** Results come back in no particular order on the real APIs: the simulator shuffles (seeded). */
export function shuffled<T>(items: readonly T[], core: Core): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(core.random.next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Sleeps unless the simulator is closing; false when it is. */
export async function wait(core: Core, ms: number): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal: core.signal });
    return true;
  } catch {
    return false;
  }
}
