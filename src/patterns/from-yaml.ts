/**
 * `yaml_schema`: an example YAML document. Parsed as YAML 1.2 (the `yaml` package's
 * default core schema, so `2024-01-15` stays a string and is read as a date, and `yes`
 * is a string), then inferred like any example.
 */

import { yaml } from '../on-first-use.js';
import { checkSourceBudget } from './budget.js';
import { inferRootSchema } from './infer-schema.js';
import { invalidPattern } from './invalid.js';
import type { ObjectSchema } from './types.js';

/** The first line of a parser message: the `yaml` package appends a code excerpt. */
export function firstLine(message: string): string {
  return message.split('\n')[0]!.trim();
}

export function schemaFromYaml(text: string, origin: string): ObjectSchema {
  let example: unknown;
  try {
    example = yaml().parse(text, { logLevel: 'error' });
  } catch (error) {
    throw invalidPattern(
      origin,
      `yaml_schema is not valid YAML: ${firstLine((error as Error).message)}`,
      error,
    );
  }
  checkSourceBudget(example, origin);
  return inferRootSchema(example, { origin, field: 'yaml_schema' });
}
