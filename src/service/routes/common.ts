/** What the route modules share: ids, paging, the success envelope, public URLs. */
import type { FastifyRequest } from 'fastify';
import type { RouteContext } from '../app.js';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id that cannot exist is simply not found (the database would reject it as a uuid). */
export const isUuid = (id: string) => UUID.test(id);

export function ok<T>(data: T) {
  return { success: true as const, data };
}

/** Where clients reach this API: the configured public URL, else the request's own origin. */
export function originOf(request: FastifyRequest, context: RouteContext): string {
  return context.origin ?? `${request.protocol}://${request.host}`;
}

/** `page` and `per_page` (or the docs' `limit`), ImgGo's defaults and bounds. */
export const pagingQuery = {
  page: { type: 'integer', minimum: 1, default: 1 },
  per_page: { type: 'integer', minimum: 1, maximum: 100 },
  limit: { type: 'integer', minimum: 1, maximum: 100 },
} as const;

export interface PagingQuery {
  page: number;
  per_page?: number;
  limit?: number;
}

export function paging(query: PagingQuery, defaultPerPage: number) {
  const perPage = query.per_page ?? query.limit ?? defaultPerPage;
  return { page: query.page, perPage };
}

export function pagination(page: { page: number; perPage: number }, total: number) {
  return { page: page.page, per_page: page.perPage, total, total_pages: Math.ceil(total / page.perPage) };
}

export const idParams = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 64 } },
  required: ['id'],
} as const;

/** `…/{id}/deliveries/{delivery}/…`: an endpoint's or a job's id and one of its webhook events. */
export const deliveryParams = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 64 }, delivery: { type: 'string', maxLength: 64 } },
  required: ['id', 'delivery'],
} as const;
