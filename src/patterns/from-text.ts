/**
 * `plain_text_schema`: a Markdown outline. Each ATX heading (`#` … `######`) without
 * sub-headings is a leaf: a field holding the text written under it, a nullable string
 * whose key is the heading slugified to snake_case (`Years of Experience` →
 * `years_of_experience`; repeated keys get `_2`, `_3`). Headings with sub-headings only
 * structure the output and are kept in the `textHeadings` hint without a key. Text
 * written under a leaf heading in the schema becomes the field's description (a hint
 * for the model). Setext headings (underlined with `===`) are not read, nor are
 * headings inside fenced code blocks.
 */
import { invalidPattern } from './invalid.js';
import { strictObject } from './schema-node.js';
import type { ObjectSchema, SchemaNode, TextHeading } from './types.js';

// Up to 3 spaces, 1–6 `#`, then a space or the end of the line (CommonMark ATX heading).
const HEADING_RE = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$/;
const FENCE_RE = /^ {0,3}(`{3,}|~{3,})/;

export function slugify(text: string): string {
  const slug = text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '_')
    .replace(/^_+|_+$/g, '');
  return slug === '' ? 'field' : slug;
}

interface RawHeading {
  level: number;
  text: string;
  line: number;
  body: string[];
}

function readHeadings(markdown: string, origin: string): RawHeading[] {
  const headings: RawHeading[] = [];
  let fence: string | undefined;
  markdown.split(/\r?\n/).forEach((line, index) => {
    const fenceMatch = FENCE_RE.exec(line);
    if (fenceMatch) {
      const marker = fenceMatch[1]!;
      if (fence === undefined) fence = marker[0]!.repeat(marker.length);
      else if (marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      headings.at(-1)?.body.push(line);
      return;
    }
    const match = fence === undefined ? HEADING_RE.exec(line) : null;
    if (!match) {
      headings.at(-1)?.body.push(line);
      return;
    }
    // A closing sequence (`## Name ##`) is not part of the text.
    const text = (match[2] ?? '').replace(/(^|[ \t]+)#+$/, '').trim();
    if (text === '')
      throw invalidPattern(
        origin,
        `plain_text_schema line ${index + 1}: heading ${JSON.stringify(line.trim())} has no text`,
      );
    headings.push({ level: match[1]!.length, text, line: index + 1, body: [] });
  });
  return headings;
}

export interface TextSchema {
  schema: ObjectSchema;
  headings: TextHeading[];
}

export function schemaFromText(markdown: string, origin: string): TextSchema {
  const raw = readHeadings(markdown, origin);
  if (raw.length === 0)
    throw invalidPattern(
      origin,
      'plain_text_schema has no Markdown headings: write one "# Heading" or "## Heading" line per field',
    );
  const used = new Set<string>();
  const headings: TextHeading[] = [];
  const entries: Array<[string, SchemaNode]> = [];
  raw.forEach((heading, index) => {
    const next = raw[index + 1];
    const isLeaf = next === undefined || next.level <= heading.level;
    if (!isLeaf) {
      headings.push({ level: heading.level, text: heading.text });
      return;
    }
    const base = slugify(heading.text);
    let key = base;
    for (let n = 2; used.has(key); n++) key = `${base}_${n}`;
    used.add(key);
    headings.push({ level: heading.level, text: heading.text, key });
    const node: SchemaNode = { type: ['string', 'null'], title: heading.text };
    const description = heading.body.join('\n').trim();
    if (description !== '') node.description = description;
    entries.push([key, node]);
  });
  return { schema: strictObject(entries), headings };
}
