/**
 * The HTTP API: an ImgGo-compatible fastify app. ImgGo's clients take a base URL ending
 * in `/api`, so every route lives under `/api`; the health checks also answer at the
 * root for load balancers.
 *
 * Every answer carries `X-Request-ID` (the caller's, when it sent a sane one) and uses
 * ImgGo's envelope: `{success: true, data}` or `{success: false, error: {code, message,
 * details}, request_id}`.
 */

import { randomUUID } from 'node:crypto';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { IngestQueue } from '../queue/ingest-queue.js';
import type { Store } from '../store/index.js';
import { ApiError, toApiError } from './api-error.js';
import { registerAuth } from './auth.js';
import { imageTooLarge } from './ingest-input.js';
import type { ModelProfiles } from './model-profiles.js';
import type { KeyRateLimiter } from './rate-limit.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { dashboardDataRoute, dashboardPageRoute } from './routes/dashboard.js';
import { healthRoutes } from './routes/health.js';
import { ingestRoutes } from './routes/ingest.js';
import { jobRoutes } from './routes/jobs.js';
import { patternRoutes } from './routes/patterns.js';
import { uploadRoutes } from './routes/uploads.js';
import { webhookRoutes } from './routes/webhooks.js';

export interface ApiSettings {
  /** Largest image accepted (upload, base64, fetched URL), bytes. */
  maxUploadBytes: number;
  /** Let `image_url` reach loopback and private addresses. */
  allowPrivateUrls: boolean;
  /** Time to fetch an `image_url`, ms (default 30 000). */
  fetchTimeoutMs?: number;
  /** Most pages one ingested document (PDF, multi-page TIFF) may have (default 50). */
  maxPages?: number;
  /** The URL clients reach this API at (endpoint and image URLs); default: from each request's Host. */
  publicUrl?: string;
  /** Named model profiles a pattern's `model_profile` may take besides `managed-default` (model-profiles.ts). */
  modelProfiles?: ModelProfiles;
}

export interface ApiDeps {
  store: Store;
  queue: IngestQueue;
  redis: Redis;
  /** Per-key request limit; none: unlimited. */
  rateLimiter?: KeyRateLimiter;
  settings: ApiSettings;
  /** Logs each request and its answer with the request id (`reqId`); none: no request log. */
  logger?: FastifyBaseLogger;
  /** Errors the API answered 500 for (the client only sees a request id). */
  onError?: (error: unknown, requestId: string) => void;
}

/** Callers' ids are kept when they look like ids; anything else is replaced. */
const REQUEST_ID = /^[\w.:-]{1,128}$/;

function envelopeError(error: ApiError, requestId: string) {
  return {
    success: false,
    error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) },
    request_id: requestId,
  };
}

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const { maxUploadBytes } = deps.settings;
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : `req_${randomUUID()}`;
    },
    // JSON bodies may carry a base64 image: 4/3 of the image limit, plus room for the rest.
    bodyLimit: Math.ceil((maxUploadBytes * 4) / 3) + 64 * 1024,
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allowUnionTypes: true } },
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const unknown = error.validation?.find((issue) => issue.keyword === 'additionalProperties')?.params
      .additionalProperty;
    const api = error.validation
      ? new ApiError(
          400,
          'validation_error',
          typeof unknown === 'string' ? `unknown field '${unknown}'` : error.message,
          { ...(typeof unknown === 'string' ? { field: unknown } : {}), issues: error.validation },
        )
      : error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' && request.routeOptions.url?.endsWith('/ingest')
        ? // An ingest body past bodyLimit (room for the base64 of a max-upload-bytes image)
          // carries an image over the limit: the documented 400 image_too_large, not a 413.
          imageTooLarge(maxUploadBytes)
        : toApiError(error);
    if (api.status >= 500) deps.onError?.(error, request.id);
    reply.status(api.status).send(envelopeError(api, request.id));
  });
  app.setNotFoundHandler((request, reply) => {
    reply
      .status(404)
      .send(
        envelopeError(
          new ApiError(404, 'not_found', `No route ${request.method} ${request.url}`),
          request.id,
        ),
      );
  });

  await app.register(multipart, {
    limits: { fileSize: maxUploadBytes, files: 2, fields: 20, fieldSize: 64 * 1024, parts: 24 },
  });
  registerAuth(app, deps.store, deps.rateLimiter);

  const context = { ...deps, origin: deps.settings.publicUrl?.replace(/\/+$/, '') };
  await app.register(healthRoutes, context);
  await app.register(dashboardPageRoute);
  await app.register(
    async (api) => {
      await api.register(healthRoutes, context);
      await api.register(patternRoutes, context);
      await api.register(ingestRoutes, context);
      await api.register(jobRoutes, context);
      await api.register(uploadRoutes, context);
      await api.register(dashboardDataRoute, context);
      await api.register(webhookRoutes, context);
      await api.register(apiKeyRoutes, context);
    },
    { prefix: '/api' },
  );
  return app;
}

export type RouteContext = ApiDeps & { origin: string | undefined };
