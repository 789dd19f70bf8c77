/**
 * Which JSON Schema keywords normalisation understands, and which it can only ignore.
 * Annotations (titles, examples, `$comment`…) change nothing about valid values and are
 * dropped quietly; any other keyword the normalised schema does not keep (`not`,
 * `if`/`then`, `contains`, `patternProperties`, `dependentRequired`…) would be a rule
 * nobody checks, so loading the pattern says so (Pattern.warnings).
 */
import { CONSTRAINT_KEYWORDS } from './constraints.js';

/** Keywords normalisation reads (structure, types, enums, formats, references, constraints). */
const UNDERSTOOD: ReadonlySet<string> = new Set<string>([
  'type',
  'title',
  'description',
  'format',
  'enum',
  'const',
  'properties',
  'required',
  'additionalProperties',
  'items',
  '$ref',
  'allOf',
  'anyOf',
  'oneOf',
  'nullable',
  ...CONSTRAINT_KEYWORDS,
]);

/** Keywords that describe or organise a schema without constraining values. */
const ANNOTATIONS: ReadonlySet<string> = new Set([
  '$schema',
  '$id',
  '$anchor',
  '$dynamicAnchor',
  '$vocabulary',
  '$comment',
  '$defs',
  'definitions',
  'default',
  'examples',
  'example',
  'deprecated',
  'readOnly',
  'writeOnly',
  'externalDocs',
  'xml',
]);

/** The keywords of one schema object that nothing will check, in the order written. */
export function unenforcedKeywords(schema: Record<string, unknown>): string[] {
  return Object.keys(schema).filter(
    (key) => !UNDERSTOOD.has(key) && !ANNOTATIONS.has(key) && !key.startsWith('x-'),
  );
}
