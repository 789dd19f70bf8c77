/**
 * Uploaded and fetched images, by content: the API stores the bytes once (duplicates
 * are free), workers on any machine read them back by sha256.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export class Images {
  constructor(private readonly db: Kysely<Database>) {}

  /** Stores the bytes unless the same content is already there. */
  async put(sha256: string, bytes: Buffer, mediaType: string): Promise<void> {
    await this.db
      .insertInto('images')
      .values({ sha256, bytes, media_type: mediaType, size: bytes.length })
      .onConflict((oc) => oc.column('sha256').doNothing())
      .execute();
  }

  async get(sha256: string): Promise<{ bytes: Buffer; mediaType: string } | undefined> {
    const row = await this.db
      .selectFrom('images')
      .select(['bytes', 'media_type'])
      .where('sha256', '=', sha256)
      .executeTakeFirst();
    return row ? { bytes: row.bytes, mediaType: row.media_type } : undefined;
  }
}
