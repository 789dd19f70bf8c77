/**
 * ImgGo's OpenAPI file (shared folder, used by path) as response validators. The file says
 * OpenAPI 3.1 but writes 3.0 (`nullable: true`, boolean `exclusiveMinimum`); both are
 * turned into JSON Schema 2020-12 here, `$ref`s are inlined, and ajv checks formats
 * (uuid, date-time, uri).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

export const IMGGO_API_DIR =
  [
    process.env.VISIONPIPE_IMGGO_API_DIR,
    path.resolve(import.meta.dirname, '../../../shared/imggo-api'),
    '/work/shared/imggo-api',
  ].find((dir): dir is string => dir !== undefined && existsSync(dir)) ??
  path.resolve(import.meta.dirname, '../../../shared/imggo-api');

export const OPENAPI_FILE = path.join(IMGGO_API_DIR, 'examples/public/openapi.yaml');

type Node = Record<string, unknown>;

interface OpenApi {
  components: { schemas: Record<string, Node> };
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: Node }> }> }>
  >;
}

function convert(node: unknown, components: Record<string, Node>): unknown {
  if (Array.isArray(node)) return node.map((n) => convert(n, components));
  if (typeof node !== 'object' || node === null) return node;
  const source = node as Node;
  if (typeof source.$ref === 'string') {
    const name = source.$ref.replace('#/components/schemas/', '');
    return convert(components[name], components);
  }
  const out: Node = {};
  for (const [key, value] of Object.entries(source)) {
    if (key === 'example' || key === 'nullable') continue;
    out[key] = convert(value, components);
  }
  if (source.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
  }
  if (source.exclusiveMinimum === true) {
    out.exclusiveMinimum = out.minimum;
    delete out.minimum;
  }
  return out;
}

export class Contract {
  private readonly doc: OpenApi;
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(file = OPENAPI_FILE) {
    this.doc = parse(readFileSync(file, 'utf8')) as OpenApi;
    addFormats.default(this.ajv);
  }

  /** A component schema, e.g. `CreatePatternRequest`, with its example. */
  component(name: string): Node {
    return this.doc.components.schemas[name]!;
  }

  /** Errors of a response body against the file's schema for it (empty when it conforms). */
  check(method: string, route: string, status: number, body: unknown): string[] {
    const id = `${method} ${route} ${status}`;
    let validate = this.compiled.get(id);
    if (!validate) {
      const response = this.doc.paths[route]?.[method.toLowerCase()]?.responses[String(status)];
      const schema = response?.content?.['application/json']?.schema;
      if (!schema) return [`the OpenAPI file has no JSON response for ${id}`];
      validate = this.ajv.compile(convert(schema, this.doc.components.schemas) as Node);
      this.compiled.set(id, validate);
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
  }
}
