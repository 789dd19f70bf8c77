/**
 * Bearer API keys with ImgGo's scopes, then the per-key rate limit. A route says which
 * scope it needs in its config (`config: {scope: 'jobs:read'}`); routes without one
 * (health checks) are public.
 *
 * 401 `missing_authorization` without a Bearer key, 401 `invalid_api_key` for an unknown,
 * revoked or expired one, 403 `insufficient_permissions` naming the scope, 429
 * `rate_limit_exceeded` with Retry-After. Every authenticated answer carries the key's
 * X-RateLimit-* headers.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiKeyInfo, Store } from '../store/index.js';
import { ApiError } from './api-error.js';
import { within } from './deadline.js';
import type { KeyRateLimiter } from './rate-limit.js';
import { hasScope, type Scope } from './scopes.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a key needs for this route; none: public. */
    scope?: Scope;
  }
  interface FastifyRequest {
    apiKey?: ApiKeyInfo;
  }
}

/** The key's id: routes behind a scope always have one. */
export function apiKeyOf(request: FastifyRequest): ApiKeyInfo {
  if (!request.apiKey) throw new ApiError(401, 'missing_authorization', 'Authorization header is required');
  return request.apiKey;
}

const RATE_LIMIT_DEADLINE_MS = 1000;

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

export function registerAuth(app: FastifyInstance, store: Store, limiter: KeyRateLimiter | undefined): void {
  app.addHook('onRequest', async (request, reply) => {
    const scope = request.routeOptions.config.scope;
    if (!scope) return;
    const token = bearer(request.headers.authorization);
    if (!token) {
      throw new ApiError(
        401,
        'missing_authorization',
        'Authorization header with a Bearer API key is required',
      );
    }
    const key = await store.keys.authenticate(token);
    if (!key) throw new ApiError(401, 'invalid_api_key', 'API key is invalid, expired or has been revoked');
    request.apiKey = key;
    if (!hasScope(key.scopes, scope)) {
      throw new ApiError(
        403,
        'insufficient_permissions',
        `This API key does not have '${scope}' permission`,
        {
          required_scope: scope,
        },
      );
    }
    // Fail open: a Redis outage must not take the API down with it.
    const decision = limiter
      ? await within(limiter.take(key.id), RATE_LIMIT_DEADLINE_MS, 'the rate limiter').catch(() => undefined)
      : undefined;
    if (!decision) return;
    reply.headers(decision.headers);
    if (!decision.allowed) {
      const retryAfter = Number(decision.headers['retry-after']);
      throw new ApiError(
        429,
        'rate_limit_exceeded',
        `Rate limit exceeded. Retry after ${retryAfter} seconds.`,
        {
          limit: Number(decision.headers['x-ratelimit-limit']),
          remaining: 0,
          reset_at: new Date(Number(decision.headers['x-ratelimit-reset']) * 1000).toISOString(),
        },
      );
    }
  });
}
