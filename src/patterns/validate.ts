/**
 * Output validation against a pattern's normalised schema with ajv (all errors, so a
 * report lists every problem). Each schema is compiled once and the compiled function
 * is kept in a WeakMap keyed by the schema object, so it lives exactly as long as the
 * pattern; ajv's own cache is cleared of the schema for the same reason.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { VisionpipeError } from '../errors.js';
import { addFormats, FORMAT_DESCRIPTIONS } from './formats.js';
import { describeValue, hasOwn, pointerSegment } from './objects.js';
import type { ObjectSchema, Pattern, ValidationIssue } from './types.js';

const ajv = addFormats(
  new Ajv({ allErrors: true, strict: true, strictNumbers: true, allowUnionTypes: true }),
);
const compiled = new WeakMap<ObjectSchema, ValidateFunction>();

function validatorFor(schema: ObjectSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    ajv.removeSchema(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

function valueAtPointer(root: unknown, pointer: string): unknown {
  if (pointer === '') return root;
  let current = root;
  for (const segment of pointer.slice(1).split('/')) {
    const key = segment.replaceAll('~1', '/').replaceAll('~0', '~');
    if (current === null || typeof current !== 'object' || !hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function toIssue(error: ErrorObject, output: unknown): ValidationIssue {
  const params = error.params as Record<string, unknown>;
  const got = () => `(got ${describeValue(valueAtPointer(output, error.instancePath))})`;
  switch (error.keyword) {
    case 'required':
      return {
        path: `${error.instancePath}/${pointerSegment(String(params.missingProperty))}`,
        message: 'is missing (every field must be present; use null when a value is absent)',
      };
    case 'additionalProperties':
      return {
        path: `${error.instancePath}/${pointerSegment(String(params.additionalProperty))}`,
        message: 'is not a field of the schema',
      };
    case 'type': {
      const types = String(params.type).split(',').join(' or ');
      return { path: error.instancePath, message: `must be ${types} ${got()}` };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ');
      return { path: error.instancePath, message: `must be one of ${allowed} ${got()}` };
    }
    case 'format': {
      const format = String(params.format);
      return {
        path: error.instancePath,
        message: `must be ${FORMAT_DESCRIPTIONS[format] ?? format} ${got()}`,
      };
    }
    default:
      return { path: error.instancePath, message: `${error.message ?? 'is invalid'} ${got()}` };
  }
}

/** Every way `output` fails the pattern's schema; empty when it conforms. */
export function validateOutput(pattern: Pick<Pattern, 'schema'>, output: unknown): ValidationIssue[] {
  const validate = validatorFor(pattern.schema);
  if (validate(output)) return [];
  return (validate.errors ?? []).map((error) => toIssue(error, output));
}

const SHOWN_ISSUES = 3;

/**
 * Throws SCHEMA_MISMATCH unless `output` conforms, listing up to three issues with their
 * JSON pointers: `scan.jpg: output does not conform to pattern "invoice": /total must
 * be number or null (got "12,50"); /vendor is not a field of the schema`.
 */
export function assertConforms(
  pattern: Pick<Pattern, 'schema' | 'name'>,
  output: unknown,
  input?: string,
): void {
  const issues = validateOutput(pattern, output);
  if (issues.length === 0) return;
  const shown = issues
    .slice(0, SHOWN_ISSUES)
    .map((issue) => `${issue.path === '' ? '(root)' : issue.path} ${issue.message}`)
    .join('; ');
  const more = issues.length > SHOWN_ISSUES ? ` (and ${issues.length - SHOWN_ISSUES} more)` : '';
  const where = input === undefined ? '' : `${input}: `;
  throw new VisionpipeError(
    'SCHEMA_MISMATCH',
    `${where}output does not conform to pattern "${pattern.name}": ${shown}${more}`,
    { input },
  );
}
