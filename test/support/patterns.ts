/**
 * Pattern files written by tests: a JSON pattern with its name, instructions and a
 * shorthand json_schema (field → type), the shape most CLI tests read documents with.
 */
import { writeFile } from 'node:fs/promises';
import { parsePattern } from '../../src/patterns/index.js';
import type { Pattern } from '../../src/patterns/types.js';

export interface JsonPatternSpec {
  name: string;
  instructions: string;
  /** Field → type name (`string`, `number`, …). */
  schema: Record<string, string>;
}

/** Writes `spec` as a JSON pattern file at `file`; returns `file`. */
export async function writeJsonPattern(file: string, spec: JsonPatternSpec): Promise<string> {
  await writeFile(
    file,
    JSON.stringify({
      name: spec.name,
      format: 'json',
      instructions: spec.instructions,
      json_schema: spec.schema,
    }),
  );
  return file;
}

/** An in-memory JSON pattern `name` of two fields, vendor_name (string) and total (number). */
export function vendorTotalPattern(name: string): Pattern {
  return parsePattern(
    {
      name,
      format: 'json',
      instructions: 'Vendor and total.',
      json_schema: { vendor_name: 'string', total: 'number' },
    },
    name,
  );
}
