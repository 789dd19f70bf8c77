/**
 * Webhook endpoints, ImgGo's routes plus the delivery log and replay:
 *
 * - `POST /webhooks` `{url, events?, secret?}` → 201 with the endpoint and its secret
 *   (generated `whsec_…` when none is given; ImgGo asks for at least 16 characters;
 *   a `whsec_` one must be base64 of a 24-64 byte key, as Standard Webhooks asks);
 *   `events` default to `job.succeeded` and `job.failed` (`job.completed` is taken as
 *   `job.succeeded`). The URL passes the address guard (400 `invalid_webhook_url`).
 * - `GET /webhooks`, `GET /webhooks/{id}`: endpoints, the secret shown as its last 4
 *   characters; `DELETE /webhooks/{id}`: gone, its undelivered events dropped.
 * - `GET /webhooks/{id}/deliveries`: its events, newest first, each with every attempt
 *   (status code, duration, the start of the answer or the error).
 * - `POST /webhooks/{id}/deliveries/{delivery}/replay`: sends that event again now,
 *   with the same `webhook-id` (202); 409 `webhook_disabled` for a disabled endpoint;
 *   the URL passes the address guard again (webhooks/replay.ts).
 */

import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { WebhookEndpointRow } from '../../store/index.js';
import { eventNamed, WEBHOOK_EVENTS, type WebhookEvent } from '../../webhooks/events.js';
import { replayDelivery } from '../../webhooks/replay.js';
import { generateSecret, whsecProblem } from '../../webhooks/signing.js';
import { ApiError } from '../api-error.js';
import type { RouteContext } from '../app.js';
import { apiKeyOf } from '../auth.js';
import { deliveryLogView, deliveryView } from '../delivery-view.js';
import { acceptWebhookUrl } from '../webhook-url.js';
import { deliveryParams, idParams, isUuid, ok } from './common.js';

const NO_OWNER = '00000000-0000-0000-0000-000000000000';
const iso = (date: Date | null) => (date ? date.toISOString() : null);

const createBody = {
  type: 'object',
  required: ['url'],
  properties: {
    url: { type: 'string', minLength: 1, maxLength: 2048 },
    events: { type: 'array', minItems: 1, maxItems: 10, items: { type: 'string', maxLength: 64 } },
    secret: { type: 'string', minLength: 16, maxLength: 256, pattern: '^[\\x21-\\x7e]+$' },
  },
} as const;

function endpointView(e: WebhookEndpointRow, showSecret: boolean) {
  return {
    id: e.id,
    user_id: e.created_by ?? NO_OWNER,
    url: e.url,
    events: e.events,
    secret: showSecret ? e.secret : `…${e.secret.slice(-4)}`,
    is_active: e.is_active,
    created_at: iso(e.created_at),
    updated_at: iso(e.updated_at),
    last_triggered_at: iso(e.last_triggered_at),
    disabled_at: iso(e.disabled_at),
    disabled_reason: e.disabled_reason,
  };
}

const webhookNotFound = (id: string) =>
  new ApiError(404, 'webhook_not_found', `Webhook '${id}' does not exist`);

export async function webhookRoutes(app: FastifyInstance, context: RouteContext): Promise<void> {
  const { store, settings } = context;

  async function endpointOr404(id: string): Promise<WebhookEndpointRow> {
    const endpoint = isUuid(id) ? await store.webhooks.endpoint(id) : undefined;
    if (!endpoint) throw webhookNotFound(id);
    return endpoint;
  }

  app.post<{ Body: { url: string; events?: string[]; secret?: string } }>(
    '/webhooks',
    { config: { scope: 'webhooks:write' }, schema: { body: createBody } },
    async (request, reply) => {
      const { body } = request;
      const url = await acceptWebhookUrl(body.url, 'url', settings.allowPrivateUrls);
      const problem = body.secret === undefined ? undefined : whsecProblem(body.secret);
      if (problem) throw new ApiError(400, 'validation_error', `secret: ${problem}`, { field: 'secret' });
      const events = new Set<WebhookEvent>();
      for (const name of body.events ?? WEBHOOK_EVENTS) {
        const event = eventNamed(name);
        if (!event)
          throw new ApiError(
            400,
            'validation_error',
            `events: "${name}" is not an event; use ${WEBHOOK_EVENTS.join(', ')}`,
            {
              field: 'events',
            },
          );
        events.add(event);
      }
      const endpoint = await store.webhooks.createEndpoint({
        id: randomUUID(),
        url,
        secret: body.secret ?? generateSecret(),
        events: [...events],
        createdBy: apiKeyOf(request).id,
      });
      reply.status(201);
      return ok(endpointView(endpoint, true));
    },
  );

  app.get('/webhooks', { config: { scope: 'webhooks:read' } }, async () =>
    ok((await store.webhooks.listEndpoints()).map((e) => endpointView(e, false))),
  );

  app.get<{ Params: { id: string } }>(
    '/webhooks/:id',
    { config: { scope: 'webhooks:read' }, schema: { params: idParams } },
    async (request) => ok(endpointView(await endpointOr404(request.params.id), false)),
  );

  app.delete<{ Params: { id: string } }>(
    '/webhooks/:id',
    { config: { scope: 'webhooks:delete' }, schema: { params: idParams } },
    async (request) => {
      const { id } = request.params;
      if (!isUuid(id) || !(await store.webhooks.deleteEndpoint(id))) throw webhookNotFound(id);
      return ok({ message: `Webhook ${id} deleted` });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/webhooks/:id/deliveries',
    { config: { scope: 'webhooks:read' }, schema: { params: idParams } },
    async (request) => {
      const endpoint = await endpointOr404(request.params.id);
      const events = await store.webhooks.deliveries(endpoint.id);
      return ok(deliveryLogView(events));
    },
  );

  app.post<{ Params: { id: string; delivery: string } }>(
    '/webhooks/:id/deliveries/:delivery/replay',
    { config: { scope: 'webhooks:write' }, schema: { params: deliveryParams } },
    async (request, reply) => {
      const endpoint = await endpointOr404(request.params.id);
      const replayed = await replayDelivery(
        store,
        { endpointId: endpoint.id },
        request.params.delivery,
        settings.allowPrivateUrls,
      );
      reply.status(202);
      return ok(deliveryView(replayed));
    },
  );
}
