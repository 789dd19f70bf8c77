/**
 * The PostgreSQL connection: one pg pool behind one Kysely instance, opened from
 * `DATABASE_URL` (`postgres://user:password@host:port/database`).
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { checkDatabaseUrl } from '../config/urls.js';
import type { Database } from './schema.js';

export interface DatabaseOptions {
  /** `postgres://` or `postgresql://` URL. */
  url: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** How long to wait for a connection, ms (default 5000). */
  connectTimeoutMs?: number;
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
