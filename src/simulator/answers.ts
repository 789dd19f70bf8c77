/**
 * What the simulated models answer. `local` runs the repository's offline engine on the
 * pixels the simulator received, with the schema from the request, so a smaller image
 * really reads worse; `empty` answers the schema's empty output; a function answers
 * whatever it returns.
 */
import sharp from 'sharp';
import { sha256 } from '../image/fingerprint.js';
import { SIZE_PROFILES, type SizeLimits, targetSize } from '../image/profiles.js';
import { emptyOutput } from '../patterns/empty-output.js';
import type { ObjectSchema, Pattern, SchemaNode } from '../patterns/types.js';
import { LocalProvider } from '../providers/local.js';
import type { ProviderImage } from '../providers/spec.js';
import type { AnswerFn, SimCall, SimImage } from './types.js';

export class BadImageError extends Error {}

/** Decodes enough of the image to know its size (the token formulas need it). */
export async function readImage(data: Buffer): Promise<SimImage> {
  try {
    const meta = await sharp(data).metadata();
    if (!meta.width || !meta.height || !meta.format) throw new Error('no dimensions');
    return { data, width: meta.width, height: meta.height, format: meta.format };
  } catch (error) {
    throw new BadImageError(`not an image: ${(error as Error).message}`);
  }
}

/** Fetches an image URL the way the provider would (OpenAI and ImgGo fetch `image_url`s). */
export async function fetchImage(url: string, signal?: AbortSignal): Promise<SimImage> {
  let response: Response;
  try {
    response = await fetch(url, signal ? { signal } : {});
  } catch (error) {
    throw new BadImageError(`error while downloading ${url}: ${(error as Error).message}`);
  }
  if (!response.ok) throw new BadImageError(`error while downloading ${url}: HTTP ${response.status}`);
  return readImage(Buffer.from(await response.arrayBuffer()));
}

function isObjectSchema(
  schema: Record<string, unknown> | undefined,
): schema is Record<string, unknown> & ObjectSchema {
  return (
    schema !== undefined &&
    schema.type === 'object' &&
    typeof schema.properties === 'object' &&
    schema.properties !== null
  );
}

/**
 * What the real model would see: every API shrinks large images to its native resolution
 * before the model reads them, so sending more pixels than that buys no accuracy. The
 * simulated model reads the image at that size too.
 */
export function seenLimits(call: SimCall): SizeLimits {
  switch (call.api) {
    case 'openai':
      return call.detail === 'low' ? SIZE_PROFILES['openai-low'] : SIZE_PROFILES['openai-high'];
    case 'anthropic':
      return SIZE_PROFILES.anthropic;
    case 'gemini':
      return { maxLongEdge: 3072 };
    case 'imggo':
      return SIZE_PROFILES.max2048;
  }
}

async function asSeen(image: SimImage, limits: SizeLimits): Promise<SimImage> {
  const size = targetSize(image.width, image.height, limits);
  if (!size.resized) return image;
  const data = await sharp(image.data, { autoOrient: true })
    .resize(size.width, size.height, { fit: 'fill' })
    .jpeg({ quality: 90 })
    .toBuffer();
  return { data, width: size.width, height: size.height, format: 'jpeg' };
}

function providerImage(image: SimImage): ProviderImage {
  const format = image.format === 'png' || image.format === 'webp' ? image.format : 'jpeg';
  return { data: image.data, format, width: image.width, height: image.height, sha256: sha256(image.data) };
}

function patternFor(schema: ObjectSchema, prompt: string): Pattern {
  return {
    name: 'simulated',
    instructions: prompt,
    format: 'json',
    version: '1',
    schema,
    requiredFields: [],
    hints: {},
    fingerprint: 'simulated',
    origin: 'simulator',
    warnings: [],
  };
}

export class Answerer {
  private local: LocalProvider | undefined;

  constructor(
    private readonly mode: 'local' | 'empty' | AnswerFn,
    private readonly localWorkers: number,
  ) {}

  /** The structured output (extract) or `true`/`false`/text (ask). */
  async answer(call: SimCall, signal: AbortSignal): Promise<unknown> {
    if (typeof this.mode === 'function') return this.mode(call);
    const schema = isObjectSchema(call.schema) ? call.schema : undefined;
    if (this.mode === 'empty') {
      if (call.kind === 'ask') return true;
      return schema ? emptyOutput(schema) : {};
    }
    this.local ??= new LocalProvider({ workers: this.localWorkers });
    const image = providerImage(await asSeen(call.image, seenLimits(call)));
    if (call.kind === 'ask') {
      const verdict = await this.local.ask(
        {
          image,
          question: call.prompt,
          model: 'tesseract-eng',
          ...(schema ? { pattern: patternFor(schema, call.prompt) } : {}),
        },
        signal,
      );
      return verdict.answer;
    }
    if (!schema) return {};
    const pages: ProviderImage[] = [];
    for (const page of call.pages ?? []) pages.push(providerImage(await asSeen(page, seenLimits(call))));
    const result = await this.local.extract(
      {
        image,
        ...(pages.length > 0 ? { pages } : {}),
        pattern: patternFor(schema, call.prompt),
        model: 'tesseract-eng',
      },
      signal,
    );
    return result.output;
  }

  async close(): Promise<void> {
    await this.local?.close();
  }
}

/** The text a model gives for an `ask`: "Yes"/"No" for booleans, the text as is otherwise. */
export function askAnswerText(answer: unknown): string {
  if (typeof answer === 'boolean') return answer ? 'Yes' : 'No';
  return typeof answer === 'string' ? answer : JSON.stringify(answer);
}

/** Gemini's responseSchema (OpenAPI subset) back to JSON Schema, for the local engine. */
export function fromGeminiSchema(node: Record<string, unknown>): SchemaNode {
  const nullable = node.nullable === true;
  if (Array.isArray(node.anyOf)) {
    const types = node.anyOf.flatMap((n) => fromGeminiSchema(n as Record<string, unknown>).type);
    return { type: nullable ? [...types, 'null'] : types } as SchemaNode;
  }
  const base = String(node.type ?? 'STRING').toLowerCase() as Exclude<SchemaNode['type'], unknown[]>;
  const out: SchemaNode = { type: nullable ? [base, 'null'] : base };
  if (typeof node.title === 'string') out.title = node.title;
  if (typeof node.description === 'string') {
    const match = /(?:^|; )format: ([\w-]+)$/.exec(node.description);
    const description = match ? node.description.slice(0, match.index) : node.description;
    if (description !== '') out.description = description;
    if (match) out.format = match[1]!;
  }
  if (node.format === 'date-time') out.format = 'date-time';
  if (Array.isArray(node.enum))
    out.enum = nullable ? [...(node.enum as string[]), null] : (node.enum as string[]);
  if (node.properties && typeof node.properties === 'object') {
    const properties = node.properties as Record<string, Record<string, unknown>>;
    const order = Array.isArray(node.propertyOrdering)
      ? (node.propertyOrdering as string[])
      : Object.keys(properties);
    out.properties = Object.fromEntries(order.map((key) => [key, fromGeminiSchema(properties[key] ?? {})]));
    out.required = Array.isArray(node.required) ? (node.required as string[]) : order;
    out.additionalProperties = false;
  }
  if (node.items && typeof node.items === 'object')
    out.items = fromGeminiSchema(node.items as Record<string, unknown>);
  return out;
}
