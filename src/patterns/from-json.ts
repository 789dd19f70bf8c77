/**
 * `json_schema`: a real JSON Schema (normalised) or an ImgGo example object (inferred).
 * A YAML pattern file may also carry it as JSON text; that text is parsed first.
 */
import { checkSourceBudget } from './budget.js';
import { inferRootSchema } from './infer-schema.js';
import { invalidPattern } from './invalid.js';
import {
  JSON_TYPES,
  looksLikeJsonSchema,
  type NormalizedSchema,
  normalizeJsonSchema,
} from './normalize-json-schema.js';
import { describeValue, isPlainObject } from './objects.js';
import { invalidSchemaType } from './schema-type-lookalike.js';

export function schemaFromJson(value: Record<string, unknown> | string, origin: string): NormalizedSchema {
  let object: unknown = value;
  if (typeof value === 'string') {
    try {
      object = JSON.parse(value);
    } catch (error) {
      throw invalidPattern(origin, `json_schema is not valid JSON: ${(error as Error).message}`, error);
    }
  }
  if (typeof value === 'string') checkSourceBudget(object, origin);
  if (!isPlainObject(object))
    throw invalidPattern(
      origin,
      `json_schema must be an object (a JSON Schema or an example object) (got ${describeValue(object)})`,
    );
  const badType = invalidSchemaType(object);
  if (badType !== undefined)
    throw invalidPattern(
      origin,
      `json_schema looks like a JSON Schema but its "type" ${JSON.stringify(badType)} is not one of ${[...JSON_TYPES].join(', ')}; an example object needs at least one field that is not a JSON Schema keyword`,
    );
  return looksLikeJsonSchema(object)
    ? normalizeJsonSchema(object, origin)
    : { schema: inferRootSchema(object, { origin, field: 'json_schema' }), requiredFields: [], warnings: [] };
}
