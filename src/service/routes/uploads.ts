/** `GET /uploads/{sha256}`: an uploaded image, where a job's `image_url` points for uploads. */
import type { FastifyInstance } from 'fastify';
import { notFound } from '../api-error.js';
import type { RouteContext } from '../app.js';

export async function uploadRoutes(app: FastifyInstance, context: RouteContext): Promise<void> {
  app.get<{ Params: { sha256: string } }>(
    '/uploads/:sha256',
    {
      config: { scope: 'jobs:read' },
      schema: {
        params: { type: 'object', properties: { sha256: { type: 'string' } }, required: ['sha256'] },
      },
    },
    async (request, reply) => {
      const { sha256 } = request.params;
      const image = /^[0-9a-f]{64}$/.test(sha256) ? await context.store.images.get(sha256) : undefined;
      if (!image) throw notFound('image', sha256);
      reply
        .header('content-type', image.mediaType)
        .header('cache-control', 'private, max-age=31536000, immutable');
      return image.bytes;
    },
  );
}
