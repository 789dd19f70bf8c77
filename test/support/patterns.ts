/**
 * Pattern files written by tests: a JSON pattern with its name, instructions and a
 * shorthand json_schema (field → type), the shape most CLI tests read documents with.
 */
import { writeFile } from 'node:fs/promises';

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
