/**
 * The schema a provider's structured-output mode receives. Each mode accepts its own
 * subset of JSON Schema (OpenAI strict mode takes `pattern` and number bounds but not
 * string lengths; Anthropic's grammar takes neither bounds nor lengths; Gemini's
 * OpenAPI subset takes lengths but not exclusive bounds): the constraints a mode
 * accepts stay keywords, the others are said in the field's description
 * (`Constraints: exactly 3 characters.`), so the model still reads every rule. Nothing
 * is lost either way: every answer is checked against the full schema (validate.ts).
 * The provider files hold their modes' tables, with sources.
 */
import { CONSTRAINT_KEYWORDS, type ConstraintKeyword, describeConstraints } from './constraints.js';
import { FORMAT_DESCRIPTIONS } from './formats.js';
import { setOwn } from './objects.js';
import type { ObjectSchema, SchemaNode } from './types.js';

/** What one structured-output mode accepts besides types, enums and objects. */
export interface StructuredOutputSupport {
  /** Constraint keywords the mode accepts. */
  keywords: ReadonlySet<ConstraintKeyword>;
  /** String formats the mode accepts. */
  formats: ReadonlySet<string>;
  /**
   * Whether the mode accepts this keyword with this node's value (Anthropic: `minItems`
   * 0 or 1 only, regular expressions without lookaround); default: yes.
   */
  accepts?: (keyword: ConstraintKeyword, node: SchemaNode) => boolean;
}

const built = new WeakMap<SchemaNode, Map<StructuredOutputSupport, ObjectSchema>>();

/** `schema` as `support`'s mode accepts it; computed once per pattern and mode. */
export function requestSchema(schema: ObjectSchema, support: StructuredOutputSupport): ObjectSchema {
  let forSchema = built.get(schema);
  if (!forSchema) {
    forSchema = new Map();
    built.set(schema, forSchema);
  }
  let out = forSchema.get(support);
  if (!out) {
    out = adaptNode(schema, support) as ObjectSchema;
    forSchema.set(support, out);
  }
  return out;
}

function adaptNode(node: SchemaNode, support: StructuredOutputSupport): SchemaNode {
  const out: SchemaNode = { ...node };
  const moved: ConstraintKeyword[] = [];
  for (const keyword of CONSTRAINT_KEYWORDS) {
    if (node[keyword] === undefined) continue;
    const accepted = support.keywords.has(keyword) && (support.accepts?.(keyword, node) ?? true);
    if (!accepted) {
      moved.push(keyword);
      delete out[keyword];
    }
  }
  const notes: string[] = [];
  if (node.format !== undefined && !support.formats.has(node.format)) {
    notes.push(`Format: ${FORMAT_DESCRIPTIONS[node.format] ?? node.format}.`);
    delete out.format;
  }
  const said = describeConstraints(node, moved);
  if (said.length > 0) notes.push(`Constraints: ${said.join('; ')}.`);
  if (notes.length > 0) out.description = [node.description, ...notes].filter(Boolean).join(' ');
  if (node.properties) {
    const properties: Record<string, SchemaNode> = {};
    for (const [key, child] of Object.entries(node.properties))
      setOwn(properties, key, adaptNode(child, support));
    out.properties = properties;
  }
  if (node.items) out.items = adaptNode(node.items, support);
  return out;
}
