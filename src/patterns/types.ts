/**
 * The pattern model, compatible with ImgGo's: a name, instructions, an output format and
 * one schema in the shape that format's users write (a JSON Schema or an example object,
 * example YAML, example XML, a CSV header row, Markdown headings). Every pattern is
 * normalised to one strict JSON Schema, the shape vision models' structured-output modes
 * accept; outputs are validated against it and rendered back into the pattern's format.
 */

export const PATTERN_FORMATS = ['json', 'yaml', 'xml', 'csv', 'text'] as const;
export type PatternFormat = (typeof PATTERN_FORMATS)[number];

/** A pattern file as users write it (`.json` or `.yaml`), field names as ImgGo accepts them. */
export interface PatternSource {
  name: string;
  instructions: string;
  format: PatternFormat;
  version?: string | number;
  /** A JSON Schema, or an example object whose schema is inferred. */
  json_schema?: Record<string, unknown>;
  /** Example YAML (text). */
  yaml_schema?: string;
  /** Example XML with one root element (text). */
  xml_schema?: string;
  /** A CSV header row, e.g. `merchant_name,date,total_amount,category`. */
  csv_schema?: string;
  csv_delimiter?: 'comma' | 'semicolon';
  /** Markdown headings; each leaf heading becomes a field. */
  plain_text_schema?: string;
}

export type JsonType = 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null';

/**
 * A node of a normalised schema. Objects list every property in `required` and set
 * `additionalProperties: false`; a value that may be absent has `null` in its type.
 * Property order is the order fields are rendered in.
 */
export interface SchemaNode {
  type: JsonType | JsonType[];
  title?: string;
  description?: string;
  /** String formats kept and checked: see KEPT_FORMATS (date, date-time, time, duration, email, hostname, ipv4, ipv6, uuid, uri). */
  format?: string;
  enum?: Array<string | number | boolean | null>;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  additionalProperties?: false;
  items?: SchemaNode;
  // Constraints (constraints.ts): kept from the pattern, checked on every output, and sent
  // to each provider as far as its structured-output mode accepts them.
  /** ECMA-262 regular expression (unicode mode) a string must match. */
  pattern?: string;
  /** Length of a string in code points. */
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  /** A number must be a multiple of this (> 0). */
  multipleOf?: number;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: true;
}

/** The root of a normalised schema is always an object. */
export interface ObjectSchema extends SchemaNode {
  type: 'object';
  properties: Record<string, SchemaNode>;
  required: string[];
  additionalProperties: false;
}

export interface TextHeading {
  /** Markdown heading level, 1–6. */
  level: number;
  /** Heading text as written. */
  text: string;
  /** Property key of a leaf heading (holds content); undefined for headings with sub-headings. */
  key?: string;
}

/** How a normalised pattern renders into its own format. */
export interface RenderHints {
  /** XML root element name. */
  xmlRoot?: string;
  /** CSV delimiter character. */
  csvDelimiter?: ',' | ';';
  /** CSV column order (header). */
  csvColumns?: string[];
  /** Markdown heading outline for text patterns. */
  textHeadings?: TextHeading[];
}

export interface Pattern {
  name: string;
  instructions: string;
  format: PatternFormat;
  version: string;
  schema: ObjectSchema;
  hints: RenderHints;
  /**
   * JSON pointers of the fields the pattern declares required and non-null, with `*`
   * standing for every item of a list (`/line_items/` `*` `/amount`). Every field may still be null,
   * meaning "not found" (see docs/patterns.md); a null in one of these is worth an
   * escalation to a stronger model when one is configured.
   */
  requiredFields: string[];
  /** sha256 over schema, required fields, instructions, format, version and render hints: part of every cache key. */
  fingerprint: string;
  /** Where the pattern came from (file path), for messages. */
  origin: string;
  /**
   * What the pattern asks for that visionpipe cannot enforce (a keyword it does not
   * check, an unknown format…), one sentence each naming the place in the schema.
   * loadPattern reports them once per process; empty for most patterns.
   */
  warnings: string[];
}

export interface ValidationIssue {
  /** JSON pointer of the offending value, `` for the root. */
  path: string;
  /** The JSON Schema keyword (rule) broken: `type`, `required`, `pattern`, `minimum`, `maxItems`… */
  keyword: string;
  message: string;
}
