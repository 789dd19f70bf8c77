/**
 * A `json_schema` that is meant as a JSON Schema but names no JSON Schema type:
 * `{"type": "banana"}` would otherwise be read as an example object with one text field
 * named `type`, and the pattern would extract the wrong thing without a word.
 *
 * It is a look-alike when `type` is a string that is neither a JSON Schema type
 * (`string`, `object`…) nor one of the example objects' type words (`date`, `email`…,
 * type-names.ts), and every other key is a JSON Schema keyword (`description`,
 * `enum`…). One example-like key (`{"type": "sedan", "color": "red"}`) makes it an
 * example object, as before.
 */
import { JSON_TYPES } from './normalize-json-schema.js';
import { unenforcedKeywords } from './schema-keywords.js';
import { readTypeName } from './type-names.js';

/** The bad `type` value when `value` is a JSON Schema look-alike with no valid type, else undefined. */
export function invalidSchemaType(value: Record<string, unknown>): string | undefined {
  const { type } = value;
  if (typeof type !== 'string' || JSON_TYPES.has(type) || readTypeName(type)) return undefined;
  const exampleLike = unenforcedKeywords(value);
  return exampleLike.length === 0 ? type : undefined;
}
