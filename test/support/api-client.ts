/** A small HTTP client for service tests: JSON or multipart in, status/headers/body out. */
import sharp from 'sharp';

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the text when the answer is not JSON. */
  body: T;
  text: string;
}

export interface CallOptions {
  key?: string;
  json?: unknown;
  form?: FormData;
  headers?: Record<string, string>;
}

/** Calls `${base}${path}`; `base` is the service's `/api` URL. */
export async function call<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let body: string | FormData | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form) body = options.form;
  const response = await fetch(`${base}${path}`, { method, headers, ...(body ? { body } : {}) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

/** A pattern as POST /patterns takes it. */
export interface PatternBody {
  name: string;
  instructions: string;
  json_schema: Record<string, unknown>;
}

/** Creates `pattern` through POST /patterns with `key`; resolves with its id (throws unless 201). */
export async function createPattern(base: string, key: string, pattern: PatternBody): Promise<string> {
  const created = await call<{ data: { id: string } }>(base, 'POST', '/patterns', { key, json: pattern });
  if (created.status !== 201) throw new Error(`POST /patterns answered ${created.status}: ${created.text}`);
  return created.body.data.id;
}

/** A multipart form with the image in `field` (ImgGo's `image`, or the docs' `file`). */
export function imageForm(bytes: Buffer, name = 'image.jpg', field = 'image', type = 'image/jpeg'): FormData {
  const form = new FormData();
  form.set(field, new Blob([new Uint8Array(bytes)], { type }), name);
  return form;
}

/** A distinct small JPEG per seed (distinct bytes, so distinct work). */
export function distinctJpeg(seed: number, size = 64): Promise<Buffer> {
  const colour = `#${((seed * 2_654_435_761) >>> 8).toString(16).padStart(6, '0').slice(0, 6)}`;
  return sharp({ create: { width: size, height: size, channels: 3, background: colour } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** A JPEG of random pixels: it does not compress, so its size follows its dimensions (~3 bytes a pixel). */
export function noiseJpeg(width: number, height = width): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 2_654_435_761) >>> 24;
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 100 })
    .toBuffer();
}

export interface JobData {
  id: string;
  status: string;
  manifest: Record<string, unknown> | null;
  error: string | null;
  error_code: string | null;
  cache: string | null;
  cost_usd: number | null;
  attempts: number;
  [key: string]: unknown;
}

/** Polls a job until it succeeds or fails (every 100 ms, up to `timeoutMs`). */
export async function waitForJob(
  base: string,
  key: string,
  id: string,
  timeoutMs = 60_000,
): Promise<JobData> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await call<{ data: JobData }>(base, 'GET', `/jobs/${id}`, { key });
    const job = answer.body.data;
    if (job && (job.status === 'succeeded' || job.status === 'failed')) return job;
    if (Date.now() > deadline)
      throw new Error(`job ${id} still ${job?.status ?? answer.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
