/**
 * ImgGo's API key routes, for keys with `admin:all` (ImgGo's dashboard session; here the
 * key `visionpipe keys create --scopes admin:all` printed):
 *
 * - `POST /api-keys` `{name, scopes?, expires_at?}` → 201 with the key, shown this once
 *   (stored as its sha256). Scopes default to ImgGo's `patterns:read, patterns:ingest`
 *   and must be known scopes (400 `validation_error` naming the bad one); an `expires_at`
 *   in the past is refused.
 * - `GET /api-keys`: every live key, the secret never, `key_prefix` only.
 * - `DELETE /api-keys/{id}`: revoked at once (the next request with it gets 401); 404 for
 *   an unknown or already revoked key; 409 `last_admin_key` for the last active admin:all
 *   key, decided in the same transaction as the revocation (two admins revoking each other
 *   at once leave one).
 */
import type { FastifyInstance } from 'fastify';
import { type ApiKeyInfo, LastAdminKeyError } from '../../store/index.js';
import { ApiError, notFound } from '../api-error.js';
import type { RouteContext } from '../app.js';
import { parseScopes } from '../scopes.js';
import { idParams, isUuid, ok } from './common.js';

/** ImgGo's default scopes for a key created through the API. */
const API_DEFAULT_SCOPES = ['patterns:read', 'patterns:ingest'];

const createBody = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 255 },
    scopes: { type: 'array', maxItems: 32, items: { type: 'string', maxLength: 64 } },
    expires_at: { type: ['string', 'null'], maxLength: 64 },
  },
} as const;

interface CreateBody {
  name: string;
  scopes?: string[];
  expires_at?: string | null;
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);

function keyView(key: ApiKeyInfo) {
  return {
    id: key.id,
    name: key.name,
    key_prefix: key.key_prefix,
    // ImgGo tells test keys from live ones; every visionpipe key is a live one.
    key_type: 'live' as const,
    scopes: key.scopes,
    created_at: key.created_at.toISOString(),
    expires_at: iso(key.expires_at),
    last_used_at: iso(key.last_used_at),
  };
}

export async function apiKeyRoutes(app: FastifyInstance, context: RouteContext): Promise<void> {
  const { store } = context;

  app.post<{ Body: CreateBody }>(
    '/api-keys',
    { config: { scope: 'admin:all' }, schema: { body: createBody } },
    async (request, reply) => {
      const { name, scopes, expires_at: expiresAt } = request.body;
      let granted: string[];
      try {
        granted = parseScopes((scopes ?? API_DEFAULT_SCOPES).join(','));
      } catch (error) {
        throw new ApiError(
          400,
          'validation_error',
          (error as Error).message.replace('--scopes: ', 'scopes: '),
          {
            field: 'scopes',
          },
        );
      }
      const expires = expiresAt ? new Date(expiresAt) : undefined;
      if (expires && Number.isNaN(expires.getTime()))
        throw new ApiError(400, 'validation_error', 'expires_at must be an ISO 8601 date-time', {
          field: 'expires_at',
        });
      if (expires && expires.getTime() <= Date.now())
        throw new ApiError(400, 'validation_error', 'expires_at must be in the future', {
          field: 'expires_at',
        });
      const created = await store.keys.create({
        name,
        scopes: granted,
        ...(expires ? { expiresAt: expires } : {}),
      });
      reply.status(201);
      const { key_prefix: _prefix, last_used_at: _used, ...shown } = keyView(created);
      return ok({ ...shown, key: created.key });
    },
  );

  app.get('/api-keys', { config: { scope: 'admin:all' } }, async () => {
    const keys = await store.keys.list();
    return ok(keys.filter((k) => k.revoked_at === null).map(keyView));
  });

  app.delete<{ Params: { id: string } }>(
    '/api-keys/:id',
    { config: { scope: 'admin:all' }, schema: { params: idParams } },
    async (request) => {
      const { id } = request.params;
      // 409 for the last active admin:all key: revoking it would leave no key that reaches
      // the admin routes over HTTP (checked and revoked atomically, ApiKeys.revoke). The CLI,
      // which holds the database itself, may still revoke it (`visionpipe keys revoke`).
      let revoked: ApiKeyInfo | undefined;
      try {
        revoked = isUuid(id) ? await store.keys.revoke(id, { keepLastAdmin: true }) : undefined;
      } catch (error) {
        if (!(error instanceof LastAdminKeyError)) throw error;
        throw new ApiError(
          409,
          'last_admin_key',
          `API key '${error.keyName}' is the last active key with admin:all: create another first (visionpipe keys create --scopes admin:all, or POST /api-keys), then revoke this one`,
        );
      }
      if (!revoked) throw notFound('api key', id);
      return ok({ message: `API key '${revoked.name}' revoked` });
    },
  );
}
