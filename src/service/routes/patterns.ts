/**
 * Patterns: `GET/POST /patterns`, `GET/PATCH/DELETE /patterns/{id}`, `GET
 * /patterns/{id}/versions`, `POST /patterns/{id}/versions/switch`. Bodies take ImgGo's
 * server fields (`format`, `json_schema`, `yaml_schema`…) and its docs' (`output_format`,
 * `schema`); any of the five schema forms `visionpipe run` reads is accepted, and a
 * pattern the pipeline could not run is refused (400 `invalid_schema`).
 */

import type { FastifyInstance } from 'fastify';
import type { PatternFormat } from '../../patterns/types.js';
import { type PatternFields, type PatternSettings, StoreConflictError } from '../../store/index.js';
import { ApiError, notFound } from '../api-error.js';
import type { RouteContext } from '../app.js';
import { apiKeyOf } from '../auth.js';
import { MANAGED_PROFILE, type ModelProfiles, profileSetting } from '../model-profiles.js';
import { patternView, versionView } from '../views.js';
import { acceptWebhookUrl } from '../webhook-url.js';
import {
  idParams,
  isUuid,
  ok,
  originOf,
  type PagingQuery,
  pagination,
  paging,
  pagingQuery,
} from './common.js';

interface PatternBody {
  name?: string;
  format?: PatternFormat;
  output_format?: PatternFormat;
  instructions?: string;
  json_schema?: unknown;
  schema?: unknown;
  yaml_schema?: string | null;
  xml_schema?: string | null;
  csv_schema?: string | null;
  plain_text_schema?: string | null;
  csv_delimiter?: 'comma' | 'semicolon';
  model_profile?: string;
  is_active?: boolean;
  parent_pattern_id?: string | null;
  webhook_url?: string | null;
  publish_new_version?: boolean;
}

const FORMATS = ['json', 'yaml', 'xml', 'csv', 'text'];
const text = { type: ['string', 'null'], maxLength: 20_000 };
const patternBody = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 255 },
    format: { type: 'string', enum: FORMATS },
    output_format: { type: 'string', enum: FORMATS },
    instructions: { type: 'string', maxLength: 20_000 },
    json_schema: { type: ['object', 'string', 'null'] },
    schema: { type: ['object', 'string', 'null'] },
    yaml_schema: text,
    xml_schema: text,
    csv_schema: text,
    plain_text_schema: text,
    csv_delimiter: { type: 'string', enum: ['comma', 'semicolon'] },
    model_profile: { type: 'string', minLength: 1, maxLength: 255 },
    is_active: { type: 'boolean' },
    parent_pattern_id: { type: ['string', 'null'], format: 'uuid' },
    // Not http(s): refused by acceptWebhookUrl as invalid_webhook_url, as docs/service.md says.
    webhook_url: { type: ['string', 'null'], maxLength: 8192 },
    publish_new_version: { type: 'boolean' },
  },
} as const;

/**
 * PATCH: a misspelt field (`colour`) is refused naming it, not answered 200 as if the
 * change were made. POST keeps extra fields (an exported pattern, with its `id` and
 * `version`, is created as it is read).
 */
const updateBody = { ...patternBody, additionalProperties: false } as const;

const OWN_FIELD: Record<PatternFormat, keyof PatternFields> = {
  json: 'json_schema',
  yaml: 'yaml_schema',
  xml: 'xml_schema',
  csv: 'csv_schema',
  text: 'plain_text_schema',
};

function jsonSchemaOf(value: unknown): Record<string, unknown> | null | undefined {
  if (value === undefined || value === null) return value;
  if (typeof value !== 'string') return value as Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(value);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new ApiError(400, 'invalid_schema', 'json_schema must be a JSON object (or JSON text of one)', {
    field: 'json_schema',
  });
}

/**
 * 400 `invalid_schema` when a new pattern's body gives two schema forms at once
 * (`json_schema` and `yaml_schema`…): which one the pattern runs would be a guess.
 */
function refuseSeveralSchemaForms(body: PatternBody): void {
  const given = Object.values(OWN_FIELD).filter((field) => body[field] !== undefined && body[field] !== null);
  if (given.length > 1)
    throw new ApiError(
      400,
      'invalid_schema',
      `give one schema form, not ${given.join(' and ')}: the pattern's format picks one`,
      { fields: given },
    );
}

/** The fields a body sets (undefined: unchanged), with the docs' aliases resolved. */
function changesOf(body: PatternBody, profiles: ModelProfiles | undefined): Partial<PatternFields> {
  const changes: Partial<PatternFields> = {};
  const format = body.format ?? body.output_format;
  if (body.name !== undefined) changes.name = body.name.trim();
  if (format !== undefined) changes.format = format;
  if (body.instructions !== undefined) changes.instructions = body.instructions;
  for (const field of ['yaml_schema', 'xml_schema', 'csv_schema', 'plain_text_schema'] as const) {
    if (body[field] !== undefined) changes[field] = body[field];
  }
  const jsonSchema = jsonSchemaOf(body.json_schema);
  if (jsonSchema !== undefined) changes.json_schema = jsonSchema;
  // The docs' `schema`: an object is a JSON schema (or example); text belongs to the format's own field.
  if (body.schema !== undefined && body.schema !== null) {
    const own =
      typeof body.schema === 'string' && format && format !== 'json' ? OWN_FIELD[format] : 'json_schema';
    if (changes[own] === undefined)
      (changes as Record<string, unknown>)[own] =
        own === 'json_schema' ? jsonSchemaOf(body.schema) : (body.schema as string);
  }
  if (body.csv_delimiter !== undefined) changes.csv_delimiter = body.csv_delimiter;
  if (body.model_profile !== undefined) {
    // managed-default (the server's model) or a configured profile: any other name is
    // refused, naming the allowed ones, rather than silently run on the server's model.
    profileSetting(profiles, body.model_profile);
    changes.model_profile = body.model_profile;
  }
  return changes;
}

function settingsOf(body: PatternBody): PatternSettings {
  return {
    ...(body.is_active === undefined ? {} : { is_active: body.is_active }),
    ...(body.parent_pattern_id === undefined ? {} : { parent_pattern_id: body.parent_pattern_id }),
    ...(body.webhook_url === undefined ? {} : { webhook_url: body.webhook_url }),
  };
}

/** The settings, the webhook URL through the address guard (400 `invalid_webhook_url`). */
async function guardedSettings(body: PatternBody, context: RouteContext): Promise<PatternSettings> {
  const settings = settingsOf(body);
  const url = await acceptWebhookUrl(settings.webhook_url, 'webhook_url', context.settings.allowPrivateUrls);
  return url === undefined ? settings : { ...settings, webhook_url: url };
}

function conflict(error: unknown): never {
  if (error instanceof StoreConflictError)
    throw new ApiError(409, 'pattern_name_taken', error.message, { field: error.field });
  throw error;
}

export async function patternRoutes(app: FastifyInstance, context: RouteContext): Promise<void> {
  const { store } = context;

  app.get<{ Querystring: PagingQuery & { is_active?: 'true' | 'false'; status?: string } }>(
    '/patterns',
    {
      config: { scope: 'patterns:read' },
      schema: {
        querystring: {
          type: 'object',
          properties: {
            ...pagingQuery,
            is_active: { type: 'string', enum: ['true', 'false'] },
            status: { type: 'string', enum: ['active', 'inactive', 'archived', 'draft'] },
          },
        },
      },
    },
    async (request) => {
      const q = request.query;
      const page = paging(q, 20);
      const isActive =
        q.is_active !== undefined ? q.is_active === 'true' : q.status ? q.status === 'active' : undefined;
      const { rows, total } = await store.patterns.list({
        ...page,
        ...(isActive === undefined ? {} : { isActive }),
      });
      const origin = originOf(request, context);
      return ok({ data: rows.map((p) => patternView(p, origin)), pagination: pagination(page, total) });
    },
  );

  app.post<{ Body: PatternBody }>(
    '/patterns',
    {
      config: { scope: 'patterns:write' },
      schema: { body: { ...patternBody, required: ['name', 'instructions'] } },
    },
    async (request, reply) => {
      refuseSeveralSchemaForms(request.body);
      const changes = changesOf(request.body, context.settings.modelProfiles);
      const fields: PatternFields = {
        name: changes.name ?? '',
        format: changes.format ?? 'json',
        instructions: changes.instructions ?? '',
        json_schema: changes.json_schema ?? null,
        yaml_schema: changes.yaml_schema ?? null,
        xml_schema: changes.xml_schema ?? null,
        csv_schema: changes.csv_schema ?? null,
        plain_text_schema: changes.plain_text_schema ?? null,
        csv_delimiter: changes.csv_delimiter ?? 'comma',
        model_profile: changes.model_profile ?? MANAGED_PROFILE,
      };
      const created = await store.patterns
        .create(fields, await guardedSettings(request.body, context), apiKeyOf(request).id)
        .catch(conflict);
      reply.status(201);
      return ok(patternView(created, originOf(request, context)));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/patterns/:id',
    { config: { scope: 'patterns:read' }, schema: { params: idParams } },
    async (request) => {
      const { id } = request.params;
      const pattern = isUuid(id) ? await store.patterns.get(id) : undefined;
      if (!pattern) throw notFound('pattern', id);
      return ok(patternView(pattern, originOf(request, context)));
    },
  );

  app.patch<{ Params: { id: string }; Body: PatternBody }>(
    '/patterns/:id',
    { config: { scope: 'patterns:write' }, schema: { params: idParams, body: updateBody } },
    async (request) => {
      const { id } = request.params;
      const publish = request.body.publish_new_version === true;
      const updated = isUuid(id)
        ? await store.patterns
            .update(
              id,
              changesOf(request.body, context.settings.modelProfiles),
              await guardedSettings(request.body, context),
              publish,
            )
            .catch(conflict)
        : undefined;
      if (!updated) throw notFound('pattern', id);
      return ok({
        ...patternView(updated, originOf(request, context)),
        ...(publish ? { new_version: updated.version } : {}),
      });
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/patterns/:id',
    { config: { scope: 'patterns:delete' }, schema: { params: idParams } },
    async (request) => {
      const { id } = request.params;
      if (!(isUuid(id) && (await store.patterns.delete(id)))) throw notFound('pattern', id);
      return ok({ message: 'Pattern deleted successfully' });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/patterns/:id/versions',
    { config: { scope: 'patterns:read' }, schema: { params: idParams } },
    async (request) => {
      const { id } = request.params;
      const versions = isUuid(id) ? await store.patterns.versions(id) : undefined;
      if (!versions) throw notFound('pattern', id);
      return ok({ versions: versions.map(versionView) });
    },
  );

  app.post<{ Params: { id: string }; Body: { version: number } }>(
    '/patterns/:id/versions/switch',
    {
      config: { scope: 'patterns:write' },
      schema: {
        params: idParams,
        body: {
          type: 'object',
          properties: { version: { type: 'integer', minimum: 1 } },
          required: ['version'],
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const { version } = request.body;
      const switched = isUuid(id) ? await store.patterns.switchVersion(id, version) : undefined;
      if (!switched) throw notFound('pattern', id);
      if (switched === 'no-version')
        throw new ApiError(404, 'version_not_found', `Pattern '${id}' has no version ${version}`);
      return ok({
        pattern: patternView(switched, originOf(request, context)),
        message: `Switched to version ${version}`,
      });
    },
  );
}
