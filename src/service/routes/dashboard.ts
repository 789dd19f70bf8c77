/**
 * The live dashboard: `GET /dashboard` (the page, public: it holds no data) and
 * `GET /api/dashboard` (the figures, for a key with `jobs:read`). See service/dashboard.
 */
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../app.js';
import { dashboardData } from '../dashboard/data.js';
import { dashboardPage } from '../dashboard/page.js';
import { ok } from './common.js';

let page: string | undefined;

/** `GET /dashboard`: registered at the root. */
export async function dashboardPageRoute(app: FastifyInstance): Promise<void> {
  app.get('/dashboard', async (_request, reply) => {
    page ??= dashboardPage();
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page);
  });
}

/** `GET /dashboard` under /api: the figures. */
export async function dashboardDataRoute(app: FastifyInstance, context: RouteContext): Promise<void> {
  app.get('/dashboard', { config: { scope: 'jobs:read' } }, async () =>
    ok(await dashboardData(context.store, context.queue)),
  );
}
