/**
 * The service's durable state in PostgreSQL: API keys, patterns and versions, images,
 * jobs and results, and the webhook tables. `openStore()` connects, checks the
 * connection (an unreachable database fails start-up with a message naming it) and,
 * unless told not to, applies pending migrations.
 */
import { type Kysely, sql } from 'kysely';
import { redactCredentials } from '../config/urls.js';
import { VisionpipeError } from '../errors.js';
import { ApiKeys } from './api-keys.js';
import { type DatabaseOptions, openDatabase } from './database.js';
import { Images } from './images.js';
import { Jobs } from './jobs.js';
import { type MigrationReport, migrateToLatest, pendingMigrations } from './migrate.js';
import { Patterns } from './patterns.js';
import type { Database } from './schema.js';
import { Webhooks } from './webhooks.js';

export interface StoreOptions extends DatabaseOptions {
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
}

export interface Store {
  readonly db: Kysely<Database>;
  readonly keys: ApiKeys;
  readonly patterns: Patterns;
  readonly jobs: Jobs;
  readonly images: Images;
  readonly webhooks: Webhooks;
  /** What opening applied (empty when the schema was current or `migrate: false`). */
  readonly migrations: MigrationReport;
  /** Resolves when the database answers; rejects otherwise. */
  ping(): Promise<void>;
  /** Migrations the database still lacks (a newer worker against an older schema). */
  pending(): Promise<string[]>;
  close(): Promise<void>;
}

export async function openStore(options: StoreOptions): Promise<Store> {
  const db = openDatabase(options);
  const ping = async () => {
    await sql`select 1`.execute(db);
  };
  try {
    await ping();
  } catch (error) {
    await db.destroy();
    throw new VisionpipeError(
      'INVALID_OPTION',
      `database ${redactCredentials(options.url)} is not reachable: ${error instanceof Error ? error.message : String(error)}`,
      { option: 'databaseUrl', cause: error },
    );
  }
  let migrations: MigrationReport = { applied: [], current: [] };
  try {
    if (options.migrate !== false) migrations = await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return {
    db,
    keys: new ApiKeys(db),
    patterns: new Patterns(db),
    jobs: new Jobs(db),
    images: new Images(db),
    webhooks: new Webhooks(db),
    migrations,
    ping,
    pending: () => pendingMigrations(db),
    close: () => db.destroy(),
  };
}

export type { ApiKeyInfo, CreatedApiKey } from './api-keys.js';
export { LastAdminKeyError } from './api-keys.js';
export type { IngestOutcome, NewIngest } from './jobs.js';
export type { PatternFields, PatternSettings, PatternVersion, StoredPattern } from './patterns.js';
export { compilePattern, StoreConflictError } from './patterns.js';
export type { JobRow, JobStatus, JobUsage } from './schema.js';
export { JOB_STATUSES } from './schema.js';
export type { AttemptOutcome, ClaimedDelivery, OutboxRow, WebhookEndpointRow } from './webhooks.js';
