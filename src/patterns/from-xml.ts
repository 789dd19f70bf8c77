/**
 * `xml_schema`: example XML with one root element. The root's name is kept as the
 * render hint `xmlRoot`; the rest becomes an example object, inferred like any other:
 * - child elements become properties in document order; sibling elements with the same
 *   name become an array (at the position of the first one);
 * - element text is typed: `123.45` → number, `true`/`false` → boolean, type names
 *   (`date`, `integer`…) and ISO dates as in infer-schema.ts; numbers with leading zeros
 *   (`007`, zip codes) stay strings; an empty element is a nullable string.
 * Limitations (XML has more structure than a JSON object):
 * - attributes become ordinary properties, listed before the child elements, and are
 *   rendered back as child elements; an element with attributes and text keeps the text
 *   under a `value` property; `xmlns` declarations are ignored and prefixed names keep
 *   their prefix (`ns:tag`), which the XML renderer writes as `ns_tag`;
 * - a list is only recognised when an element repeats: a wrapper with a single child
 *   (`<items><item>…</item></items>`) is an object, so give two example children;
 * - text mixed with child elements, comments and processing instructions are ignored.
 */
import { fastXmlParser } from '../on-first-use.js';
import { checkSourceBudget } from './budget.js';
import { inferRootSchema } from './infer-schema.js';
import { invalidPattern } from './invalid.js';
import { setOwn } from './objects.js';
import type { ObjectSchema } from './types.js';

type XmlNode = Record<string, unknown>;

const ATTRIBUTES = ':@';
const TEXT = '#text';
const NUMBER_RE = /^-?(0|[1-9]\d*)(\.\d+)?$/;

function elementName(node: XmlNode): string | undefined {
  return Object.keys(node).find(
    (k) => k !== ATTRIBUTES && k !== TEXT && !k.startsWith('?') && !k.startsWith('#'),
  );
}

/** Element text → a typed example value. */
function typedText(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  if (NUMBER_RE.test(trimmed)) return Number(trimmed);
  if (/^(true|false)$/i.test(trimmed)) return trimmed.toLowerCase() === 'true';
  return trimmed;
}

function elementValue(children: XmlNode[], attributes: Record<string, unknown> | undefined): unknown {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
    setOwn(out, name, typedText(String(value)));
  }
  const hasAttributes = Object.keys(out).length > 0;
  const text = children
    .filter((c) => typeof c[TEXT] === 'string' || typeof c[TEXT] === 'number')
    .map((c) => String(c[TEXT]))
    .join('');
  const elements = children.filter((c) => elementName(c) !== undefined);
  if (elements.length === 0) {
    if (!hasAttributes) return typedText(text);
    if (text.trim() !== '') setOwn(out, 'value', typedText(text));
    return out;
  }
  const groups = new Map<string, unknown[]>();
  for (const child of elements) {
    const name = elementName(child)!;
    const value = elementValue(child[name] as XmlNode[], child[ATTRIBUTES] as Record<string, unknown>);
    const group = groups.get(name);
    if (group) group.push(value);
    else groups.set(name, [value]);
  }
  for (const [name, values] of groups) setOwn(out, name, values.length > 1 ? values : values[0]);
  return out;
}

export interface XmlSchema {
  schema: ObjectSchema;
  root: string;
}

export function schemaFromXml(text: string, origin: string): XmlSchema {
  const { XMLParser, XMLValidator } = fastXmlParser();
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    throw invalidPattern(origin, `xml_schema is not well-formed XML: ${msg} (line ${line}, column ${col})`);
  }
  let document: XmlNode[];
  try {
    document = new XMLParser({
      preserveOrder: true,
      ignoreAttributes: false,
      attributeNamePrefix: '',
      parseTagValue: false,
      parseAttributeValue: false,
      trimValues: true,
      ignoreDeclaration: true,
      ignorePiTags: true,
    }).parse(text) as XmlNode[];
  } catch (error) {
    throw invalidPattern(origin, `xml_schema is not well-formed XML: ${(error as Error).message}`, error);
  }
  checkSourceBudget(document, origin);
  const roots = document.filter((n) => elementName(n) !== undefined);
  if (roots.length !== 1)
    throw invalidPattern(
      origin,
      `xml_schema must have exactly one root element (got ${roots.length === 0 ? 'none' : roots.map(elementName).join(', ')})`,
    );
  const rootNode = roots[0]!;
  const root = elementName(rootNode)!;
  const example = elementValue(rootNode[root] as XmlNode[], rootNode[ATTRIBUTES] as Record<string, unknown>);
  if (example === null || typeof example !== 'object')
    throw invalidPattern(origin, `xml_schema root element <${root}> has no child elements to become fields`);
  return { schema: inferRootSchema(example, { origin, field: 'xml_schema' }), root };
}
