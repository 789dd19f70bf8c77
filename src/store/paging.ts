/** Listing pages, newest first, with the total count for ImgGo's `pagination` object. */
import { type Selectable, type SelectQueryBuilder, sql } from 'kysely';
import type { Database } from './schema.js';

export interface PageQuery {
  /** 1-based. */
  page: number;
  perPage: number;
}

type Listed = 'jobs' | 'patterns';

export async function newestFirst<T extends Listed>(
  base: SelectQueryBuilder<Database, T, object>,
  query: PageQuery,
): Promise<{ rows: Array<Selectable<Database[T]>>; total: number }> {
  const [rows, count] = await Promise.all([
    base
      .selectAll()
      .orderBy(sql`created_at desc, id`)
      .limit(query.perPage)
      .offset((query.page - 1) * query.perPage)
      .execute(),
    base.select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow(),
  ]);
  // selectAll() over a generic table is typed column by column; it is the table's row.
  return { rows: rows as unknown as Array<Selectable<Database[T]>>, total: Number(count.n) };
}
