/**
 * What an ingest request carries, in every variant ImgGo's server, docs and clients
 * use: a multipart upload in field `image` (or `file`), JSON `image_url` or
 * `image_base64`; `idempotency_key` in the body or an `Idempotency-Key` header;
 * `extras` (or the docs' `metadata`) and a per-ingest `webhook_url`.
 *
 * Uploads are streamed: the file part is hashed as it arrives and cut off at the size
 * limit (busboy drains the rest without keeping it). Bytes from any source are sniffed:
 * only image formats and documents (PDF, multi-page TIFF, HEIC: ingest-document.ts) the
 * pipeline reads are accepted, so an HTML page or a text file is refused at the door, not
 * after a queue wait.
 */
import { createHash } from 'node:crypto';
import type { MultipartFile, MultipartValue } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { readImageHeader } from '../image/read-header.js';
import { requireSupportedFormat } from '../image/sniff.js';
import { loadSource } from '../image/source.js';
import { ApiError } from './api-error.js';
import { admitDocument } from './ingest-document.js';

export interface IngestImage {
  bytes: Buffer;
  sha256: string;
  mediaType: string;
  /** Documents only: pages the document has (the worker reads them as one job). */
  pages?: number;
  /** How records name it: the URL (credentials hidden) or `upload:<name>`. */
  label: string;
  /** The URL it was fetched from, for JSON `image_url` ingests. */
  url: string | null;
}

export interface IngestInput {
  image: IngestImage;
  idempotencyKey: string | null;
  extras: Record<string, unknown> | null;
  webhookUrl: string | null;
}

export interface IngestLimits {
  /** Largest image accepted, bytes (uploads, base64 and fetched URLs alike). */
  maxBytes: number;
  /** Let `image_url` point at loopback and private addresses (tests, intranets). */
  allowPrivateUrls: boolean;
  /** Time to fetch an `image_url`, ms. */
  fetchTimeoutMs: number;
  /** Most pages one document may have (default 50, as `run --max-pages`). */
  maxPages?: number;
}

/** Body fields besides the image, from JSON or multipart text fields. */
interface Fields {
  image_url?: unknown;
  image_base64?: unknown;
  idempotency_key?: unknown;
  extras?: unknown;
  metadata?: unknown;
  webhook_url?: unknown;
}

/** Printable ASCII, 1–255 characters: ImgGo's key pattern plus what its clients send (dots, spaces). */
const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/;

const invalid = (message: string, field: string) => new ApiError(400, 'validation_error', message, { field });

/** The request's idempotency key (header or body; they must agree when both are given). */
export function idempotencyKeyOf(header: unknown, body: unknown): string | null {
  const values = [header, body]
    .map((v) => (Array.isArray(v) ? v[0] : v))
    .filter((v): v is unknown => v !== undefined && v !== null && v !== '');
  const keys = values.map((value) => {
    const key = typeof value === 'string' ? value.trim() : '';
    if (!IDEMPOTENCY_KEY.test(key))
      throw invalid('the idempotency key must be 1-255 printable ASCII characters', 'idempotency_key');
    return key;
  });
  if (keys.length === 2 && keys[0] !== keys[1])
    throw invalid('the Idempotency-Key header and the idempotency_key field differ', 'idempotency_key');
  return keys[0] ?? null;
}

function extrasOf(fields: Fields): Record<string, unknown> | null {
  let value = fields.extras ?? fields.metadata;
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw invalid('extras must be a JSON object', 'extras');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('extras must be a JSON object', 'extras');
  return value as Record<string, unknown>;
}

function webhookUrlOf(fields: Fields): string | null {
  const value = fields.webhook_url;
  if (value === undefined || value === null || value === '') return null;
  // Its scheme, credentials and address are checked by acceptWebhookUrl (400 invalid_webhook_url).
  if (typeof value === 'string') return value;
  throw invalid('webhook_url must be a string', 'webhook_url');
}

/** 400 `image_too_large`: an image (upload, base64, URL or a JSON body holding one) over `maxBytes` bytes. */
export const imageTooLarge = (maxBytes: number) =>
  new ApiError(400, 'image_too_large', `Image exceeds the maximum size of ${maxBytes} bytes`, {
    max_bytes: maxBytes,
  });

async function identify(
  bytes: Buffer,
  label: string,
  url: string | null,
  limits: IngestLimits,
): Promise<IngestImage> {
  const document = await admitDocument(bytes, label, limits.maxPages);
  if (document) {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return { bytes, sha256, mediaType: document.mediaType, label, url, pages: document.pages };
  }
  const format = requireSupportedFormat(bytes, label);
  await readImageHeader(bytes, label, format);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { bytes, sha256, mediaType: `image/${format}`, label, url };
}

/**
 * Reads one uploaded file to the end, keeping at most `maxBytes`: past that busboy cuts
 * the part off and drains the rest, so the client still gets a clean answer.
 */
async function readUpload(part: MultipartFile, maxBytes: number): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of part.file as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= maxBytes) chunks.push(chunk);
  }
  if (part.file.truncated || size > maxBytes) return 'too-large';
  return Buffer.concat(chunks, size);
}

async function fromMultipart(
  request: FastifyRequest,
  limits: IngestLimits,
): Promise<{ fields: Fields; upload?: { bytes: Buffer; name: string } }> {
  const fields: Record<string, unknown> = {};
  let upload: { bytes: Buffer; name: string } | undefined;
  let oversized = false;
  /** Files in the image fields after the first: one ingest is one image, never the first of several. */
  let extraImages = 0;
  /** Fields of files this route does not read ('photo', 'upload'), named when no image came. */
  const otherFileFields = new Set<string>();
  try {
    // Every part is read to the end, even after a bad one: the answer goes out once the request is in.
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        const ours = part.fieldname === 'image' || part.fieldname === 'file';
        if (!ours) otherFileFields.add(part.fieldname);
        else if (upload || oversized) extraImages += 1;
        if (!ours || upload || oversized) {
          part.file.resume(); // not read: drain it
          continue;
        }
        const bytes = await readUpload(part, limits.maxBytes);
        if (bytes === 'too-large') oversized = true;
        else upload = { bytes, name: part.filename || 'upload' };
      } else {
        fields[part.fieldname] = (part as MultipartValue).value;
      }
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // More file parts than the multipart limit (app.ts) reads: still one image per ingest.
    if (code === 'FST_FILES_LIMIT') extraImages = Math.max(extraImages, 2);
    else if (code === 'FST_REQ_FILE_TOO_LARGE') oversized = true;
    else throw error;
  }
  if (oversized) throw imageTooLarge(limits.maxBytes);
  if (extraImages > 0)
    throw invalid(
      `send one image per ingest, one file in field 'image' or 'file': ${extraImages + 1} or more files came`,
      'image',
    );
  const named = fields.image_url !== undefined || fields.image_base64 !== undefined;
  if (!upload && !named && otherFileFields.size > 0)
    throw new ApiError(
      400,
      'missing_field',
      `No image: the file came in field '${[...otherFileFields].join("', '")}'; send it in field 'image' (or 'file')`,
      { field: 'image' },
    );
  return { fields, ...(upload ? { upload } : {}) };
}

/** Everything an ingest request says. Throws ApiError (400) for a missing, bad or unreadable image. */
export async function readIngest(request: FastifyRequest, limits: IngestLimits): Promise<IngestInput> {
  const multipart = request.isMultipart();
  const { fields, upload } = multipart
    ? await fromMultipart(request, limits)
    : { fields: (request.body ?? {}) as Fields, upload: undefined };
  const sources = [upload, fields.image_url, fields.image_base64].filter((s) => s !== undefined && s !== '');
  if (sources.length === 0) {
    throw new ApiError(
      400,
      'missing_field',
      "No image: send a multipart file in field 'image' (or 'file'), or JSON image_url or image_base64",
      { field: 'image' },
    );
  }
  if (sources.length > 1)
    throw invalid('send one image: a file, image_url or image_base64, not several', 'image');

  let image: IngestImage;
  if (upload) {
    image = await identify(upload.bytes, `upload:${upload.name}`, null, limits);
  } else if (fields.image_url !== undefined) {
    const url = fields.image_url;
    if (typeof url !== 'string' || !/^https?:\/\//i.test(url))
      throw invalid('image_url must be an http(s) URL', 'image_url');
    const loaded = await loadSource(
      { url },
      {
        maxInputBytes: limits.maxBytes,
        allowPrivateNetworks: limits.allowPrivateUrls,
        timeoutMs: limits.fetchTimeoutMs,
      },
    );
    image = await identify(loaded.bytes, loaded.label, url, limits);
  } else {
    if (typeof fields.image_base64 !== 'string')
      throw invalid('image_base64 must be a string', 'image_base64');
    const loaded = await loadSource(
      { base64: fields.image_base64, name: 'image_base64' },
      { maxInputBytes: limits.maxBytes },
    );
    image = await identify(loaded.bytes, 'upload:image_base64', null, limits);
  }
  return {
    image,
    idempotencyKey: idempotencyKeyOf(request.headers['idempotency-key'], fields.idempotency_key),
    extras: extrasOf(fields),
    webhookUrl: webhookUrlOf(fields),
  };
}
