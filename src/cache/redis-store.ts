/**
 * Redis store for teams and many machines: `SET key value EX ttl` under a namespace
 * prefix. Values carry an 8-byte creation time in front so `clear --older-than` works
 * without a second key. The provider and model that produced an entry (for `cache stats`
 * by model) are a side key `<namespace>__meta:<key>` written with it, same TTL. The client never queues commands while disconnected
 * (enableOfflineQueue: false): a dropped Redis fails fast, the failover store answers
 * from the local cache, and ioredis reconnects in the background.
 */
import type { Redis } from 'ioredis';
import { ioredis } from '../on-first-use.js';
import type { ClaimStore } from './claims.js';
import {
  addToGroups,
  addToModels,
  type CacheStats,
  type CacheStore,
  type ClearOptions,
  type EntryMeta,
  type GroupStats,
  LookupTally,
  type ModelStats,
  type ReadOptions,
  sortedModels,
} from './store.js';

export interface RedisStoreOptions {
  /** Key prefix. Default `visionpipe:`. */
  namespace?: string;
  /** How long to wait for the first connection, ms. Default 2000. */
  connectTimeoutMs?: number;
}

const HEADER = 8;

/** Extends or deletes a claim only while it holds this token (never another holder's). */
const RENEW_IF_HELD = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE_IF_HELD = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export class RedisStore implements CacheStore, ClaimStore {
  readonly name: string;
  readonly client: Redis;
  private readonly namespace: string;
  private readonly lookups = new LookupTally();

  constructor(url: string, options: RedisStoreOptions = {}) {
    const parsed = new URL(url);
    this.name = `redis://${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
    this.namespace = options.namespace ?? 'visionpipe:';
    this.client = new (ioredis().Redis)(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: options.connectTimeoutMs ?? 2000,
      retryStrategy: (times) => Math.min(200 * times, 2000),
    });
    // Connection errors surface as failed commands; the failover store reports them.
    this.client.on('error', () => {});
  }

  /** Starts connecting; resolves false instead of throwing when Redis is not there. */
  async connect(): Promise<boolean> {
    try {
      await this.client.connect();
      return true;
    } catch {
      return false;
    }
  }

  healthy(): boolean {
    return this.client.status === 'ready';
  }

  private get statsKey(): string {
    return `${this.namespace}__stats`;
  }

  private k(key: string): string {
    return this.namespace + key;
  }

  /** An entry's provider and model, JSON, under `<namespace>__meta:<key>` (same TTL as the entry). */
  private metaKey(key: string): string {
    return `${this.namespace}__meta:${key}`;
  }

  /** Claims live beside the entries, under `<namespace>claim:` (claims.ts). */
  private claimKey(key: string): string {
    return `${this.namespace}claim:${key}`;
  }

  async tryClaim(key: string, token: string, leaseMs: number): Promise<boolean> {
    return (await this.client.set(this.claimKey(key), token, 'PX', leaseMs, 'NX')) === 'OK';
  }

  async renew(key: string, token: string, leaseMs: number): Promise<boolean> {
    return Number(await this.client.eval(RENEW_IF_HELD, 1, this.claimKey(key), token, leaseMs)) === 1;
  }

  async release(key: string, token: string): Promise<void> {
    await this.client.eval(RELEASE_IF_HELD, 1, this.claimKey(key), token);
  }

  withdraw(key: string): void {
    this.lookups.withdraw(key);
  }

  async get(key: string, read?: ReadOptions): Promise<Buffer | undefined> {
    const raw = await this.client.getBuffer(this.k(key));
    if (raw === null || raw.length < HEADER) {
      this.lookups.count(key, false, read);
      return undefined;
    }
    this.lookups.count(key, true, read);
    return raw.subarray(HEADER);
  }

  /** Throws when Redis fails (the failover store then writes locally). */
  async set(key: string, value: Buffer, ttlMs: number, meta?: EntryMeta): Promise<void> {
    const header = Buffer.allocUnsafe(HEADER);
    header.writeDoubleBE(Date.now(), 0);
    const payload = Buffer.concat([header, value]);
    const seconds = Math.max(1, Math.ceil(ttlMs / 1000));
    // Entry and meta together: an overwrite without meta drops the old entry's meta.
    const write = this.client.multi();
    if (ttlMs > 0) write.set(this.k(key), payload, 'EX', seconds);
    else write.set(this.k(key), payload);
    if (!meta) write.unlink(this.metaKey(key));
    else {
      const text = JSON.stringify({ provider: meta.provider, model: meta.model });
      if (ttlMs > 0) write.set(this.metaKey(key), text, 'EX', seconds);
      else write.set(this.metaKey(key), text);
    }
    for (const [error] of (await write.exec()) ?? []) if (error) throw error;
  }

  async delete(key: string): Promise<boolean> {
    const [removed] = await Promise.all([
      this.client.unlink(this.k(key)),
      this.client.unlink(this.metaKey(key)),
    ]);
    return removed > 0;
  }

  private async *scan(prefix: string): AsyncGenerator<string[]> {
    let cursor = '0';
    do {
      const [next, keys] = await this.client.scan(
        cursor,
        'MATCH',
        `${this.escape(this.k(prefix))}*`,
        'COUNT',
        1000,
      );
      cursor = next;
      const claims = this.claimKey('');
      const metas = this.metaKey('');
      const entries = keys.filter(
        (key) => key !== this.statsKey && !key.startsWith(claims) && !key.startsWith(metas),
      );
      if (entries.length) yield entries;
    } while (cursor !== '0');
  }

  /** SCAN patterns treat * ? [ ] \ specially. */
  private escape(text: string): string {
    return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
  }

  async clear(options: ClearOptions = {}): Promise<number> {
    let removed = 0;
    const cutoff = options.olderThanMs === undefined ? undefined : Date.now() - options.olderThanMs;
    for await (const keys of this.scan(options.prefix ?? '')) {
      let victims = keys;
      if (cutoff !== undefined) {
        const pipeline = this.client.pipeline();
        for (const key of keys) pipeline.getrangeBuffer(key, 0, HEADER - 1);
        const heads = (await pipeline.exec()) ?? [];
        victims = keys.filter((_, i) => {
          const head = heads[i]?.[1] as Buffer | undefined;
          return head !== undefined && head.length === HEADER && head.readDoubleBE(0) <= cutoff;
        });
      }
      if (victims.length) {
        removed += await this.client.unlink(...victims);
        await this.client.unlink(...victims.map((key) => this.metaKey(key.slice(this.namespace.length))));
      }
    }
    return removed;
  }

  async groups(prefixLength: number, prefix = ''): Promise<GroupStats[]> {
    const groups = new Map<string, GroupStats>();
    for await (const keys of this.scan(prefix)) {
      const pipeline = this.client.pipeline();
      for (const key of keys) pipeline.strlen(key).getrangeBuffer(key, 0, HEADER - 1);
      const replies = (await pipeline.exec()) ?? [];
      keys.forEach((key, i) => {
        const length = Number(replies[2 * i]?.[1] ?? 0);
        const head = replies[2 * i + 1]?.[1] as Buffer | undefined;
        if (length < HEADER || !head || head.length !== HEADER) return; // expired meanwhile
        const name = key.slice(this.namespace.length);
        addToGroups(groups, name, prefixLength, length - HEADER, head.readDoubleBE(0));
      });
    }
    return [...groups.values()];
  }

  async byModel(prefix = ''): Promise<ModelStats[]> {
    const models = new Map<string, ModelStats>();
    for await (const keys of this.scan(prefix)) {
      const pipeline = this.client.pipeline();
      for (const key of keys) pipeline.strlen(key).get(this.metaKey(key.slice(this.namespace.length)));
      const replies = (await pipeline.exec()) ?? [];
      keys.forEach((_, i) => {
        const length = Number(replies[2 * i]?.[1] ?? 0);
        if (length < HEADER) return; // expired meanwhile
        addToModels(models, parseMeta(replies[2 * i + 1]?.[1]), length - HEADER);
      });
    }
    return sortedModels(models);
  }

  async stats(): Promise<CacheStats> {
    let entries = 0;
    let bytes = 0;
    for await (const keys of this.scan('')) {
      const pipeline = this.client.pipeline();
      for (const key of keys) pipeline.strlen(key);
      for (const [, length] of (await pipeline.exec()) ?? []) bytes += Math.max(0, Number(length) - HEADER);
      entries += keys.length;
    }
    const counters = await this.client.hgetall(this.statsKey);
    return {
      entries,
      bytes,
      ...this.lookups.stats(counters),
    };
  }

  async close(): Promise<void> {
    const increments = this.lookups.increments();
    if (this.healthy() && increments.length > 0) {
      try {
        const pipeline = this.client.pipeline();
        for (const [name, n] of increments) pipeline.hincrby(this.statsKey, name, n);
        await pipeline.exec();
      } catch {}
    }
    this.client.disconnect();
  }
}

/** A meta side key's value; undefined when absent or not what `set` writes. */
function parseMeta(raw: unknown): EntryMeta | undefined {
  if (typeof raw !== 'string') return undefined;
  try {
    const value = JSON.parse(raw) as { provider?: unknown; model?: unknown };
    return typeof value.provider === 'string' && typeof value.model === 'string'
      ? { provider: value.provider, model: value.model }
      : undefined;
  } catch {
    return undefined;
  }
}
