/**
 * Outputs full of values that break naive renderers (markup, delimiters, quotes,
 * newlines, YAML 1.1 booleans, leading zeros, heading markers, non-ASCII), generated
 * from a schema so every sample pattern gets one that conforms. No value is the empty
 * string: XML, CSV and text write '' and null the same way (an empty element, cell or
 * line), so the round trips read an empty value back as null.
 */
import type { SchemaNode } from '../../../src/patterns/types.js';

export const TRICKY_STRINGS = [
  'Acme & Sons <Ltd> "quoted" \'single\'',
  'yes',
  '007',
  'key: value # not a comment',
  'comma, "quote" and\nnewline',
  '# not a heading',
  'semi;colon',
  '  leading and trailing spaces  ',
  'null',
  'true',
  '1.50',
  'Ünïcödé ✓ 日本 🧾',
  'tab\there',
  '- dash',
  '@at *star &anchor !tag %percent',
  '{braces} [brackets]',
  'multi\nline\n## hash line\n\\# escaped already',
  'cr\r\nlf',
  'on',
  '12:30',
  '<![CDATA[ not cdata ]]>',
  '=SUM(A1:A2)',
];

export const TRICKY_NUMBERS = [1234.5, 0, -0.25, 0.1 + 0.2, 1e21, 42, 7];

function typesOf(node: SchemaNode): string[] {
  return Array.isArray(node.type) ? node.type : [node.type];
}

export function trickyOutput(schema: SchemaNode): Record<string, unknown> {
  let counter = 0;
  const next = () => counter++;
  const value = (node: SchemaNode): unknown => {
    const types = typesOf(node);
    if (types.includes('object') && node.properties) {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(node.properties)) out[key] = value(child);
      return out;
    }
    if (types.includes('array') && node.items) return [value(node.items), value(node.items)];
    const n = next();
    // Every fifth nullable scalar is null, so null is exercised everywhere.
    if (types.includes('null') && n % 5 === 4) return null;
    if (node.enum) return node.enum.find((v) => v !== null);
    if (types.includes('boolean')) return n % 2 === 0;
    if (types.includes('integer')) return 40 + n;
    if (types.includes('number')) return TRICKY_NUMBERS[n % TRICKY_NUMBERS.length];
    switch (node.format) {
      case 'date':
        return '2024-02-29';
      case 'date-time':
        return '2024-05-01T08:15:00+02:00';
      case 'time':
        return '08:15:00';
      case 'email':
        return 'o.brien+test@example.co.uk';
      case 'uri':
        return 'https://example.com/a?b=1&c=<2>';
    }
    return TRICKY_STRINGS[n % TRICKY_STRINGS.length];
  };
  return value(schema) as Record<string, unknown>;
}
