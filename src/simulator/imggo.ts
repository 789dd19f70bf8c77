/**
 * ImgGo's wire format: `POST /api/patterns/{id}/ingest` (multipart field `image`, or
 * JSON `image_url`; `idempotency_key` in the body or the `Idempotency-Key` header — the
 * same key returns the same job), `GET /api/jobs/{id}` moving queued → running →
 * succeeded/failed with the result in `manifest`; Bearer auth; `X-RateLimit-*` on every
 * answer (Reset in unix seconds) and `Retry-After` seconds on 429. Facts: the ImgGo
 * OpenAPI spec and rate-limit docs (docs/providers.md).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { BadImageError, fetchImage, readImage } from './answers.js';
import { type Context, type Core, type Family, type Parsed, type Reply, retryAfterSeconds } from './core.js';
import type { LimitVerdict } from './limits.js';
import type { SimImage } from './types.js';

function errorReply(status: number, code: string, message: string, details?: unknown): Reply {
  return { status, body: { success: false, error: { code, message, ...(details ? { details } : {}) } } };
}

interface Job {
  id: string;
  pattern_id: string;
  image_url: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  manifest: Record<string, unknown> | null;
  error: string | null;
  latency_ms: number | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  completed_at: string | null;
  idempotency_key: string | null;
  requested_by: string | null;
  extras: Record<string, unknown> | null;
}

const jsonIngest = z.object({
  image_url: z.string().url(),
  extras: z.record(z.string(), z.unknown()).optional(),
  idempotency_key: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,255}$/)
    .optional(),
});

const KEY_PATTERN = /^[a-zA-Z0-9_-]{1,255}$/;

export interface ImggoFamily extends Family {
  /** Stored uploads, served at /api/uploads/{id} (what `image_url` of an uploaded job points at). */
  upload(id: string): Buffer | undefined;
}

export function createImggoFamily(core: Core): ImggoFamily {
  const jobs = new Map<string, Job>();
  const byKey = new Map<string, string>();
  const uploads = new Map<string, Buffer>();

  async function run(job: Job, source: { data?: Buffer; url?: string }, instructions: string): Promise<void> {
    const total = core.latencyMs();
    const started = Date.now();
    const touch = () => {
      job.updated_at = new Date().toISOString();
    };
    try {
      await sleep(total * 0.2, undefined, { signal: core.signal });
      job.status = 'running';
      job.started_at = new Date().toISOString();
      touch();
      let image: SimImage;
      try {
        image = source.data ? await readImage(source.data) : await fetchImage(source.url!, core.signal);
      } catch (error) {
        throw new Error(
          error instanceof BadImageError ? `invalid_image_url: ${error.message}` : String(error),
        );
      }
      const schema = core.options.imggoPatterns?.[job.pattern_id]?.schema as
        | Record<string, unknown>
        | undefined;
      const answer = await core.answerer.answer(
        {
          api: 'imggo',
          kind: 'extract',
          model: 'managed-default',
          image,
          ...(source.url ? { imageUrl: source.url } : {}),
          ...(schema ? { schema } : {}),
          prompt: instructions,
          patternId: job.pattern_id,
        },
        core.signal,
      );
      await sleep(Math.max(0, total - (Date.now() - started)), undefined, { signal: core.signal });
      job.manifest =
        typeof answer === 'object' && answer !== null && !Array.isArray(answer)
          ? (answer as Record<string, unknown>)
          : { value: answer };
      job.status = 'succeeded';
    } catch (error) {
      if (core.signal.aborted) return;
      job.status = 'failed';
      job.error = error instanceof Error ? error.message : String(error);
    }
    job.completed_at = new Date().toISOString();
    job.latency_ms = Date.now() - started;
    touch();
  }

  function ingestReply(job: Job): Reply {
    return {
      status: 202,
      body: {
        success: true,
        data: {
          job_id: job.id,
          status: job.status === 'queued' ? 'queued' : job.status,
          message: 'Image queued for processing',
        },
      },
    };
  }

  const family: ImggoFamily = {
    api: 'imggo',

    upload: (id) => uploads.get(id),

    route(method, pathname) {
      if (method === 'POST' && /^\/api\/patterns\/[^/]+\/ingest$/.test(pathname))
        return 'imggo POST /api/patterns/{id}/ingest';
      if (method === 'GET' && /^\/api\/jobs\/[^/]+$/.test(pathname)) return 'imggo GET /api/jobs/{id}';
      return undefined;
    },

    apiKey(req: IncomingMessage) {
      return /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    },

    unauthorized(key) {
      return key === undefined
        ? errorReply(401, 'missing_authorization', 'Authentication required')
        : errorReply(401, 'invalid_api_key', 'Invalid API key');
    },

    error(kind, message) {
      switch (kind) {
        case 'bad-request':
          return errorReply(400, 'invalid_request', message);
        case 'not-found':
          return errorReply(404, 'not_found', message);
        case 'quota':
          return errorReply(429, 'rate_limit_exceeded', 'Monthly request limit exceeded for your plan.');
        case 'overloaded':
          return errorReply(503, 'service_unavailable', 'Service temporarily unavailable');
        default:
          return errorReply(500, 'internal_error', 'Internal server error');
      }
    },

    rateHeaders(verdict: LimitVerdict): Record<string, string> {
      const state = verdict.requests;
      if (!state) return {};
      return {
        'X-RateLimit-Limit': String(state.limit),
        'X-RateLimit-Remaining': String(state.remaining),
        'X-RateLimit-Reset': String(Math.ceil((Date.now() + state.resetMs) / 1000)),
      };
    },

    rateLimited(verdict) {
      const wait = verdict.retryAfterMs ?? 0;
      const seconds = retryAfterSeconds(wait);
      const reply = errorReply(
        429,
        'rate_limit_exceeded',
        `Rate limit exceeded. Retry after ${seconds} seconds.`,
        {
          limit: verdict.requests?.limit ?? 0,
          remaining: verdict.requests?.remaining ?? 0,
          reset_at: new Date(Date.now() + (verdict.requests?.resetMs ?? wait)).toISOString(),
        },
      );
      reply.headers = { 'Retry-After': seconds };
      return reply;
    },

    async parse(ctx: Context): Promise<Parsed | Reply> {
      const pathname = ctx.url.pathname;
      const jobMatch = /^\/api\/jobs\/([^/]+)$/.exec(pathname);
      if (jobMatch) {
        const job = jobs.get(decodeURIComponent(jobMatch[1]!));
        if (!job) return errorReply(404, 'job_not_found', 'Job not found');
        return {
          inputTokens: 0,
          imageTokens: 0,
          reply: () => ({ status: 200, body: { success: true, data: { ...job } } }),
        };
      }
      const patternId = decodeURIComponent(/^\/api\/patterns\/([^/]+)\/ingest$/.exec(pathname)![1]!);
      const patterns = core.options.imggoPatterns;
      if (patterns !== undefined && !Object.hasOwn(patterns, patternId))
        return errorReply(404, 'pattern_not_found', 'Pattern not found');
      let source: { data?: Buffer; url?: string };
      let bodyKey: string | undefined;
      let extras: Record<string, unknown> | null = null;
      if (ctx.form !== undefined) {
        const image = ctx.form.image;
        if (image === undefined || typeof image === 'string')
          return errorReply(400, 'missing_field', 'image is required (multipart file field "image")');
        source = { data: image.data };
        const key = ctx.form.idempotency_key;
        bodyKey = typeof key === 'string' ? key : undefined;
      } else {
        const parsed = jsonIngest.safeParse(ctx.json);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          return errorReply(
            400,
            issue?.path[0] === 'image_url' ? 'missing_field' : 'invalid_request',
            `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'Invalid request body'}`,
          );
        }
        source = { url: parsed.data.image_url };
        bodyKey = parsed.data.idempotency_key;
        extras = parsed.data.extras ?? null;
      }
      const headerKey = ctx.req.headers['idempotency-key'];
      const key = bodyKey ?? (typeof headerKey === 'string' ? headerKey : undefined);
      if (key !== undefined && !KEY_PATTERN.test(key))
        return errorReply(400, 'invalid_request', 'idempotency_key must match ^[a-zA-Z0-9_-]{1,255}$');
      return {
        inputTokens: 0,
        imageTokens: 0,
        reply() {
          const scope = key === undefined ? undefined : `${ctx.apiKey}:${patternId}:${key}`;
          const existing = scope === undefined ? undefined : jobs.get(byKey.get(scope) ?? '');
          if (existing) return ingestReply(existing);
          const id = randomUUID();
          if (source.data) uploads.set(id, source.data);
          const now = new Date().toISOString();
          const job: Job = {
            id,
            pattern_id: patternId,
            image_url: source.url ?? `${core.url}/api/uploads/${id}`,
            status: 'queued',
            manifest: null,
            error: null,
            latency_ms: null,
            created_at: now,
            updated_at: now,
            started_at: null,
            completed_at: null,
            idempotency_key: key ?? null,
            requested_by: null,
            extras,
          };
          jobs.set(id, job);
          if (scope !== undefined) byKey.set(scope, id);
          core.stats.jobsCreated++;
          void run(job, source, core.options.imggoPatterns?.[patternId]?.instructions ?? '');
          return ingestReply(job);
        },
      };
    },
  };
  return family;
}
