/**
 * Schema migrations with Kysely's migrator: run by `visionpipe migrate` and at the
 * start of `serve` and `worker`. The migrator takes a lock in the database, so several
 * processes starting at once apply each migration exactly once.
 */
import { type Kysely, type MigrationResult, Migrator } from 'kysely';
import { VisionpipeError } from '../errors.js';
import { MIGRATIONS } from './migrations/index.js';
import type { Database } from './schema.js';

export interface MigrationReport {
  /** Migrations applied by this call, in order. */
  applied: string[];
  /** Every migration the database now has. */
  current: string[];
}

function migrator(db: Kysely<Database>): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS } });
}

/** Applies every pending migration. Throws INTERNAL naming the migration that failed. */
export async function migrateToLatest(db: Kysely<Database>): Promise<MigrationReport> {
  const m = migrator(db);
  const { error, results = [] } = await m.migrateToLatest();
  if (error) {
    const failed = results.find((r: MigrationResult) => r.status === 'Error');
    const reason = error instanceof Error ? error.message : String(error);
    throw new VisionpipeError(
      'INTERNAL',
      `database migration ${failed ? `"${failed.migrationName}" ` : ''}failed: ${reason}`,
      { cause: error },
    );
  }
  const current = (await m.getMigrations()).filter((i) => i.executedAt !== undefined).map((i) => i.name);
  return { applied: results.filter((r) => r.status === 'Success').map((r) => r.migrationName), current };
}

/** Migrations the code knows but the database has not applied (none when it is current). */
export async function pendingMigrations(db: Kysely<Database>): Promise<string[]> {
  return (await migrator(db).getMigrations()).filter((i) => i.executedAt === undefined).map((i) => i.name);
}
