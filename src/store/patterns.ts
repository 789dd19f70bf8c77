/**
 * Patterns and their versions, as ImgGo keeps them: a pattern row holds the version in
 * force; `pattern_versions` keeps a snapshot of every published version, so a version
 * can be switched back to and jobs always run against the exact version they were
 * ingested under. Every write compiles the pattern with the library's parser first: a
 * pattern the pipeline could not run is never stored.
 */
import { randomUUID } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import { parsePattern } from '../patterns/index.js';
import type { Pattern, PatternFormat } from '../patterns/types.js';
import { newestFirst, type PageQuery } from './paging.js';
import type { Database, PatternRow, PatternSnapshotRow, PatternVersionRow } from './schema.js';

/** What one version of a pattern is made of. */
export interface PatternFields {
  name: string;
  format: PatternFormat;
  instructions: string;
  json_schema: Record<string, unknown> | null;
  yaml_schema: string | null;
  xml_schema: string | null;
  csv_schema: string | null;
  csv_delimiter: 'comma' | 'semicolon';
  plain_text_schema: string | null;
  model_profile: string;
}

export interface StoredPattern extends PatternFields {
  id: string;
  version: number;
  is_active: boolean;
  parent_pattern_id: string | null;
  webhook_url: string | null;
  fingerprint: string;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface PatternVersion extends PatternFields {
  version: number;
  fingerprint: string;
  created_at: Date;
}

export interface PatternSettings {
  is_active?: boolean;
  parent_pattern_id?: string | null;
  webhook_url?: string | null;
}

/** Thrown when a write would break a uniqueness rule (a live pattern name). */
export class StoreConflictError extends Error {
  override readonly name = 'StoreConflictError';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

const SCHEMA_KEYS = ['json_schema', 'yaml_schema', 'xml_schema', 'csv_schema', 'plain_text_schema'] as const;

/**
 * The library Pattern of these fields at this version. Throws INVALID_PATTERN (naming
 * the field and the problem) when the pipeline could not run it.
 */
export function compilePattern(fields: PatternFields, version: number, origin: string): Pattern {
  const source: Record<string, unknown> = {
    name: fields.name,
    instructions: fields.instructions,
    format: fields.format,
    version,
    csv_delimiter: fields.csv_delimiter,
  };
  for (const key of SCHEMA_KEYS) if (fields[key] !== null) source[key] = fields[key];
  return parsePattern(source, origin);
}

function fieldsOf(row: PatternRow | PatternVersionRow | PatternSnapshotRow, name: string): PatternFields {
  return {
    name,
    format: row.format as PatternFormat,
    instructions: row.instructions,
    json_schema: row.json_schema,
    yaml_schema: row.yaml_schema,
    xml_schema: row.xml_schema,
    csv_schema: row.csv_schema,
    csv_delimiter: row.csv_delimiter === 'semicolon' ? 'semicolon' : 'comma',
    plain_text_schema: row.plain_text_schema,
    model_profile: row.model_profile,
  };
}

function stored(row: PatternRow): StoredPattern {
  return {
    ...fieldsOf(row, row.name),
    id: row.id,
    version: row.version,
    is_active: row.is_active,
    parent_pattern_id: row.parent_pattern_id,
    webhook_url: row.webhook_url,
    fingerprint: row.fingerprint,
    created_by: row.created_by,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** Column values of the schema fields (jsonb goes as text). */
function columns(fields: PatternFields, fingerprint: string) {
  return {
    format: fields.format,
    instructions: fields.instructions,
    json_schema: fields.json_schema === null ? null : JSON.stringify(fields.json_schema),
    yaml_schema: fields.yaml_schema,
    xml_schema: fields.xml_schema,
    csv_schema: fields.csv_schema,
    csv_delimiter: fields.csv_delimiter,
    plain_text_schema: fields.plain_text_schema,
    model_profile: fields.model_profile,
    fingerprint,
  };
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown })?.code === '23505';
}

export class Patterns {
  constructor(private readonly db: Kysely<Database>) {}

  /** Creates a pattern at version 1. Throws INVALID_PATTERN or StoreConflictError (name taken). */
  async create(
    fields: PatternFields,
    settings: PatternSettings = {},
    createdBy: string | null = null,
  ): Promise<StoredPattern> {
    const id = randomUUID();
    const pattern = compilePattern(fields, 1, `pattern "${fields.name}"`);
    return this.unique(fields.name, () =>
      this.db.transaction().execute(async (tx) => {
        const row = await tx
          .insertInto('patterns')
          .values({
            id,
            name: fields.name,
            ...columns(fields, pattern.fingerprint),
            version: 1,
            is_active: settings.is_active ?? true,
            parent_pattern_id: settings.parent_pattern_id ?? null,
            webhook_url: settings.webhook_url ?? null,
            created_by: createdBy,
            deleted_at: null,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await this.snapshot(tx, id, 1, fields, pattern.fingerprint);
        return stored(row);
      }),
    );
  }

  /** A live (not deleted) pattern. */
  async get(id: string): Promise<StoredPattern | undefined> {
    const row = await this.db
      .selectFrom('patterns')
      .selectAll()
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return row ? stored(row) : undefined;
  }

  async list(query: PageQuery & { isActive?: boolean }): Promise<{ rows: StoredPattern[]; total: number }> {
    let base = this.db.selectFrom('patterns').where('deleted_at', 'is', null);
    if (query.isActive !== undefined) base = base.where('is_active', '=', query.isActive);
    const { rows, total } = await newestFirst(base, query);
    return { rows: rows.map(stored), total };
  }

  /**
   * Changes a pattern. With `publishNewVersion` the changed fields become a new version
   * (the highest so far + 1); otherwise the version in force is edited in place. Returns
   * undefined when there is no such live pattern.
   */
  async update(
    id: string,
    changes: Partial<PatternFields>,
    settings: PatternSettings,
    publishNewVersion: boolean,
  ): Promise<StoredPattern | undefined> {
    return this.db.transaction().execute(async (tx) => {
      const current = await tx
        .selectFrom('patterns')
        .selectAll()
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .forUpdate()
        .executeTakeFirst();
      if (!current) return undefined;
      const fields: PatternFields = { ...fieldsOf(current, current.name), ...changes };
      let version = current.version;
      if (publishNewVersion) {
        const top = await tx
          .selectFrom('pattern_versions')
          .select(sql<number>`max(version)`.as('v'))
          .where('pattern_id', '=', id)
          .executeTakeFirstOrThrow();
        version = Number(top.v ?? current.version) + 1;
      }
      const pattern = compilePattern(fields, version, `pattern ${id}`);
      const row = await this.unique(fields.name, () =>
        tx
          .updateTable('patterns')
          .set({
            name: fields.name,
            ...columns(fields, pattern.fingerprint),
            version,
            ...settings,
            updated_at: new Date(),
          })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow(),
      );
      await this.snapshot(tx, id, version, fields, pattern.fingerprint);
      return stored(row);
    });
  }

  /** Every version of a live pattern, newest first; undefined when there is no such pattern. */
  async versions(id: string): Promise<PatternVersion[] | undefined> {
    if (!(await this.get(id))) return undefined;
    const rows = await this.db
      .selectFrom('pattern_versions')
      .selectAll()
      .where('pattern_id', '=', id)
      .orderBy('version', 'desc')
      .execute();
    return rows.map((row) => ({
      ...fieldsOf(row, row.name),
      version: row.version,
      fingerprint: row.fingerprint,
      created_at: row.created_at,
    }));
  }

  /**
   * Puts an earlier (or later) version back in force. Returns the pattern, `no-version`
   * when the pattern has no such version, or undefined when there is no such pattern.
   */
  async switchVersion(id: string, version: number): Promise<StoredPattern | 'no-version' | undefined> {
    return this.db.transaction().execute(async (tx) => {
      const current = await tx
        .selectFrom('patterns')
        .select('id')
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .forUpdate()
        .executeTakeFirst();
      if (!current) return undefined;
      const target = await tx
        .selectFrom('pattern_versions')
        .selectAll()
        .where('pattern_id', '=', id)
        .where('version', '=', version)
        .executeTakeFirst();
      if (!target) return 'no-version';
      const fields = fieldsOf(target, target.name);
      const row = await this.unique(fields.name, () =>
        tx
          .updateTable('patterns')
          .set({ name: fields.name, ...columns(fields, target.fingerprint), version, updated_at: new Date() })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow(),
      );
      return stored(row);
    });
  }

  /** Soft delete: the pattern disappears from the API; its jobs and versions stay readable. */
  async delete(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('patterns')
      .set({ deleted_at: new Date(), updated_at: new Date() })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** One version of a pattern (deleted or not: a job accepted before a delete still runs) as a library Pattern. */
  async compiled(id: string, version: number): Promise<Pattern | undefined> {
    const row = await this.db
      .selectFrom('pattern_versions')
      .selectAll()
      .where('pattern_id', '=', id)
      .where('version', '=', version)
      .executeTakeFirst();
    return row ? compilePattern(fieldsOf(row, row.name), version, `pattern ${id} v${version}`) : undefined;
  }

  /**
   * The pattern content a job was accepted with, by its fingerprint (deleted patterns
   * included), as a library Pattern; undefined when no such snapshot exists.
   */
  async snapshotted(id: string, fingerprint: string): Promise<Pattern | undefined> {
    const row = await this.db
      .selectFrom('pattern_snapshots')
      .selectAll()
      .where('pattern_id', '=', id)
      .where('fingerprint', '=', fingerprint)
      .executeTakeFirst();
    return row
      ? compilePattern(fieldsOf(row, row.name), row.version, `pattern ${id} v${row.version}`)
      : undefined;
  }

  private async snapshot(
    tx: Transaction<Database>,
    id: string,
    version: number,
    fields: PatternFields,
    fingerprint: string,
  ): Promise<void> {
    const values = { name: fields.name, ...columns(fields, fingerprint) };
    await tx
      .insertInto('pattern_versions')
      .values({ pattern_id: id, version, ...values })
      .onConflict((oc) => oc.columns(['pattern_id', 'version']).doUpdateSet(values))
      .execute();
    // The content itself, kept as it is for jobs accepted before a later in-place edit.
    await tx
      .insertInto('pattern_snapshots')
      .values({ pattern_id: id, version, ...values })
      .onConflict((oc) => oc.columns(['pattern_id', 'fingerprint']).doNothing())
      .execute();
  }

  private async unique<T>(name: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (isUniqueViolation(error))
        throw new StoreConflictError(`a pattern named "${name}" already exists`, 'name');
      throw error;
    }
  }
}
