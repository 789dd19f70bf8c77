/**
 * Output validation against a pattern's normalised schema with ajv (all errors, so a
 * report lists every problem): types, enums, formats and the pattern's constraints
 * (pattern, lengths, bounds, item counts, unique items). Each issue names the field (a
 * JSON pointer) and the rule (the keyword). Each schema is compiled once and the compiled function
 * is kept in a WeakMap keyed by the schema object, so it lives exactly as long as the
 * pattern; ajv's own cache is cleared of the schema for the same reason.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { VisionpipeError } from '../errors.js';
import { boundedRegExp, REGEXP_BUDGET_MS, withRegexpBudget } from './bounded-regexp.js';
import { addFormats, FORMAT_DESCRIPTIONS } from './formats.js';
import { describeValue, hasOwn, pointerSegment } from './objects.js';
import type { Pattern, SchemaNode, ValidationIssue } from './types.js';

const ajv = addFormats(
  new Ajv({
    allErrors: true,
    strict: true,
    strictNumbers: true,
    allowUnionTypes: true,
    // `pattern` is someone else's regular expression: each test is time-limited (bounded-regexp.ts).
    code: { regExp: boundedRegExp },
  }),
);
const compiled = new WeakMap<SchemaNode, ValidateFunction>();

function validatorFor(schema: SchemaNode): ValidateFunction {
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

/** A short JSON rendering of a value for messages. */
const shown = (value: unknown) => describeValue(value);

function toIssue(error: ErrorObject, output: unknown): ValidationIssue {
  const params = error.params as Record<string, unknown>;
  const value = valueAtPointer(output, error.instancePath);
  const got = () => `(got ${shown(value)})`;
  const issue = (message: string, path = error.instancePath): ValidationIssue => ({
    path,
    keyword: error.keyword,
    message,
  });
  // Constraint messages name the rule ("(maxLength 3, got …)") so a reader, and an
  // escalation reason, can tell which part of the pattern the answer broke.
  const rule = (limit: unknown) =>
    `(${error.keyword}${limit === undefined ? '' : ` ${String(limit)}`}, got ${shown(value)})`;
  switch (error.keyword) {
    case 'required':
      return issue(
        'is missing (every field must be present; use null when a value is absent)',
        `${error.instancePath}/${pointerSegment(String(params.missingProperty))}`,
      );
    case 'additionalProperties':
      return issue(
        'is not a field of the schema',
        `${error.instancePath}/${pointerSegment(String(params.additionalProperty))}`,
      );
    case 'type':
      return issue(`must be ${String(params.type).split(',').join(' or ')} ${got()}`);
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ');
      return issue(`must be one of ${allowed} ${got()}`);
    }
    case 'format': {
      const format = String(params.format);
      return issue(`must be ${FORMAT_DESCRIPTIONS[format] ?? format} ${got()}`);
    }
    case 'pattern':
      return issue(`must match the regular expression ${String(params.pattern)} ${rule(undefined)}`);
    case 'minLength':
    case 'maxLength': {
      const limit = Number(params.limit);
      const bound = error.keyword === 'minLength' ? 'at least' : 'at most';
      return issue(`must be ${bound} ${limit} character${limit === 1 ? '' : 's'} long ${rule(limit)}`);
    }
    case 'minItems':
    case 'maxItems': {
      const limit = Number(params.limit);
      const bound = error.keyword === 'minItems' ? 'at least' : 'at most';
      const count = Array.isArray(value) ? value.length : 0;
      return issue(
        `must have ${bound} ${limit} item${limit === 1 ? '' : 's'} (${error.keyword} ${limit}, got ${count})`,
      );
    }
    case 'uniqueItems': {
      // ajv names the first copy `i` and the later one `j`.
      const repeated = Array.isArray(value) ? value[Number(params.i)] : undefined;
      return issue(
        `must not repeat an item: items ${params.i} and ${params.j} are equal (uniqueItems, got ${shown(repeated)} twice)`,
      );
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return issue(`must be ${String(params.comparison)} ${String(params.limit)} ${rule(params.limit)}`);
    case 'multipleOf':
      return issue(`must be a multiple of ${String(params.multipleOf)} ${rule(params.multipleOf)}`);
    default:
      return issue(`${error.message ?? 'is invalid'} ${got()}`);
  }
}

/** Every way `output` fails the pattern's schema; empty when it conforms. */
export function validateOutput(pattern: Pick<Pattern, 'schema'>, output: unknown): ValidationIssue[] {
  return issuesAgainst(pattern.schema, output);
}

/** Every way `value` fails one schema node (a field's own schema, for engines that fill fields one by one). */
export function issuesAgainst(schema: SchemaNode, value: unknown): ValidationIssue[] {
  const validate = validatorFor(schema);
  const { value: valid, exhausted } = withRegexpBudget(() => validate(value));
  if (valid && !exhausted) return [];
  const issues = (validate.errors ?? []).map((error) => toIssue(error, value));
  // Spent: the `pattern` tests after that point failed without running (bounded-regexp.ts).
  if (exhausted)
    issues.push({
      path: '',
      keyword: 'regexpBudget',
      message: `was not fully checked: regexpBudget (${REGEXP_BUDGET_MS} ms of regular-expression tests per validation) exhausted, the remaining pattern checks fail`,
    });
  return issues;
}

const SHOWN_ISSUES = 3;

/**
 * SCHEMA_MISMATCH with the issues it was made of: `issues` names each field (JSON
 * pointer) and the rule it broke (`keyword`), for escalation and for callers that
 * report per field.
 */
export class SchemaMismatchError extends VisionpipeError {
  readonly issues: readonly ValidationIssue[];

  constructor(message: string, issues: readonly ValidationIssue[], input: string | undefined) {
    super('SCHEMA_MISMATCH', message, { input });
    this.issues = issues;
  }
}

/**
 * The SCHEMA_MISMATCH error for these issues, listing up to three with their JSON
 * pointers: `scan.jpg: output does not conform to pattern "invoice": /total must be ≥ 0
 * (minimum 0, got -5); /vendor is not a field of the schema`.
 */
export function schemaMismatch(
  pattern: Pick<Pattern, 'name'>,
  issues: readonly ValidationIssue[],
  input?: string,
): SchemaMismatchError {
  const listed = issues
    .slice(0, SHOWN_ISSUES)
    .map((issue) => `${issue.path === '' ? '(root)' : issue.path} ${issue.message}`)
    .join('; ');
  const more = issues.length > SHOWN_ISSUES ? ` (and ${issues.length - SHOWN_ISSUES} more)` : '';
  const where = input === undefined ? '' : `${input}: `;
  return new SchemaMismatchError(
    `${where}output does not conform to pattern "${pattern.name}": ${listed}${more}`,
    issues,
    input,
  );
}

/** Throws SCHEMA_MISMATCH (a SchemaMismatchError) unless `output` conforms. */
export function assertConforms(
  pattern: Pick<Pattern, 'schema' | 'name'>,
  output: unknown,
  input?: string,
): void {
  const issues = validateOutput(pattern, output);
  if (issues.length > 0) throw schemaMismatch(pattern, issues, input);
}

/**
 * The concrete pointers of `pattern.requiredFields` that are null in `output` (fields
 * the pattern requires that were not found): `/invoice_number`, `/line_items/2/amount`.
 */
export function missingRequired(pattern: Pick<Pattern, 'requiredFields'>, output: unknown): string[] {
  const missing: string[] = [];
  const walk = (value: unknown, segments: readonly string[], path: string) => {
    if (segments.length === 0) {
      if (value === null) missing.push(path);
      return;
    }
    const [head, ...rest] = segments as [string, ...string[]];
    if (head === '*') {
      if (Array.isArray(value)) for (const [i, item] of value.entries()) walk(item, rest, `${path}/${i}`);
      return;
    }
    const key = head.replaceAll('~1', '/').replaceAll('~0', '~');
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && hasOwn(value, key))
      walk((value as Record<string, unknown>)[key], rest, `${path}/${head}`);
  };
  for (const pointer of pattern.requiredFields) walk(output, pointer.split('/').slice(1), '');
  return missing;
}
