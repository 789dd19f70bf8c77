/**
 * Patterns, compatible with ImgGo's pattern model: load a pattern file, normalise its
 * schema to one strict JSON Schema, validate outputs against it and render them into
 * the pattern's format.
 */
export { emptyOutput } from './empty-output.js';
export { canonicalJson, patternFingerprint } from './fingerprint.js';
export { listProperty } from './list.js';
export { type LoadPatternOptions, loadPattern, parsePatternText } from './load.js';
export { parsePattern } from './parse.js';
export { render, renderAs } from './render.js';
export { requestSchema, type StructuredOutputSupport } from './request-schema.js';
export * from './types.js';
export {
  assertConforms,
  missingRequired,
  SchemaMismatchError,
  schemaMismatch,
  validateOutput,
} from './validate.js';
