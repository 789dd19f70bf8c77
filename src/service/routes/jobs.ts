/**
 * Jobs: `GET /jobs/{id}` (status, manifest, and what it cost) and `GET
 * /jobs?pattern_id&status&page&per_page`. `?format=yaml|xml|csv|text` renders a
 * succeeded job's manifest in that format with the pattern version's renderer, with
 * `X-Job-Id`, `X-Job-Status` and `X-Pattern-Id` headers (ImgGo's server does the same), which
 * the JSON answer (the job in its envelope) carries too.
 * Status filters accept the clients' words too: `processing` is running, `completed` is
 * succeeded. `GET /jobs/{id}/deliveries` is the job's webhook delivery log and `POST
 * /jobs/{id}/deliveries/{delivery}/replay` (scope `webhooks:write`) sends one of its
 * events again, whatever it went to: the only replay for an ingest's or a pattern's own
 * `webhook_url`, which has no registered endpoint.
 */

import type { FastifyInstance } from 'fastify';
import { renderAs } from '../../patterns/index.js';
import type { PatternFormat } from '../../patterns/types.js';
import type { JobStatus } from '../../store/index.js';
import { replayDelivery } from '../../webhooks/replay.js';
import { notFound } from '../api-error.js';
import type { RouteContext } from '../app.js';
import { deliveryLogView, deliveryView } from '../delivery-view.js';
import { jobView } from '../views.js';
import {
  deliveryParams,
  idParams,
  isUuid,
  ok,
  type PagingQuery,
  pagination,
  paging,
  pagingQuery,
} from './common.js';

const CONTENT_TYPES: Record<PatternFormat, string> = {
  json: 'application/json; charset=utf-8',
  yaml: 'application/x-yaml; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  text: 'text/plain; charset=utf-8',
};

const STATUS_ALIASES: Record<string, JobStatus> = {
  queued: 'queued',
  running: 'running',
  processing: 'running',
  succeeded: 'succeeded',
  completed: 'succeeded',
  failed: 'failed',
};

export async function jobRoutes(app: FastifyInstance, context: RouteContext): Promise<void> {
  const { store, settings } = context;

  app.get<{ Params: { id: string }; Querystring: { format?: PatternFormat } }>(
    '/jobs/:id',
    {
      config: { scope: 'jobs:read' },
      schema: {
        params: idParams,
        querystring: {
          type: 'object',
          properties: { format: { type: 'string', enum: Object.keys(CONTENT_TYPES) } },
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const job = isUuid(id) ? await store.jobs.get(id) : undefined;
      if (!job) throw notFound('job', id);
      const format = request.query.format ?? 'json';
      // On every answer, the job itself too: a client reading headers only need not parse the body.
      reply.headers({ 'x-job-id': job.id, 'x-job-status': job.status, 'x-pattern-id': job.pattern_id });
      if (format === 'json' || job.status !== 'succeeded' || job.manifest === null) return ok(jobView(job));
      const pattern = await store.patterns.compiled(job.pattern_id, job.pattern_version);
      if (!pattern) throw notFound('pattern', job.pattern_id);
      reply.header('content-type', CONTENT_TYPES[format]);
      return renderAs(format, pattern, job.manifest);
    },
  );

  // The job's webhook events with every attempt: the delivery log of an ingest's or its
  // pattern's own webhook_url (registered endpoints also have /webhooks/{id}/deliveries).
  app.get<{ Params: { id: string } }>(
    '/jobs/:id/deliveries',
    { config: { scope: 'jobs:read' }, schema: { params: idParams } },
    async (request) => {
      const { id } = request.params;
      const job = isUuid(id) ? await store.jobs.get(id) : undefined;
      if (!job) throw notFound('job', id);
      return ok(deliveryLogView(await store.webhooks.jobDeliveries(job.id)));
    },
  );

  // Replays one of the job's events now, same webhook-id, fresh schedule (webhooks/replay.ts).
  app.post<{ Params: { id: string; delivery: string } }>(
    '/jobs/:id/deliveries/:delivery/replay',
    { config: { scope: 'webhooks:write' }, schema: { params: deliveryParams } },
    async (request, reply) => {
      const { id, delivery } = request.params;
      const job = isUuid(id) ? await store.jobs.get(id) : undefined;
      if (!job) throw notFound('job', id);
      const replayed = await replayDelivery(store, { jobId: job.id }, delivery, settings.allowPrivateUrls);
      reply.status(202);
      return ok(deliveryView(replayed));
    },
  );

  app.get<{ Querystring: PagingQuery & { pattern_id?: string; status?: string } }>(
    '/jobs',
    {
      config: { scope: 'jobs:read' },
      schema: {
        querystring: {
          type: 'object',
          properties: {
            ...pagingQuery,
            pattern_id: { type: 'string', format: 'uuid' },
            status: { type: 'string', enum: Object.keys(STATUS_ALIASES) },
          },
        },
      },
    },
    async (request) => {
      const q = request.query;
      const page = paging(q, 15);
      const status = q.status ? STATUS_ALIASES[q.status] : undefined;
      const { rows, total } = await store.jobs.list({
        ...page,
        ...(q.pattern_id ? { patternId: q.pattern_id } : {}),
        ...(status ? { status } : {}),
      });
      return ok({ data: rows.map(jobView), pagination: pagination(page, total) });
    },
  );
}
