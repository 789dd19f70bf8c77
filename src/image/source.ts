/**
 * Image sources: a file path, an http(s) URL, a data URI, base64 text or bytes in
 * memory. Every source becomes bytes plus a label that names it in messages and
 * records; every failure is a VisionpipeError naming the input.
 */
import { readFile, stat } from 'node:fs/promises';
import { sizeText } from '../config/sizes.js';
import { VisionpipeError } from '../errors.js';
import { formatBytes } from '../report/units.js';
import { decodeDataUri as decodeDataUriText, isDataUri } from './data-uri.js';
import { type FetchLimits, fetchUrlBytes, redactUrl } from './fetch-url.js';
import { DEFAULT_MAX_INPUT_BYTES } from './input-limits.js';

export type ImageSource =
  | string
  | Uint8Array
  | { path: string }
  | { url: string }
  | { base64: string; name?: string }
  | { bytes: Uint8Array; name?: string };

export type SourceKind = 'file' | 'url' | 'base64' | 'bytes';

export interface SourceLimits extends FetchLimits {
  /** Largest input accepted from any source, in bytes. Default 50 MB. */
  maxInputBytes?: number;
  /**
   * Let a provider fetch a URL input itself instead of receiving the prepared bytes (CLI
   * `--pass-urls`). Off by default; even on, only for URLs without credentials, with private
   * networks closed, when preprocessing changed and stripped nothing. Default false.
   */
  passUrls?: boolean;
}

export interface LoadedSource {
  kind: SourceKind;
  /** How the input is named in messages and records (URLs with credentials redacted). */
  label: string;
  bytes: Buffer;
}

export { DEFAULT_MAX_INPUT_BYTES };

const BASE64_BODY = /^[A-Za-z0-9+/_-]*={0,2}$/;

export function isUrl(value: string): boolean {
  return /^https?:\/\//i.test(value);
}

export { isDataUri };

/** A short label for an in-memory source; the full base64 text never goes into messages. */
function memoryLabel(kind: 'base64' | 'bytes', name: string | undefined, length: number): string {
  return name ?? `<${kind} ${length} bytes>`;
}

function decodeBase64(text: string, label: string, maxBytes: number): Buffer {
  const compact = text.replace(/\s+/g, '');
  if (!BASE64_BODY.test(compact)) {
    throw new VisionpipeError('INVALID_INPUT', `${label}: not valid base64`, { input: label });
  }
  if (Math.floor((compact.length * 3) / 4) > maxBytes + 2) {
    throw new VisionpipeError(
      'INPUT_TOO_LARGE',
      `${label}: decoded size exceeds the ${sizeText(maxBytes)} input limit`,
      {
        input: label,
      },
    );
  }
  return Buffer.from(compact, compact.includes('-') || compact.includes('_') ? 'base64url' : 'base64');
}

/** A data URI named by its short stable id (`data:image/png;sha256=…`), never by its text. */
function decodeDataUri(uri: string, maxBytes: number): LoadedSource {
  const decoded = decodeDataUriText(uri, maxBytes);
  return { kind: 'base64', label: decoded.label, bytes: decoded.bytes };
}

function checkSize(bytes: Buffer, label: string, maxBytes: number): Buffer {
  if (bytes.length > maxBytes) {
    throw new VisionpipeError(
      'INPUT_TOO_LARGE',
      `${label}: ${formatBytes(bytes.length)} exceeds the ${sizeText(maxBytes)} input limit`,
      {
        input: label,
      },
    );
  }
  return bytes;
}

export async function readFileSource(path: string, maxBytes: number): Promise<LoadedSource> {
  const label = path;
  try {
    const info = await stat(path);
    if (!info.isFile()) {
      throw new VisionpipeError('READ_FAILED', `${label}: not a regular file`, { input: label });
    }
    if (info.size > maxBytes) {
      throw new VisionpipeError(
        'INPUT_TOO_LARGE',
        `${label}: ${formatBytes(info.size)} exceeds the ${sizeText(maxBytes)} input limit`,
        {
          input: label,
        },
      );
    }
    return { kind: 'file', label, bytes: checkSize(await readFile(path), label, maxBytes) };
  } catch (error) {
    if (error instanceof VisionpipeError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new VisionpipeError('NOT_FOUND', `${label}: no such file`, { input: label, cause: error });
    }
    throw new VisionpipeError('READ_FAILED', `${label}: ${(error as Error).message}`, {
      input: label,
      cause: error,
    });
  }
}

/** Loads any supported source into memory, enforcing `maxInputBytes` before or while reading. */
export async function loadSource(source: ImageSource, limits: SourceLimits = {}): Promise<LoadedSource> {
  const maxBytes = limits.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES;
  if (typeof source === 'string') {
    if (isUrl(source)) return loadSource({ url: source }, limits);
    if (isDataUri(source)) return decodeDataUri(source, maxBytes);
    if (source.length === 0) throw new VisionpipeError('INVALID_INPUT', 'empty string is not an input');
    return readFileSource(source, maxBytes);
  }
  if (source instanceof Uint8Array) {
    const label = memoryLabel('bytes', undefined, source.length);
    return { kind: 'bytes', label, bytes: checkSize(toBuffer(source), label, maxBytes) };
  }
  if ('path' in source) return readFileSource(source.path, maxBytes);
  if ('url' in source) {
    const fetched = await fetchUrlBytes(source.url, {
      ...limits,
      maxBytes: Math.min(maxBytes, limits.maxBytes ?? maxBytes),
    });
    return { kind: 'url', label: redactUrl(source.url), bytes: fetched.bytes };
  }
  if ('base64' in source) {
    const label = memoryLabel('base64', source.name, source.base64.length);
    if (isDataUri(source.base64)) return { ...decodeDataUri(source.base64, maxBytes), label };
    return { kind: 'base64', label, bytes: decodeBase64(source.base64, label, maxBytes) };
  }
  if ('bytes' in source && source.bytes instanceof Uint8Array) {
    const label = memoryLabel('bytes', source.name, source.bytes.length);
    return { kind: 'bytes', label, bytes: checkSize(toBuffer(source.bytes), label, maxBytes) };
  }
  throw new VisionpipeError(
    'INVALID_INPUT',
    'input must be a path, URL, data URI, {base64}, {bytes} or a Buffer',
  );
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
