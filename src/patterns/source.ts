/**
 * The structure of a pattern file, validated with zod at the edge. Messages name the
 * file, the field and the bad value: `patterns/x.yaml: "format" must be one of json,
 * yaml, xml, csv, text (got "pdf")`. ImgGo exports carry more fields (`metadata`,
 * `webhook_url`, ids): unknown fields are ignored. Schema fields that are null or blank
 * count as absent, since exports often list every schema field with only one filled in.
 */
import { z } from 'zod';
import { didYouMean } from '../config/did-you-mean.js';
import { invalidPattern } from './invalid.js';
import { describeValue, isPlainObject } from './objects.js';
import { PATTERN_FORMATS, type PatternSource } from './types.js';

export const SCHEMA_FIELDS = [
  'json_schema',
  'yaml_schema',
  'xml_schema',
  'csv_schema',
  'plain_text_schema',
] as const;
export type SchemaField = (typeof SCHEMA_FIELDS)[number];

const OPTIONAL_FIELDS: readonly string[] = [...SCHEMA_FIELDS, 'csv_delimiter', 'version'];

const schemaText = z.string();

const PatternSourceSchema = z.object({
  name: z.string().trim().min(1),
  instructions: z.string().trim().min(1),
  // `JSON` and ` json ` are forgiven; the message still quotes what was written.
  format: z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.enum(PATTERN_FORMATS)),
  version: z
    .custom<string | number>(
      (v) => (typeof v === 'string' && v.trim() !== '') || (typeof v === 'number' && Number.isFinite(v)),
      { message: 'must be a non-empty string or a number' },
    )
    .optional(),
  json_schema: z
    .custom<Record<string, unknown> | string>((v) => isPlainObject(v) || typeof v === 'string', {
      message: 'must be an object: a JSON Schema or an example object',
    })
    .optional(),
  yaml_schema: schemaText.optional(),
  xml_schema: schemaText.optional(),
  csv_schema: schemaText.optional(),
  plain_text_schema: schemaText.optional(),
  csv_delimiter: z.enum(['comma', 'semicolon']).optional(),
});

/** What the pattern file holds once validated; `json_schema` may still be JSON text. */
export type ValidatedSource = Omit<PatternSource, 'json_schema'> & {
  json_schema?: Record<string, unknown> | string;
};

const ARTICLES: Record<string, string> = { string: 'a string', number: 'a number', object: 'an object' };

function issueMessage(issue: z.core.$ZodIssue, source: Record<string, unknown>): string {
  const field = issue.path.map(String).join('.');
  const value = issue.path.length === 1 ? source[String(issue.path[0])] : undefined;
  const got = `(got ${describeValue(value)})`;
  if (value === undefined && issue.path.length === 1) return `"${field}" is required`;
  switch (issue.code) {
    case 'invalid_type':
      return `"${field}" must be ${ARTICLES[issue.expected] ?? issue.expected} ${got}`;
    case 'invalid_value':
      return `"${field}" must be one of ${issue.values.map(String).join(', ')} ${got}${typeof value === 'string' ? didYouMean(value, issue.values.map(String)) : ''}`;
    case 'too_small':
      return `"${field}" must not be empty`;
    default:
      return `"${field}" ${issue.message} ${got}`;
  }
}

export function readPatternSource(source: unknown, origin: string): ValidatedSource {
  if (!isPlainObject(source))
    throw invalidPattern(
      origin,
      `a pattern must be an object with name, instructions, format and a schema (got ${describeValue(source)})`,
    );
  const cleaned: Record<string, unknown> = { ...source };
  for (const field of OPTIONAL_FIELDS) {
    const value = cleaned[field];
    if (value === null || (typeof value === 'string' && value.trim() === '')) delete cleaned[field];
  }
  const result = PatternSourceSchema.safeParse(cleaned);
  if (!result.success) throw invalidPattern(origin, issueMessage(result.error.issues[0]!, cleaned));
  return result.data;
}
