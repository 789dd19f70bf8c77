/**
 * A validated pattern source → a Pattern: the schema that matches `format` (or, when
 * that one is absent, the first other one given, in the order json, yaml, xml, csv,
 * text) normalised to one strict JSON Schema, plus the render hints and fingerprint.
 */

import { checkPromptBudget, checkSchemaBudget, checkSourceBudget, PATTERN_LIMITS } from './budget.js';
import { patternFingerprint } from './fingerprint.js';
import { schemaFromCsv } from './from-csv.js';
import { schemaFromJson } from './from-json.js';
import { schemaFromText } from './from-text.js';
import { schemaFromXml } from './from-xml.js';
import { schemaFromYaml } from './from-yaml.js';
import { invalidPattern } from './invalid.js';
import { readPatternSource, SCHEMA_FIELDS, type SchemaField, type ValidatedSource } from './source.js';
import type { ObjectSchema, Pattern, PatternFormat, RenderHints } from './types.js';

const OWN_SCHEMA: Record<PatternFormat, SchemaField> = {
  json: 'json_schema',
  yaml: 'yaml_schema',
  xml: 'xml_schema',
  csv: 'csv_schema',
  text: 'plain_text_schema',
};

function chooseSchemaField(source: ValidatedSource, origin: string): SchemaField {
  const own = OWN_SCHEMA[source.format];
  if (source[own] !== undefined) return own;
  const other = SCHEMA_FIELDS.find((field) => source[field] !== undefined);
  if (other) return other;
  const alternative = source.format === 'json' ? '' : ' or json_schema';
  throw invalidPattern(origin, `format is ${source.format} but no ${own}${alternative} is given`);
}

interface Built {
  schema: ObjectSchema;
  hints: RenderHints;
  requiredFields?: string[];
  warnings?: string[];
}

function buildSchema(source: ValidatedSource, origin: string): Built {
  const hints: RenderHints = {};
  const delimiter = source.csv_delimiter === 'semicolon' ? ';' : ',';
  if (source.format === 'csv' || source.csv_delimiter !== undefined) hints.csvDelimiter = delimiter;
  const field = chooseSchemaField(source, origin);
  switch (field) {
    case 'json_schema':
      return { ...schemaFromJson(source.json_schema!, origin), hints };
    case 'yaml_schema':
      return { schema: schemaFromYaml(source.yaml_schema!, origin), hints };
    case 'xml_schema': {
      const { schema, root } = schemaFromXml(source.xml_schema!, origin);
      return { schema, hints: { ...hints, xmlRoot: root } };
    }
    case 'csv_schema': {
      const { schema, columns } = schemaFromCsv(source.csv_schema!, delimiter, origin);
      return { schema, hints: { ...hints, csvDelimiter: delimiter, csvColumns: columns } };
    }
    case 'plain_text_schema': {
      const { schema, headings } = schemaFromText(source.plain_text_schema!, origin);
      return { schema, hints: { ...hints, textHeadings: headings } };
    }
  }
}

/** Schema text inside the pattern (YAML, XML, CSV, headings, JSON text) is held to the same budgets. */
function buildWithin(source: ValidatedSource, origin: string): Built {
  for (const field of SCHEMA_FIELDS) {
    const text = source[field];
    if (typeof text === 'string' && text.length > PATTERN_LIMITS.fileBytes)
      throw invalidPattern(
        origin,
        `pattern limit fileBytes (${PATTERN_LIMITS.fileBytes}) exceeded: ${field} is ${text.length} characters long`,
      );
  }
  try {
    return buildSchema(source, origin);
  } catch (error) {
    // A parser below (YAML, XML) that recursed too deep: the pattern, not visionpipe, is at fault.
    if (error instanceof RangeError)
      throw invalidPattern(
        origin,
        `pattern limit sourceDepth (${PATTERN_LIMITS.sourceDepth}) exceeded: the schema nests too deep to read`,
        error,
      );
    throw error;
  }
}

/**
 * Builds a Pattern from an already parsed pattern object (a `.json`/`.yaml` file's
 * content, an API payload). `origin` names it in error messages.
 */
export function parsePattern(source: unknown, origin: string): Pattern {
  // Budgets first (budget.ts): nothing below may recurse through a hostile document.
  checkSourceBudget(source, origin);
  const valid = readPatternSource(source, origin);
  const { schema, hints, requiredFields = [], warnings = [] } = buildWithin(valid, origin);
  checkSchemaBudget(schema, origin);
  checkPromptBudget(valid.instructions.trim(), schema, origin);
  const pattern = {
    name: valid.name.trim(),
    instructions: valid.instructions.trim(),
    format: valid.format,
    // Stored as text: `1` and `"1"` are the same version; quote versions like "1.10".
    version: valid.version === undefined ? '1' : String(valid.version).trim(),
    schema,
    requiredFields,
    hints,
  };
  return { ...pattern, fingerprint: patternFingerprint(pattern), origin, warnings };
}
