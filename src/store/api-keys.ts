/**
 * API keys: created with 240 random bits, shown once, stored as their sha256 (a key with
 * that much entropy needs no salt or slow hash: nothing can be guessed from the hash).
 * Listings show the first characters only.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import { VisionpipeError } from '../errors.js';
import type { ApiKeyRow, Database } from './schema.js';

/** `vpk_` + 40 base64url characters. */
export const KEY_PREFIX = 'vpk_';
const SHOWN_PREFIX_LENGTH = 12;
/** last_used_at is written at most this often per key (one write per request would be wasteful). */
const TOUCH_EVERY_MS = 60_000;

export interface ApiKeyInfo {
  id: string;
  name: string;
  key_prefix: string;
  scopes: string[];
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface CreatedApiKey extends ApiKeyInfo {
  /** The key itself: shown once, never stored. */
  key: string;
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function info(row: ApiKeyRow): ApiKeyInfo {
  const { key_hash: _hash, ...rest } = row;
  return rest;
}

/** `id` is the last active key with `admin:all`: revoking it would leave none (ApiKeys.revoke). */
export class LastAdminKeyError extends Error {
  override readonly name = 'LastAdminKeyError';
  constructor(readonly keyName: string) {
    super(`API key '${keyName}' is the last active key with admin:all`);
  }
}

/**
 * Locks every unrevoked `admin:all` key's row until the transaction ends (in id order, so
 * two revocations never deadlock; one waiting re-reads the rows the other revoked) and
 * throws LastAdminKeyError when `id` is the only active (unexpired) one.
 */
async function refuseLastAdmin(tx: Transaction<Database>, id: string): Promise<void> {
  const admins = await tx
    .selectFrom('api_keys')
    .select(['id', 'name', 'expires_at'])
    .where('revoked_at', 'is', null)
    .where(sql<boolean>`'admin:all' = any(scopes)`)
    .orderBy('id')
    .forUpdate()
    .execute();
  const now = Date.now();
  const active = admins.filter((k) => k.expires_at === null || k.expires_at.getTime() > now);
  if (active.length === 1 && active[0]?.id === id) throw new LastAdminKeyError(active[0].name);
}

export class ApiKeys {
  constructor(private readonly db: Kysely<Database>) {}

  async create(input: { name: string; scopes: string[]; expiresAt?: Date }): Promise<CreatedApiKey> {
    const key = `${KEY_PREFIX}${randomBytes(30).toString('base64url')}`;
    const row = await this.db
      .insertInto('api_keys')
      .values({
        id: randomUUID(),
        name: input.name,
        key_prefix: key.slice(0, SHOWN_PREFIX_LENGTH),
        key_hash: hashKey(key),
        scopes: input.scopes,
        expires_at: input.expiresAt ?? null,
        last_used_at: null,
        revoked_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { ...info(row), key };
  }

  async list(): Promise<ApiKeyInfo[]> {
    const rows = await this.db.selectFrom('api_keys').selectAll().orderBy('created_at').execute();
    return rows.map(info);
  }

  /**
   * Revokes the key with this id or shown prefix. Returns it, or undefined when nothing
   * live matched. Throws INVALID_OPTION when a prefix matches several keys.
   *
   * `keepLastAdmin` (the HTTP route): throws LastAdminKeyError instead of revoking the last
   * active (unrevoked, unexpired) `admin:all` key. Atomic: the check and the revocation run
   * in one transaction holding every active admin key's row (`SELECT … FOR UPDATE`, in id
   * order), so two admins revoking each other at the same instant are serialised: the second
   * sees the first's revocation and is refused, and an admin key always remains.
   */
  async revoke(
    idOrPrefix: string,
    options: { keepLastAdmin?: boolean } = {},
  ): Promise<ApiKeyInfo | undefined> {
    const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrPrefix);
    return this.db.transaction().execute(async (tx) => {
      const matches = await tx
        .selectFrom('api_keys')
        .select('id')
        .where((eb) => (isUuid ? eb('id', '=', idOrPrefix) : eb('key_prefix', '=', idOrPrefix)))
        .where('revoked_at', 'is', null)
        .execute();
      if (matches.length > 1) {
        throw new VisionpipeError(
          'INVALID_OPTION',
          `"${idOrPrefix}" matches ${matches.length} keys: revoke by id (visionpipe keys list)`,
          { option: 'key' },
        );
      }
      const match = matches[0];
      if (!match) return undefined;
      if (options.keepLastAdmin) await refuseLastAdmin(tx, match.id);
      const row = await tx
        .updateTable('api_keys')
        .set({ revoked_at: new Date() })
        .where('id', '=', match.id)
        .where('revoked_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      return row ? info(row) : undefined;
    });
  }

  /** The key's record when it exists, is not revoked and has not expired. */
  async authenticate(key: string, now = new Date()): Promise<ApiKeyInfo | undefined> {
    const row = await this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('key_hash', '=', hashKey(key))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (!row || (row.expires_at && row.expires_at <= now)) return undefined;
    if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > TOUCH_EVERY_MS) {
      await this.db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', row.id).execute();
    }
    return info(row);
  }
}
