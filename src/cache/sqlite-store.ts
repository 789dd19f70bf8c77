/**
 * The CLI's default cache: one SQLite file under the state directory, WAL mode (readers
 * never block the writer), prepared statements, a byte budget with oldest-first eviction
 * and expired rows pruned on open. A file that is not a database, or one that fails
 * mid-run, produces a warning and misses, never a failed batch.
 */
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { processAlive } from '../process-alive.js';
import type { ClaimStore } from './claims.js';
import {
  type CacheStats,
  type CacheStore,
  type ClearOptions,
  type EntryMeta,
  type GroupStats,
  LookupTally,
  type ModelStats,
  type ReadOptions,
  UNKNOWN_MODEL,
  type WarningSink,
} from './store.js';

export interface SqliteStoreOptions {
  /** Total bytes of values kept; oldest entries are evicted past it. Default 2 GB. */
  maxBytes?: number;
  warn?: WarningSink;
}

export class SqliteCacheUnavailable extends Error {}

/** Who holds a claim: the row of the `claims` table (pid and host tell a dead holder). */
interface ClaimRow {
  token: string;
  pid: number;
  host: string;
  expires_at: number;
}

/**
 * Also a ClaimStore (claims.ts): processes sharing one state folder (two runs with different
 * results files and the same `--state-dir`) claim a result key in the `claims` table before
 * paying for it, so the second waits for the first's result instead of paying again. A claim
 * is taken over when its lease expired or, on the same host, its process is gone.
 */
export class SqliteStore implements CacheStore, ClaimStore {
  readonly name: string;
  private readonly db: Database.Database;
  private readonly statements: {
    get: Database.Statement<[string], { value: Buffer; expires_at: number | null }>;
    set: Database.Statement<[string, Buffer, number, number, number | null, string | null, string | null]>;
    delete: Database.Statement<[string]>;
    size: Database.Statement<[], { bytes: number | null; entries: number }>;
    counters: Database.Statement<[], { name: string; value: number }>;
    bump: Database.Statement<[string, number]>;
    claimOf: Database.Statement<[string], ClaimRow>;
    putClaim: Database.Statement<[string, string, number, string, number]>;
    renewClaim: Database.Statement<[number, string, string]>;
    dropClaim: Database.Statement<[string, string]>;
  };
  private readonly host = os.hostname();
  private totalBytes: number;
  private readonly maxBytes: number;
  private readonly warn: WarningSink;
  private readonly lookups = new LookupTally();
  private warned = false;

  /** Opens (creating) the database; throws SqliteCacheUnavailable when the file cannot be used. */
  constructor(
    readonly file: string,
    options: SqliteStoreOptions = {},
  ) {
    this.name = `sqlite:${file}`;
    this.maxBytes = options.maxBytes ?? 2 * 1024 ** 3;
    this.warn = options.warn ?? (() => {});
    try {
      mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS entries (
          key TEXT PRIMARY KEY,
          value BLOB NOT NULL,
          size INTEGER NOT NULL,
          created_at INTEGER NOT NULL,
          expires_at INTEGER
        );
        CREATE INDEX IF NOT EXISTS entries_created ON entries(created_at);
        CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS claims (
          key TEXT PRIMARY KEY,
          token TEXT NOT NULL,
          pid INTEGER NOT NULL,
          host TEXT NOT NULL,
          expires_at INTEGER NOT NULL
        );
      `);
      addMetaColumns(this.db);
      this.db.prepare('DELETE FROM entries WHERE expires_at IS NOT NULL AND expires_at <= ?').run(Date.now());
      this.db.prepare('DELETE FROM claims WHERE expires_at <= ?').run(Date.now());
      this.statements = {
        get: this.db.prepare('SELECT value, expires_at FROM entries WHERE key = ?'),
        set: this.db.prepare(
          `INSERT INTO entries (key, value, size, created_at, expires_at, provider, model)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(key) DO UPDATE SET value = excluded.value, size = excluded.size,
             created_at = excluded.created_at, expires_at = excluded.expires_at,
             provider = excluded.provider, model = excluded.model`,
        ),
        delete: this.db.prepare('DELETE FROM entries WHERE key = ?'),
        size: this.db.prepare('SELECT SUM(size) AS bytes, COUNT(*) AS entries FROM entries'),
        counters: this.db.prepare('SELECT name, value FROM counters'),
        bump: this.db.prepare(
          'INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value',
        ),
        claimOf: this.db.prepare('SELECT token, pid, host, expires_at FROM claims WHERE key = ?'),
        putClaim: this.db.prepare(
          `INSERT INTO claims (key, token, pid, host, expires_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(key) DO UPDATE SET token = excluded.token, pid = excluded.pid,
             host = excluded.host, expires_at = excluded.expires_at`,
        ),
        renewClaim: this.db.prepare('UPDATE claims SET expires_at = ? WHERE key = ? AND token = ?'),
        dropClaim: this.db.prepare('DELETE FROM claims WHERE key = ? AND token = ?'),
      };
      this.totalBytes = this.statements.size.get()?.bytes ?? 0;
    } catch (error) {
      throw new SqliteCacheUnavailable(`${file}: ${(error as Error).message}`, { cause: error });
    }
  }

  private fail(operation: string, error: unknown): void {
    if (this.warned) return;
    this.warned = true;
    this.warn(`cache ${this.file}: ${operation} failed (${(error as Error).message}); continuing without it`);
  }

  /**
   * Takes `key` for `leaseMs` (ms) unless a live claim holds it: one whose lease has not
   * expired and whose process, when it is of this host, is alive. Checked and written in one
   * immediate transaction, so two processes never both take it. Throws when the file fails
   * (claims.ts then works unclaimed).
   */
  async tryClaim(key: string, token: string, leaseMs: number): Promise<boolean> {
    const now = Date.now();
    return this.db
      .transaction(() => {
        const held = this.statements.claimOf.get(key);
        if (held && held.token !== token && held.expires_at > now && !this.holderGone(held)) return false;
        this.statements.putClaim.run(key, token, process.pid, this.host, now + leaseMs);
        return true;
      })
      .immediate();
  }

  /** A holder of this host whose process is gone; another host's holder only expires. */
  private holderGone(row: ClaimRow): boolean {
    return row.host === this.host && row.pid !== process.pid && !processAlive(row.pid);
  }

  /** Extends the lease of a claim `token` still holds, to `leaseMs` from now; false when lost. */
  async renew(key: string, token: string, leaseMs: number): Promise<boolean> {
    return this.statements.renewClaim.run(Date.now() + leaseMs, key, token).changes > 0;
  }

  /** Removes the claim if `token` still holds it (never another holder's). */
  async release(key: string, token: string): Promise<void> {
    this.statements.dropClaim.run(key, token);
  }

  /** Synchronous read: better-sqlite3 is synchronous, and the layered store's fast path uses it. */
  getSync(key: string, read?: ReadOptions): Buffer | undefined {
    let row: { value: Buffer; expires_at: number | null } | undefined;
    try {
      row = this.statements.get.get(key);
    } catch (error) {
      this.fail('read', error);
      this.lookups.count(key, false, read);
      return undefined;
    }
    if (row === undefined || (row.expires_at !== null && row.expires_at <= Date.now())) {
      this.lookups.count(key, false, read);
      return undefined;
    }
    this.lookups.count(key, true, read);
    return row.value;
  }

  withdraw(key: string): void {
    this.lookups.withdraw(key);
  }

  async get(key: string, read?: ReadOptions): Promise<Buffer | undefined> {
    return this.getSync(key, read);
  }

  async set(key: string, value: Buffer, ttlMs: number, meta?: EntryMeta): Promise<void> {
    const now = Date.now();
    try {
      this.statements.set.run(
        key,
        value,
        value.length,
        now,
        ttlMs > 0 ? now + ttlMs : null,
        meta?.provider ?? null,
        meta?.model ?? null,
      );
      this.totalBytes += value.length;
      if (this.totalBytes > this.maxBytes) this.evict();
    } catch (error) {
      this.fail('write', error);
    }
  }

  /** Oldest entries out until 90 % of the budget. */
  private evict(): void {
    const target = this.maxBytes * 0.9;
    // Overwrites were counted twice on the way in: start from the true total.
    this.totalBytes = this.statements.size.get()?.bytes ?? 0;
    const oldest = this.db.prepare('SELECT key, size FROM entries ORDER BY created_at LIMIT 500');
    const remove = this.db.transaction((keys: string[]) => {
      for (const key of keys) this.statements.delete.run(key);
    });
    while (this.totalBytes > target) {
      const rows = oldest.all() as Array<{ key: string; size: number }>;
      if (rows.length === 0) break;
      const batch: string[] = [];
      for (const row of rows) {
        if (this.totalBytes <= target) break;
        batch.push(row.key);
        this.totalBytes -= row.size;
      }
      remove(batch);
    }
  }

  async delete(key: string): Promise<boolean> {
    try {
      return this.statements.delete.run(key).changes > 0;
    } catch (error) {
      this.fail('delete', error);
      return false;
    }
  }

  async clear(options: ClearOptions = {}): Promise<number> {
    const conditions: string[] = [];
    const params: Array<string | number> = [];
    if (options.prefix !== undefined) {
      // substr comparison, not LIKE: keys may contain % and _.
      conditions.push('substr(key, 1, ?) = ?');
      params.push(options.prefix.length, options.prefix);
    }
    if (options.olderThanMs !== undefined) {
      conditions.push('created_at <= ?');
      params.push(Date.now() - options.olderThanMs);
    }
    const where = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
    const removed = this.db.prepare(`DELETE FROM entries ${where}`).run(...params).changes;
    this.totalBytes = this.statements.size.get()?.bytes ?? 0;
    return removed;
  }

  async groups(prefixLength: number, prefix = ''): Promise<GroupStats[]> {
    return this.db
      .prepare<[number, number, string], GroupStats>(
        `SELECT substr(key, 1, ?) AS "group", COUNT(*) AS entries, SUM(size) AS bytes,
           MIN(created_at) AS oldestMs, MAX(created_at) AS newestMs
         FROM entries WHERE substr(key, 1, ?) = ? GROUP BY 1 ORDER BY 1`,
      )
      .all(prefixLength, prefix.length, prefix);
  }

  async byModel(prefix = ''): Promise<ModelStats[]> {
    return this.db
      .prepare<[string, string, number, string], ModelStats>(
        `SELECT COALESCE(provider, ?) AS provider, COALESCE(model, ?) AS model,
           COUNT(*) AS entries, SUM(size) AS bytes
         FROM entries WHERE substr(key, 1, ?) = ? GROUP BY 1, 2 ORDER BY 1, 2`,
      )
      .all(UNKNOWN_MODEL, UNKNOWN_MODEL, prefix.length, prefix);
  }

  async stats(): Promise<CacheStats> {
    const size = this.statements.size.get();
    const persisted = Object.fromEntries(this.statements.counters.all().map((row) => [row.name, row.value]));
    return { entries: size?.entries ?? 0, bytes: size?.bytes ?? 0, ...this.lookups.stats(persisted) };
  }

  /** Persists hit/miss counters (kept in memory on the hot path) and closes the file. */
  async close(): Promise<void> {
    if (!this.db.open) return;
    try {
      this.db.transaction(() => {
        for (const [name, n] of this.lookups.increments()) this.statements.bump.run(name, n);
      })();
      this.lookups.reset();
    } catch (error) {
      this.fail('close', error);
    }
    this.db.close();
  }
}

/**
 * Caches written before entries carried their provider and model get the two nullable
 * columns on open; their rows stay NULL (`unknown` in `byModel`).
 */
function addMetaColumns(db: Database.Database): void {
  const columns = new Set(
    (db.prepare('PRAGMA table_info(entries)').all() as Array<{ name: string }>).map((c) => c.name),
  );
  for (const column of ['provider', 'model'])
    if (!columns.has(column)) db.exec(`ALTER TABLE entries ADD COLUMN ${column} TEXT`);
}
