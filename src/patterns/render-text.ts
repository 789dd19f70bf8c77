/**
 * Text: a Markdown outline. A text pattern writes its own headings in order (the
 * `textHeadings` hint), each leaf heading followed by its value on the next line(s);
 * other patterns derive headings from the schema: the property's title or its name in
 * words (`vendor_name` → `Vendor Name`), nested objects one level deeper, list items as
 * numbered sub-headings (`Line Items 1`), lists of scalars as `- item` lines. Levels
 * stop at 6. null (and an empty string or list) is an empty line. A value line that
 * would read as a heading (`# not a heading`) is escaped with a backslash (`\# not…`),
 * as Markdown does; a reader removes one backslash before `#` at the start of a line.
 */
import { isPlainObject } from './objects.js';
import { hasType } from './schema-node.js';
import type { Pattern, SchemaNode } from './types.js';

function heading(level: number, text: string): string {
  return `${'#'.repeat(Math.min(Math.max(level, 1), 6))} ${text.replace(/\s*\n\s*/g, ' ')}`;
}

/** Escapes value lines that a Markdown reader would take for a heading. */
export function escapeTextLine(line: string): string {
  return line.replace(/^(\s*)(\\*#)/, '$1\\$2');
}

function valueLines(value: unknown): string[] {
  if (value === null || value === undefined || value === '') return [''];
  if (Array.isArray(value) && value.length === 0) return [''];
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.split('\n').map(escapeTextLine);
}

export function humanize(key: string): string {
  const words = key
    .replace(/([a-z\d])([A-Z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .filter((w) => w !== '');
  if (words.length === 0) return key;
  return words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join(' ');
}

function deriveSections(node: SchemaNode, value: unknown, level: number, out: string[][]): void {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const title = child.title ?? humanize(key);
    const current = isPlainObject(value) ? value[key] : null;
    if (hasType(child, 'object') && child.properties && isPlainObject(current)) {
      out.push([heading(level, title)]);
      deriveSections(child, current, level + 1, out);
    } else if (hasType(child, 'array') && Array.isArray(current) && current.length > 0) {
      const items = child.items!;
      if (hasType(items, 'object') && items.properties) {
        out.push([heading(level, title)]);
        current.forEach((item, index) => {
          out.push([heading(level + 1, `${title} ${index + 1}`)]);
          deriveSections(items, item, level + 2, out);
        });
      } else {
        out.push([heading(level, title), ...current.map((item) => `- ${valueLines(item).join(' ')}`)]);
      }
    } else {
      out.push([heading(level, title), ...valueLines(current)]);
    }
  }
}

export function renderText(
  pattern: Pick<Pattern, 'schema' | 'hints'>,
  ordered: Record<string, unknown>,
): string {
  const sections: string[][] = [];
  const outline = pattern.hints.textHeadings;
  if (outline) {
    for (const h of outline) {
      sections.push(
        h.key === undefined
          ? [heading(h.level, h.text)]
          : [heading(h.level, h.text), ...valueLines(ordered[h.key])],
      );
    }
  } else {
    deriveSections(pattern.schema, ordered, 1, sections);
  }
  return `${sections.map((lines) => lines.join('\n')).join('\n\n')}\n`;
}
