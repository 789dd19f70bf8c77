/**
 * `POST /patterns/{id}/ingest`: an image in (see ingest-input.ts for every accepted
 * form), a job out: 202 `{job_id, status: "queued"}` for new work. The same image and
 * pattern version already done → 200 with the finished job (no provider call); the same
 * idempotency key again → 200 with that job; the same key with another image → 422.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { settingKey } from '../../queue/provider-setting.js';
import { workKeyOf } from '../../queue/work-key.js';
import { ApiError, notFound } from '../api-error.js';
import type { RouteContext } from '../app.js';
import { apiKeyOf } from '../auth.js';
import { within } from '../deadline.js';
import { readIngest } from '../ingest-input.js';
import { profileSetting } from '../model-profiles.js';
import { ingestView } from '../views.js';
import { acceptWebhookUrl } from '../webhook-url.js';
import { idParams, isUuid, ok, originOf } from './common.js';

/** How long an ingest waits for Redis to take the queue job before answering 503. */
const QUEUE_DEADLINE_MS = 5000;

const jsonIngest = {
  type: ['object', 'null'],
  properties: {
    image_url: { type: 'string', maxLength: 8192 },
    image_base64: { type: 'string' },
    idempotency_key: { type: 'string', maxLength: 255 },
    extras: { type: ['object', 'null'] },
    metadata: { type: ['object', 'null'] },
    webhook_url: { type: ['string', 'null'], maxLength: 8192 },
  },
} as const;

export async function ingestRoutes(app: FastifyInstance, context: RouteContext): Promise<void> {
  const { store, queue, settings } = context;

  app.post<{ Params: { id: string } }>(
    '/patterns/:id/ingest',
    {
      config: { scope: 'patterns:ingest' },
      schema: { params: idParams, body: jsonIngest },
      // A multipart body is read as a stream by the handler: there is no JSON body to validate.
      preValidation: async (request) => {
        if (request.isMultipart()) request.body = null;
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const pattern = isUuid(id) ? await store.patterns.get(id) : undefined;
      if (!pattern) throw notFound('pattern', id);
      if (!pattern.is_active) throw new ApiError(400, 'pattern_inactive', `Pattern '${id}' is not active`);
      const input = await readIngest(request, {
        maxBytes: settings.maxUploadBytes,
        allowPrivateUrls: settings.allowPrivateUrls,
        fetchTimeoutMs: settings.fetchTimeoutMs ?? 30_000,
        ...(settings.maxPages === undefined ? {} : { maxPages: settings.maxPages }),
      });
      const { image } = input;
      const webhookUrl = await acceptWebhookUrl(input.webhookUrl, 'webhook_url', settings.allowPrivateUrls);
      await store.images.put(image.sha256, image.bytes, image.mediaType);
      // A named model profile: its provider setting travels in the job and is part of the work.
      const setting = profileSetting(settings.modelProfiles, pattern.model_profile);
      const workKey = workKeyOf(
        image.sha256,
        pattern.id,
        pattern.fingerprint,
        setting ? settingKey(setting) : undefined,
      );
      const outcome = await store.jobs.ingest({
        id: randomUUID(),
        patternId: pattern.id,
        patternVersion: pattern.version,
        patternFingerprint: pattern.fingerprint,
        workKey,
        imageSha256: image.sha256,
        imageUrl: image.url ?? `${originOf(request, context)}/api/uploads/${image.sha256}`,
        idempotencyKey: input.idempotencyKey,
        requestedBy: apiKeyOf(request).id,
        extras: input.extras,
        webhookUrl,
        queuePrefix: queue.prefix,
        ...(setting ? { work: { provider: setting, model_profile: pattern.model_profile } } : {}),
      });
      if (outcome.kind === 'key-reused') {
        throw new ApiError(
          422,
          'idempotency_key_reused',
          'This idempotency key was used for another image or pattern version',
          { job_id: outcome.job.id },
        );
      }
      if (outcome.kind === 'queued') {
        // A queue job for this work may already wait or run: then this job joins it.
        try {
          const queued = queue.add({
            workKey,
            leaderJobId: outcome.job.id,
            patternId: pattern.id,
            patternVersion: pattern.version,
            patternFingerprint: pattern.fingerprint,
            imageSha256: image.sha256,
            label: image.label,
            ...(setting ? { provider: setting } : {}),
          });
          await within(queued, QUEUE_DEADLINE_MS, 'the queue');
        } catch (error) {
          // Not queued, not accepted: the job goes, so a retry (same idempotency key) starts afresh.
          await store.jobs.discard(outcome.job.id);
          throw new ApiError(503, 'service_unavailable', 'The queue is not reachable; retry later', {
            reason: error instanceof Error ? error.message : String(error),
          });
        }
        reply.status(202);
      }
      return ok(ingestView(outcome.job));
    },
  );
}
