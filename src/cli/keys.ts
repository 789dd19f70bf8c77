/**
 * `visionpipe keys create|list|revoke`: API keys for the service. A key is printed once,
 * at creation; the database keeps only its sha256.
 */
import { Command } from 'commander';
import type { ApiKeyInfo } from '../store/index.js';
import { durationOption } from './duration-flag.js';
import { addDatabaseOptions, type ConnectionFlags, databaseUrlOf } from './service-flags.js';

const EXAMPLES = `
Examples:
  $ visionpipe keys create --name ci --scopes patterns:read,patterns:ingest,jobs:read
  $ visionpipe keys create --name admin --scopes admin:all --expires 90d --json
  $ visionpipe keys list
  $ visionpipe keys revoke vpk_3xQ8aZ1b        # by the prefix keys list shows, or by id

Scopes (ImgGo's): patterns:read, patterns:write, patterns:ingest, patterns:delete, jobs:read,
webhooks:read, webhooks:write, webhooks:delete, admin:all (everything), area:* (e.g. webhooks:*).
Without --scopes a key gets patterns:read, patterns:ingest and jobs:read.`;

async function withStore<T>(
  flags: ConnectionFlags,
  run: (store: import('../store/index.js').Store) => Promise<T>,
) {
  const { openStore } = await import('../store/index.js');
  const store = await openStore({ url: databaseUrlOf(flags), poolSize: 1 });
  try {
    return await run(store);
  } finally {
    await store.close();
  }
}

const when = (date: Date | null) => (date ? date.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-');

function describe(key: ApiKeyInfo): string {
  const state = key.revoked_at
    ? 'revoked'
    : key.expires_at && key.expires_at <= new Date()
      ? 'expired'
      : 'active';
  return [
    key.key_prefix,
    key.id,
    key.name,
    state,
    key.scopes.join(','),
    `used ${when(key.last_used_at)}`,
  ].join('  ');
}

export function keysCommand(): Command {
  const keys = new Command('keys')
    .description('Create, list and revoke API keys of the service (stored hashed; a key is shown once)')
    .addHelpText('after', EXAMPLES);

  const create = new Command('create')
    .description('Create an API key and print it (the only time it is shown)')
    .requiredOption('--name <name>', 'what the key is for')
    .option('--scopes <list>', 'comma-separated scopes (default: patterns:read,patterns:ingest,jobs:read)')
    .addOption(durationOption('--expires', 'lifetime (default: no expiry)'))
    .option('--json', 'print the key and its record as JSON')
    .addHelpText('after', EXAMPLES)
    .action(
      async (
        flags: ConnectionFlags & { name: string; scopes?: string; expires?: number; json?: boolean },
      ) => {
        const { DEFAULT_SCOPES, parseScopes } = await import('../service/scopes.js');
        const scopes = flags.scopes === undefined ? DEFAULT_SCOPES : parseScopes(flags.scopes);
        const created = await withStore(flags, (store) =>
          store.keys.create({
            name: flags.name,
            scopes,
            ...(flags.expires === undefined ? {} : { expiresAt: new Date(Date.now() + flags.expires) }),
          }),
        );
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(created)}\n`);
          return;
        }
        process.stdout.write(`${created.key}\n`);
        process.stderr.write(
          `API key "${created.name}" (${created.id}), scopes ${created.scopes.join(', ')}: store it now, it is not shown again.\n`,
        );
      },
    );

  const list = new Command('list')
    .description('List API keys: prefix, id, name, state, scopes, last use (never the keys)')
    .option('--json', 'print the records as JSON')
    .addHelpText('after', EXAMPLES)
    .action(async (flags: ConnectionFlags & { json?: boolean }) => {
      const all = await withStore(flags, (store) => store.keys.list());
      if (flags.json) process.stdout.write(`${JSON.stringify(all)}\n`);
      else process.stdout.write(all.length === 0 ? 'no API keys\n' : `${all.map(describe).join('\n')}\n`);
    });

  const revoke = new Command('revoke')
    .description('Revoke an API key by id or by the prefix `keys list` shows')
    .argument('<key>', 'the key id or prefix')
    .addHelpText('after', EXAMPLES)
    .action(async (idOrPrefix: string, flags: ConnectionFlags) => {
      const revoked = await withStore(flags, (store) => store.keys.revoke(idOrPrefix));
      if (!revoked) {
        process.stderr.write(`no active API key has id or prefix "${idOrPrefix}"\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`revoked ${describe({ ...revoked })}\n`);
    });

  for (const sub of [create, list, revoke]) keys.addCommand(addDatabaseOptions(sub));
  return keys;
}
