/** `visionpipe migrate`: brings the service's PostgreSQL schema up to date (serve and worker do it too). */
import { Command } from 'commander';
import { addDatabaseOptions, type ConnectionFlags, databaseUrlOf } from './service-flags.js';

const EXAMPLES = `
Examples:
  $ DATABASE_URL=postgres://postgres@127.0.0.1:5432/visionpipe visionpipe migrate
  $ visionpipe migrate --database-url postgres://app:secret@db.internal/visionpipe --json

Safe to run any number of times and from several machines at once: a lock in the database
lets one apply each migration.`;

export function migrateCommand(): Command {
  const command = new Command('migrate')
    .description('Apply pending database migrations of the service (PostgreSQL, DATABASE_URL)')
    .option('--json', 'print what was applied as JSON')
    .addHelpText('after', EXAMPLES)
    .action(async (flags: ConnectionFlags & { json?: boolean }) => {
      const { openStore } = await import('../store/index.js');
      const store = await openStore({ url: databaseUrlOf(flags), poolSize: 1 });
      const report = store.migrations;
      await store.close();
      if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else
        process.stdout.write(
          report.applied.length > 0
            ? `applied ${report.applied.join(', ')}\n`
            : `the database is up to date (${report.current.join(', ')})\n`,
        );
    });
  return addDatabaseOptions(command);
}
