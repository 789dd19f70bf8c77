/**
 * Remembers the sha256 of files by (path, device, inode, size, mtime, ctime) so a re-run
 * over unchanged files skips reading and hashing them: on a cache hit the file is never
 * read at all. Safe against in-place rewrites: restoring size and mtime (`touch -r`,
 * `utimes`) cannot restore ctime, which the kernel sets on every write and metadata
 * change, and a new file at the same path has a new inode or ctime.
 */
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { WarningSink } from './store.js';

export interface FileIdentity {
  dev: string;
  ino: string;
  size: string;
  mtime: string;
  ctime: string;
}

function identityOf(file: string): FileIdentity | undefined {
  try {
    const s = statSync(file, { bigint: true });
    if (!s.isFile()) return undefined;
    return {
      dev: String(s.dev),
      ino: String(s.ino),
      size: String(s.size),
      mtime: String(s.mtimeNs),
      ctime: String(s.ctimeNs),
    };
  } catch {
    return undefined;
  }
}

export class StatMemo {
  private readonly db: Database.Database | undefined;
  private readonly lookupStatement:
    | Database.Statement<[string], FileIdentity & { sha256: string }>
    | undefined;
  private readonly rememberStatement:
    | Database.Statement<[string, string, string, string, string, string, string]>
    | undefined;

  constructor(file: string, warn: WarningSink = () => {}) {
    try {
      mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.exec(`CREATE TABLE IF NOT EXISTS stat_memo (
        path TEXT PRIMARY KEY, dev TEXT, ino TEXT, size TEXT, mtime TEXT, ctime TEXT, sha256 TEXT NOT NULL)`);
      this.lookupStatement = this.db.prepare(
        'SELECT dev, ino, size, mtime, ctime, sha256 FROM stat_memo WHERE path = ?',
      );
      this.rememberStatement = this.db.prepare(
        `INSERT INTO stat_memo (path, dev, ino, size, mtime, ctime, sha256) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(path) DO UPDATE SET dev = excluded.dev, ino = excluded.ino, size = excluded.size,
           mtime = excluded.mtime, ctime = excluded.ctime, sha256 = excluded.sha256`,
      );
    } catch (error) {
      warn(`stat memo ${file} unavailable (${(error as Error).message}): every file will be hashed`);
      this.db = undefined;
    }
  }

  /** The remembered sha256 when the file is provably unchanged, else undefined. */
  lookup(file: string): string | undefined {
    if (!this.lookupStatement) return undefined;
    const absolute = path.resolve(file);
    const now = identityOf(absolute);
    if (!now) return undefined;
    let row: (FileIdentity & { sha256: string }) | undefined;
    try {
      row = this.lookupStatement.get(absolute);
    } catch {
      return undefined;
    }
    if (!row) return undefined;
    const same =
      row.dev === now.dev &&
      row.ino === now.ino &&
      row.size === now.size &&
      row.mtime === now.mtime &&
      row.ctime === now.ctime;
    return same ? row.sha256 : undefined;
  }

  /**
   * Records the hash of bytes read from `file`. The identity is taken after reading; if
   * the file changed while it was read, the ctime moved and the next lookup misses.
   */
  remember(file: string, sha256: string, identityBeforeRead?: FileIdentity): void {
    if (!this.rememberStatement) return;
    const absolute = path.resolve(file);
    const now = identityOf(absolute);
    if (!now) return;
    if (identityBeforeRead && JSON.stringify(identityBeforeRead) !== JSON.stringify(now)) return;
    try {
      this.rememberStatement.run(absolute, now.dev, now.ino, now.size, now.mtime, now.ctime, sha256);
    } catch {}
  }

  static identity(file: string): FileIdentity | undefined {
    return identityOf(path.resolve(file));
  }

  close(): void {
    this.db?.close();
  }
}
