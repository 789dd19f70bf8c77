/**
 * The PostgreSQL connection: one pg pool behind one Kysely instance, opened from
 * `DATABASE_URL` (`postgres://user:password@host:port/database`).
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { VisionpipeError } from '../errors.js';
import type { Database } from './schema.js';

export interface DatabaseOptions {
  /** `postgres://` or `postgresql://` URL. */
  url: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** How long to wait for a connection, ms (default 5000). */
  connectTimeoutMs?: number;
}

/** The URL without its password, for messages. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** Checks the URL's form: throws INVALID_OPTION naming DATABASE_URL. */
export function checkDatabaseUrl(url: string | undefined): string {
  let parsed: URL | undefined;
  try {
    parsed = url ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!url || !parsed || (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:')) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      url
        ? `database URL "${redactDatabaseUrl(url)}" is not a postgres://user@host:port/database URL`
        : 'no database: set DATABASE_URL or --database-url (postgres://user@host:port/database)',
      { option: 'databaseUrl' },
    );
  }
  return url;
}

export function openDatabase(options: DatabaseOptions): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString: checkDatabaseUrl(options.url),
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
  });
  // An idle client that loses its connection emits on the pool: report it per query, not as a crash.
  pool.on('error', () => {});
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
