/**
 * The shared limiter: the same buckets as the memory limiter, kept in Redis and
 * updated by one Lua script per call (lua/acquire.lua), so several processes or
 * machines stay inside one provider limit together. Redis server time decides, so
 * skewed client clocks do not matter.
 *
 * Each process queues its own waiters (FIFO) and only the head talks to Redis: the
 * script either reserves the head a slot (at most `reserveAheadMs` ahead; the head then
 * sleeps until it) or says when to ask again. Pauses from headers and 429s are written
 * to Redis too, so one process's 429 slows all of them.
 *
 * When Redis cannot be reached, calls go through an in-memory limiter with the same
 * options (one warning per outage through `onWarning`); ioredis keeps reconnecting in
 * the background and the next call after it is back uses Redis again.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { VisionpipeError } from '../errors.js';
import { ioredis } from '../on-first-use.js';
import type { RateLimitSnapshot } from '../providers/spec.js';
import { type ResolvedLimits, resolveLimits } from './bucket.js';
import { monotonicNow } from './clock.js';
import { type FlowShare, RedisFlowShare } from './flow-share.js';
import {
  type GrantEvent,
  type Limiter,
  type LimiterCost,
  type LimiterOptions,
  limiterClosedError,
} from './limiter.js';
import { MemoryLimiter } from './memory-limiter.js';
import { pauseFor } from './pause.js';
import { defineLimiterCommands, type LimiterCommands } from './redis-scripts.js';

export interface RedisLimiterOptions extends LimiterOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…`. */
  url: string;
  /** Which shared limit this is, e.g. the provider and API key's label (default `default`). */
  name?: string;
  /** Key prefix (default `visionpipe:limiter`). Keys: `<prefix>:{<name>}:requests|tokens|paused`. */
  prefix?: string;
  /** How far ahead a caller may reserve its slot (default 1000 ms). */
  reserveAheadMs?: number;
  /** Share of rpm/tpm the in-memory fallback uses while Redis is down (default 1). */
  fallbackShare?: number;
  /** Timeout for connecting and for each script call (default 2000 ms). */
  redisTimeoutMs?: number;
  /** Told once per outage that calls fall back to memory (default: process.emitWarning). */
  onWarning?: (message: string) => void;
  /** Jitter source for re-asking (tests). */
  random?: () => number;
}

interface Waiter {
  requests: number;
  tokens: number;
  queuedAt: number;
  resolve: () => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

type Client = Redis & LimiterCommands;

/** A process counts as sharing the limit while it asked within this window. */
const PEER_WINDOW_MS = 5000;

export const REDIS_LIMITER_DEFAULTS = {
  name: 'default',
  prefix: 'visionpipe:limiter',
  reserveAheadMs: 1000,
  fallbackShare: 1,
  redisTimeoutMs: 2000,
} as const;

export class RedisLimiter implements Limiter {
  readonly keys: readonly [requests: string, tokens: string, paused: string];
  private readonly limits: ResolvedLimits;
  private readonly options: RedisLimiterOptions;
  private readonly reserveAheadMs: number;
  private readonly warn: (message: string) => void;
  private readonly random: () => number;
  private readonly queue: Waiter[] = [];
  /** Waiters holding a reserved slot, sleeping until it: rejected on close. */
  private readonly held = new Map<Waiter, NodeJS.Timeout>();
  private client: Client | undefined;
  private connecting: Promise<void> | undefined;
  private fallback: MemoryLimiter | undefined;
  private warned = false;
  private draining = false;
  private wake: (() => void) | undefined;
  private pausedUntil = 0;
  private closed = false;
  private readonly id = randomUUID();
  private peerCount = 1;
  private peersAskedAt = Number.NEGATIVE_INFINITY;
  private share: RedisFlowShare | undefined;

  constructor(options: RedisLimiterOptions) {
    this.options = options;
    this.limits = resolveLimits(options);
    parseRedisUrl(options.url);
    const name = options.name ?? REDIS_LIMITER_DEFAULTS.name;
    const prefix = options.prefix ?? REDIS_LIMITER_DEFAULTS.prefix;
    // The hash tag keeps one limiter's keys in one slot, should the server be a cluster.
    this.keys = [`${prefix}:{${name}}:requests`, `${prefix}:{${name}}:tokens`, `${prefix}:{${name}}:paused`];
    this.reserveAheadMs = options.reserveAheadMs ?? REDIS_LIMITER_DEFAULTS.reserveAheadMs;
    if (!(this.reserveAheadMs >= 0)) {
      throw new VisionpipeError(
        'INVALID_OPTION',
        `limiter option reserveAheadMs must be ≥ 0 (got ${this.reserveAheadMs})`,
        { option: 'reserveAheadMs' },
      );
    }
    this.warn =
      options.onWarning ?? ((message) => process.emitWarning(message, { code: 'VISIONPIPE_LIMITER' }));
    this.random = options.random ?? Math.random;
  }

  /** Processes that used this limit in the last PEER_WINDOW_MS (this one included); refreshed at most once a second. */
  get peers(): number {
    const now = monotonicNow();
    if (now - this.peersAskedAt >= 1000 && !this.closed) {
      this.peersAskedAt = now;
      void this.countPeers();
    }
    return this.peerCount;
  }

  private async countPeers(): Promise<void> {
    const client = this.client?.status === 'ready' ? this.client : undefined;
    if (client === undefined) return;
    const key = this.keys[0].replace(/:requests$/, ':peers');
    const now = Date.now();
    const replies = await client
      .multi()
      .zadd(key, now, this.id)
      .zremrangebyscore(key, 0, now - PEER_WINDOW_MS)
      .zcard(key)
      .pexpire(key, PEER_WINDOW_MS * 2)
      .exec()
      .catch(() => null);
    const count = Number(replies?.[2]?.[1]);
    if (Number.isInteger(count) && count >= 1) this.peerCount = count;
  }

  /**
   * The learned limits the adaptive flows of every process on this limit share
   * (flow-share.ts, lua/flow.lua): keys `<prefix>:{<name>}:flow` and `…:peers`.
   */
  get flowShare(): FlowShare {
    this.share ??= new RedisFlowShare({
      client: async () => (this.closed ? undefined : this.readyClient()),
      keys: [this.keys[0].replace(/:requests$/, ':flow'), this.keys[0].replace(/:requests$/, ':peers')],
      id: this.id,
    });
    return this.share;
  }

  /** Where the next call is decided: `redis` when connected, `memory` while falling back. */
  get backend(): 'redis' | 'memory' {
    return this.client?.status === 'ready' ? 'redis' : 'memory';
  }

  acquire(cost: LimiterCost = {}, signal?: AbortSignal): Promise<void> {
    if (this.closed) return Promise.reject(limiterClosedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        requests: cost.requests ?? 1,
        tokens: cost.tokens ?? 0,
        queuedAt: monotonicNow(),
        resolve,
        reject,
        signal,
        onAbort: undefined,
      };
      if (signal) {
        waiter.onAbort = () => this.abort(waiter, signal.reason);
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
      void this.peers; // keeps this process counted among the peers
      void this.drain();
    });
  }

  observe(snapshot: RateLimitSnapshot | undefined): void {
    const pause = pauseFor(snapshot, this.limits.headerMargin, this.limits.maxPauseMs);
    if (pause <= 0 || this.closed) return;
    this.pausedUntil = Math.max(this.pausedUntil, monotonicNow() + pause);
    this.fallback?.observe(snapshot);
    void this.sharePause(pause);
  }

  /** Writes a pause to Redis so every process sharing the limit holds too. */
  private async sharePause(pauseMs: number): Promise<void> {
    const client = await this.readyClient();
    if (client === undefined || this.closed) return;
    const { requests: r, tokens: t } = this.limits;
    await client
      .visionpipePause(
        ...this.keys,
        Math.ceil(pauseMs),
        r?.capacity ?? 0,
        r?.perMs ?? 0,
        t?.capacity ?? 0,
        t?.perMs ?? 0,
      )
      .catch((error: unknown) => this.fellBack(error));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Done with the budget: the other processes take this one's share now, not when its
    // heartbeat has aged out (5 s in which they would leave it unused).
    if (this.client?.status === 'ready') await this.share?.leave();
    this.closed = true;
    this.wake?.();
    for (const waiter of this.queue.splice(0)) this.settle(waiter, limiterClosedError());
    for (const [waiter, timer] of this.held) {
      clearTimeout(timer);
      this.settle(waiter, limiterClosedError());
    }
    this.held.clear();
    await this.fallback?.close();
    const client = this.client;
    if (client === undefined) return;
    if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
    else client.disconnect();
  }

  /** Serves the queue head by head; only one script call per process is in flight. */
  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let head = this.queue[0]; head !== undefined && !this.closed; head = this.queue[0]) {
        const client = await this.readyClient();
        if (this.queue[0] !== head) continue; // aborted meanwhile
        if (client === undefined) {
          this.queue.shift();
          this.viaFallback(head);
          continue;
        }
        let reply: [number, string, string];
        try {
          reply = await client.visionpipeAcquire(...this.keys, ...this.scriptArgs(head));
        } catch (error) {
          this.fellBack(error);
          if (this.queue[0] === head) {
            this.queue.shift();
            this.viaFallback(head);
          }
          continue;
        }
        // An abort during the call forfeits the slot it may have reserved (at most one).
        if (this.queue[0] !== head) continue;
        const [granted, ms, at] = reply;
        if (Number(granted) === 1) {
          this.queue.shift();
          this.hold(head, Number(ms), Number(at));
        } else {
          // A little jitter so the heads of several processes do not ask in lockstep.
          await this.sleep(Number(ms) + 1 + this.random() * Math.min(25, Number(ms) * 0.1));
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private scriptArgs(waiter: Waiter): number[] {
    const { requests: r, tokens: t } = this.limits;
    return [
      r?.capacity ?? 0,
      r?.perMs ?? 0,
      waiter.requests,
      t?.capacity ?? 0,
      t?.perMs ?? 0,
      waiter.tokens,
      this.reserveAheadMs,
    ];
  }

  /** The waiter owns a slot `delayMs` from now; it sleeps until then (longer if a 429 paused everyone since). */
  private hold(waiter: Waiter, delayMs: number, at: number): void {
    const fire = () => {
      const paused = this.pausedUntil - monotonicNow();
      if (paused > 0) {
        this.held.set(waiter, setTimeout(fire, Math.ceil(paused)));
        return;
      }
      this.held.delete(waiter);
      this.detach(waiter);
      this.granted(waiter, at, 'redis');
    };
    if (delayMs <= 0) fire();
    else this.held.set(waiter, setTimeout(fire, Math.ceil(delayMs)));
  }

  private viaFallback(waiter: Waiter): void {
    this.detach(waiter);
    this.fallback ??= this.createFallback();
    this.fallback.acquire({ requests: waiter.requests, tokens: waiter.tokens }, waiter.signal).then(
      () => this.granted(waiter, Date.now(), 'memory'),
      (error: unknown) => waiter.reject(error),
    );
  }

  private createFallback(): MemoryLimiter {
    const share = this.options.fallbackShare ?? REDIS_LIMITER_DEFAULTS.fallbackShare;
    const fallback = new MemoryLimiter({
      ...this.options,
      rpm: this.options.rpm === undefined ? undefined : this.options.rpm * share,
      tpm: this.options.tpm === undefined ? undefined : this.options.tpm * share,
      onGrant: undefined,
    });
    const paused = this.pausedUntil - monotonicNow();
    if (paused > 0) fallback.observe({ retryAfterMs: paused });
    return fallback;
  }

  private granted(waiter: Waiter, at: number, backend: GrantEvent['backend']): void {
    this.options.onGrant?.({
      at,
      waitedMs: monotonicNow() - waiter.queuedAt,
      requests: waiter.requests,
      tokens: waiter.tokens,
      backend,
    });
    waiter.resolve();
  }

  private async readyClient(): Promise<Client | undefined> {
    this.client ??= this.createClient();
    const client = this.client;
    // First use connects (lazyConnect), once, whoever asks first; later, ioredis reconnects by itself.
    if (client.status === 'wait')
      this.connecting ??= client.connect().catch((error: unknown) => this.fellBack(error));
    if (this.connecting) await this.connecting;
    if (client.status === 'ready') return client;
    this.fellBack(undefined);
    return undefined;
  }

  private createClient(): Client {
    const timeout = this.options.redisTimeoutMs ?? REDIS_LIMITER_DEFAULTS.redisTimeoutMs;
    const client = new (ioredis().Redis)(this.options.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: timeout,
      commandTimeout: timeout,
      // Keep reconnecting forever, at most every 2 s: the limiter goes back to Redis when it returns.
      retryStrategy: (times) => Math.min(100 * times, 2000),
    });
    // Connection errors surface as fallbacks (one warning per outage), not as unhandled 'error' events.
    client.on('error', () => {});
    client.on('ready', () => {
      this.warned = false;
    });
    return defineLimiterCommands(client);
  }

  private fellBack(error: unknown): void {
    if (this.warned || this.closed) return;
    this.warned = true;
    const reason = error instanceof Error ? `: ${error.message}` : '';
    this.warn(
      `rate limiter: Redis at ${redactUrl(this.options.url)} is unavailable${reason}; ` +
        'pacing in memory for this process until it is back',
    );
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private abort(waiter: Waiter, reason: unknown): void {
    const index = this.queue.indexOf(waiter);
    if (index !== -1) {
      this.queue.splice(index, 1);
      if (index === 0) this.wake?.();
    } else {
      const timer = this.held.get(waiter);
      if (timer === undefined) return;
      clearTimeout(timer);
      this.held.delete(waiter);
    }
    this.settle(waiter, reason);
  }

  private settle(waiter: Waiter, reason: unknown): void {
    this.detach(waiter);
    waiter.reject(reason);
  }

  private detach(waiter: Waiter): void {
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    waiter.onAbort = undefined;
  }
}

function parseRedisUrl(url: string): URL {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `limiter must be "memory" or a redis://host:port[/db] URL (got "${redactUrl(url)}")`,
      { option: 'limiter' },
    );
  }
  return parsed;
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
