/**
 * Budgets for hostile patterns. A pattern file is untrusted input (teams share them, the
 * service accepts them over HTTP), and a few kilobytes can describe gigabytes: `$defs`
 * that each reference the previous one twice double at every level. Every budget is
 * checked while the pattern loads, before any provider is called, and a pattern over one
 * fails with INVALID_PATTERN naming the limit (`pattern limit schemaNodes (10000)
 * exceeded …`), exit 2 in the CLI, 400 in the service.
 *
 * | limit         | value   | what it bounds                                                        |
 * |---------------|---------|-----------------------------------------------------------------------|
 * | fileBytes     | 1 MiB   | the pattern file or payload, read or parsed                           |
 * | sourceDepth   | 128     | nesting of objects and arrays in the pattern document as written      |
 * | sourceNodes   | 200 000 | objects, arrays and values in the document (YAML aliases counted each time) |
 * | schemaDepth   | 32      | nesting of fields (objects in objects, lists of lists) after `$ref`s are inlined |
 * | schemaNodes   | 10 000  | schema nodes (fields, list items) after `$ref`s are inlined           |
 * | schemaBytes   | 1 MiB   | the expanded schema as JSON, while `$ref`s are inlined (memory)        |
 * | enumValues    | 1 000   | values of one enum (or `const`)                                       |
 * | enumValuesTotal | 5 000 | values of every enum in the schema after `$ref`s are inlined          |
 * | promptBytes   | 256 KiB | the instructions plus the expanded schema as JSON: the text every request carries |
 * | refChain      | 32      | `$ref`s followed to resolve one field (`a` → `b` → `c` is 2)           |
 * | refSteps      | 1 000 000 | `$ref`s followed in the whole schema, each counting 1 plus the keywords of its target |
 * | minCount      | 100 000 | the `minLength` or `minItems` one field may require: no answer is that long |
 *
 * Constraints no answer can meet are refused too (`impossibleConstraint`): `minLength` over
 * `maxLength`, `minItems` over `maxItems`, `minimum` over `maximum` (or bounds that leave no
 * number with the exclusive ones). So are required fields whose value set is empty
 * (value-set.ts): a `const` outside the `enum`, `not: {}`, enum values of the wrong type or
 * outside the field's own constraints, a range holding no integer or no multiple of
 * `multipleOf`. A model's answer is at most 16 000-128 000 output
 * tokens, so a string or list required to hold more than `minCount` characters or items
 * would fail every image after it was paid for.
 *
 * Sources: OpenAI structured outputs accept at most 5 000 properties, 10 levels of
 * nesting and 1 000 enum values in all; the budgets leave room for other providers and the
 * local engine while keeping a pattern's cost in memory and time small and linear in its
 * size. The enum and prompt budgets bound what a pattern costs per image in prompt tokens:
 * one enum of 110 000 short values fits in 1 MiB and costs about $0.55 an image at $2.50
 * per million input tokens; 256 KiB is at most ~65 000 tokens (~$0.16 at that price), while
 * real patterns are a few kilobytes.
 */
import { invalidPattern } from './invalid.js';
import type { SchemaNode } from './types.js';

export const PATTERN_LIMITS = {
  fileBytes: 1024 * 1024,
  sourceDepth: 128,
  sourceNodes: 200_000,
  schemaDepth: 32,
  schemaNodes: 10_000,
  schemaBytes: 1024 * 1024,
  enumValues: 1_000,
  enumValuesTotal: 5_000,
  promptBytes: 256 * 1024,
  refChain: 32,
  refSteps: 1_000_000,
  minCount: 100_000,
} as const;

export type PatternLimitName = keyof typeof PATTERN_LIMITS;

/** A schema path short enough for a message: the root, or its last 80 characters. */
function shortPath(path: string): string {
  if (path === '') return 'the root';
  return path.length > 80 ? `…${path.slice(-80)}` : path;
}

/** The INVALID_PATTERN error for a budget that was exceeded; the message names the limit. */
export function overBudget(origin: string, limit: PatternLimitName, detail: string) {
  return invalidPattern(origin, `pattern limit ${limit} (${PATTERN_LIMITS[limit]}) exceeded: ${detail}`);
}

/**
 * Walks a parsed pattern document without recursion (a 100 000-deep document cannot
 * overflow the stack here) and refuses it when it nests deeper than `sourceDepth` or holds
 * more than `sourceNodes` values. Shared subtrees (YAML aliases) count each time they appear,
 * which is what they cost once expanded.
 */
export function checkSourceBudget(value: unknown, origin: string): void {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  let nodes = 0;
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop() as { value: unknown; depth: number };
    nodes += 1;
    if (nodes > PATTERN_LIMITS.sourceNodes)
      throw overBudget(
        origin,
        'sourceNodes',
        `the pattern holds more than ${PATTERN_LIMITS.sourceNodes} values`,
      );
    if (current === null || typeof current !== 'object') continue;
    if (depth >= PATTERN_LIMITS.sourceDepth)
      throw overBudget(
        origin,
        'sourceDepth',
        `the pattern nests deeper than ${PATTERN_LIMITS.sourceDepth} levels`,
      );
    const children = Array.isArray(current) ? current : Object.values(current);
    for (const child of children) stack.push({ value: child, depth: depth + 1 });
  }
}

/**
 * Counts schema nodes and expanded bytes while a schema is being built, so an exponential
 * `$ref` expansion stops at the budget instead of at the end of memory.
 */
export class SchemaBudget {
  private nodes = 0;
  private bytes = 0;
  private depth = 0;

  constructor(private readonly origin: string) {}

  /** Called on entering a node; `ownBytes` is the JSON size of its own keywords (not children). */
  enter(path: string, ownBytes: number): void {
    this.depth += 1;
    this.nodes += 1;
    this.bytes += ownBytes;
    if (this.depth > PATTERN_LIMITS.schemaDepth)
      throw overBudget(
        this.origin,
        'schemaDepth',
        `fields nest deeper than ${PATTERN_LIMITS.schemaDepth} levels at ${shortPath(path)}`,
      );
    if (this.nodes > PATTERN_LIMITS.schemaNodes)
      throw overBudget(
        this.origin,
        'schemaNodes',
        `the schema expands to more than ${PATTERN_LIMITS.schemaNodes} fields (reached at ${shortPath(path)}); check for $refs used many times`,
      );
    if (this.bytes > PATTERN_LIMITS.schemaBytes)
      throw overBudget(
        this.origin,
        'schemaBytes',
        `the schema expands to more than ${PATTERN_LIMITS.schemaBytes} bytes (reached at ${shortPath(path)})`,
      );
  }

  leave(): void {
    this.depth -= 1;
  }

  private refSteps = 0;

  /**
   * Called for each `$ref` followed: `chain` is how many were followed for this field so
   * far (this one included), `targetKeys` the keywords its target copies. A chain of 45 000
   * `$ref`s, or 9 000 fields each at the end of a 3 000-long chain, stops here at once
   * instead of costing minutes of CPU.
   */
  followRef(path: string, chain: number, targetKeys: number): void {
    this.refSteps += 1 + targetKeys;
    if (chain > PATTERN_LIMITS.refChain)
      throw overBudget(
        this.origin,
        'refChain',
        `more than ${PATTERN_LIMITS.refChain} $refs followed one after another at ${shortPath(path)}`,
      );
    if (this.refSteps > PATTERN_LIMITS.refSteps)
      throw overBudget(
        this.origin,
        'refSteps',
        `resolving the schema's $refs takes more than ${PATTERN_LIMITS.refSteps} steps (reached at ${shortPath(path)}); check for $refs used many times`,
      );
  }

  /** How many `$ref` steps were taken so far (tests read it). */
  get refStepsTaken(): number {
    return this.refSteps;
  }
}

/**
 * Checks a finished schema (whatever built it: a JSON Schema, an example object, example
 * YAML or XML, CSV columns, headings) against the schema budgets, without recursion.
 */
export function checkSchemaBudget(schema: SchemaNode, origin: string): void {
  const stack: Array<{ node: SchemaNode; depth: number; path: string }> = [
    { node: schema, depth: 1, path: '' },
  ];
  let nodes = 0;
  let bytes = 0;
  let enumValues = 0;
  while (stack.length > 0) {
    const { node, depth, path } = stack.pop() as { node: SchemaNode; depth: number; path: string };
    const { properties, items, ...own } = node;
    nodes += 1;
    bytes += JSON.stringify(own).length;
    const at = shortPath(path);
    // `null` is not counted: normalisation adds it to the enum of every nullable field.
    const values = own.enum?.filter((value) => value !== null).length ?? 0;
    enumValues += values;
    if (values > PATTERN_LIMITS.enumValues)
      throw overBudget(
        origin,
        'enumValues',
        `the enum at ${at} has ${values} values, more than ${PATTERN_LIMITS.enumValues}`,
      );
    if (enumValues > PATTERN_LIMITS.enumValuesTotal)
      throw overBudget(
        origin,
        'enumValuesTotal',
        `the schema's enums hold more than ${PATTERN_LIMITS.enumValuesTotal} values in all (reached at ${at})`,
      );
    if (depth > PATTERN_LIMITS.schemaDepth)
      throw overBudget(
        origin,
        'schemaDepth',
        `fields nest deeper than ${PATTERN_LIMITS.schemaDepth} levels at ${at}`,
      );
    if (nodes > PATTERN_LIMITS.schemaNodes)
      throw overBudget(
        origin,
        'schemaNodes',
        `the schema has more than ${PATTERN_LIMITS.schemaNodes} fields`,
      );
    if (bytes > PATTERN_LIMITS.schemaBytes)
      throw overBudget(
        origin,
        'schemaBytes',
        `the schema is larger than ${PATTERN_LIMITS.schemaBytes} bytes`,
      );
    checkSatisfiable(own, at, origin);
    for (const [key, child] of Object.entries(properties ?? {})) {
      bytes += key.length;
      stack.push({ node: child, depth: depth + 1, path: `${path}/${key}` });
    }
    if (items) stack.push({ node: items, depth: depth + 1, path: `${path}/*` });
  }
}

/**
 * Refuses constraints no answer can meet (INVALID_PATTERN naming the field, the keywords and
 * their values): a `minLength`/`minItems` over `minCount`, a minimum over its maximum.
 */
function checkSatisfiable(node: SchemaNode, at: string, origin: string): void {
  for (const key of ['minLength', 'minItems'] as const) {
    const value = node[key];
    if (value !== undefined && value > PATTERN_LIMITS.minCount)
      throw overBudget(
        origin,
        'minCount',
        `${key} ${value} at ${at}: no answer holds that many ${key === 'minLength' ? 'characters' : 'items'}`,
      );
  }
  const pairs: Array<[string, number | undefined, string, number | undefined, boolean]> = [
    ['minLength', node.minLength, 'maxLength', node.maxLength, false],
    ['minItems', node.minItems, 'maxItems', node.maxItems, false],
    ['minimum', node.minimum, 'maximum', node.maximum, false],
    ['exclusiveMinimum', node.exclusiveMinimum, 'maximum', node.maximum, true],
    ['minimum', node.minimum, 'exclusiveMaximum', node.exclusiveMaximum, true],
    ['exclusiveMinimum', node.exclusiveMinimum, 'exclusiveMaximum', node.exclusiveMaximum, true],
  ];
  for (const [lowKey, low, highKey, high, exclusive] of pairs) {
    if (low === undefined || high === undefined) continue;
    if (exclusive ? low >= high : low > high)
      throw invalidPattern(
        origin,
        `impossible constraint at ${at}: ${lowKey} ${low} is ${exclusive ? 'not below' : 'above'} ${highKey} ${high}, so no answer can meet it`,
      );
  }
}

/**
 * The text every request carries for a pattern: its instructions and its schema as JSON.
 * Over `promptBytes`, each image would pay for that many prompt tokens, so the pattern is
 * refused when it loads (checked after the schema budgets, which bound the expansion).
 */
export function checkPromptBudget(instructions: string, schema: SchemaNode, origin: string): void {
  const instructionBytes = Buffer.byteLength(instructions);
  const total = instructionBytes + Buffer.byteLength(JSON.stringify(schema));
  if (total > PATTERN_LIMITS.promptBytes)
    throw overBudget(
      origin,
      'promptBytes',
      `the instructions (${instructionBytes} bytes) and the schema sent with every image take ${total} bytes, more than ${PATTERN_LIMITS.promptBytes}`,
    );
}
