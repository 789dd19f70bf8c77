/**
 * Rendering an output into a format. The output is validated first (SCHEMA_MISMATCH
 * otherwise): a renderer never writes something the schema does not describe, and can
 * rely on its shape. Keys are put in schema order whatever order the model used.
 */
import { orderBySchema } from './order.js';
import { renderCsv } from './render-csv.js';
import { renderJson } from './render-json.js';
import { renderText } from './render-text.js';
import { renderXml } from './render-xml.js';
import { renderYaml } from './render-yaml.js';
import type { Pattern, PatternFormat } from './types.js';
import { assertConforms } from './validate.js';

export type RenderablePattern = Pick<Pattern, 'name' | 'schema' | 'hints'>;

/** Renders `output` as `format`, which need not be the pattern's own. */
export interface RenderOptions {
  /** CSV: defuse formula-like cells (default) or keep them (render-csv.ts). */
  csvFormulas?: 'neutralize' | 'keep';
}

export function renderAs(
  format: PatternFormat,
  pattern: RenderablePattern,
  output: unknown,
  options: RenderOptions = {},
): string {
  assertConforms(pattern, output);
  const ordered = orderBySchema(pattern.schema, output) as Record<string, unknown>;
  switch (format) {
    case 'json':
      return renderJson(ordered);
    case 'yaml':
      return renderYaml(ordered);
    case 'xml':
      return renderXml(pattern, ordered);
    case 'csv':
      return renderCsv(pattern, ordered, options.csvFormulas ? { formulas: options.csvFormulas } : {});
    case 'text':
      return renderText(pattern, ordered);
  }
}

/** Renders `output` in the pattern's own format. */
export function render(
  pattern: RenderablePattern & Pick<Pattern, 'format'>,
  output: unknown,
  options: RenderOptions = {},
): string {
  return renderAs(pattern.format, pattern, output, options);
}
