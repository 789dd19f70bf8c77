/**
 * `data:` URIs as inputs (`data:image/png;base64,iVBOR…`, a PDF too). A data URI can be
 * megabytes of text: it is never printed, stored or logged whole. Records, messages and
 * logs name it by a short stable id, `data:image/png;sha256=<16 hex>` (the decoded
 * content's hash), and a malformed one by its first characters and its length.
 */
import { createHash } from 'node:crypto';
import { sizeText } from '../config/sizes.js';
import { VisionpipeError } from '../errors.js';

/** How many characters of a data URI's body a message shows. */
const PREVIEW_BODY_CHARS = 12;
const BASE64_BODY = /^[A-Za-z0-9+/_-]*={0,2}$/;

export function isDataUri(value: string): boolean {
  return /^data:/i.test(value);
}

/**
 * The data URI as messages show it: its header and the first characters of its body, then
 * its length, e.g. `data:image/png;base64,iVBORw0KGgoA…(12,345 chars)`.
 */
export function dataUriPreview(uri: string): string {
  const comma = uri.indexOf(',');
  const header = (comma === -1 ? uri : uri.slice(0, comma + 1)).slice(0, 64);
  const body = comma === -1 ? '' : uri.slice(comma + 1, comma + 1 + PREVIEW_BODY_CHARS);
  const shown = `${header}${body}`;
  return shown.length >= uri.length ? uri : `${shown}…(${uri.length.toLocaleString('en-US')} chars)`;
}

/** The stable short name of decoded data-URI content: `data:<media type>;sha256=<16 hex>`. */
export function dataUriLabel(mediaType: string, bytes: Uint8Array): string {
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  return `data:${mediaType};sha256=${hash}`;
}

export interface DecodedDataUri {
  /** The declared media type (`image/png`, `application/pdf`), `application/octet-stream` when none. */
  mediaType: string;
  bytes: Buffer;
  /** `data:<media type>;sha256=<16 hex>`. */
  label: string;
}

function invalid(uri: string, problem: string): VisionpipeError {
  const input = dataUriPreview(uri);
  return new VisionpipeError('INVALID_INPUT', `${input}: ${problem}`, { input });
}

/**
 * Decodes a base64 data URI. Throws INVALID_INPUT naming the URI by its preview and the
 * problem (no comma, not base64, a character that is not base64, no data), and
 * INPUT_TOO_LARGE when the decoded size would exceed `maxBytes`.
 */
export function decodeDataUri(uri: string, maxBytes: number = Number.POSITIVE_INFINITY): DecodedDataUri {
  const comma = uri.indexOf(',');
  if (comma === -1) throw invalid(uri, 'not a data URI: no "," before the data');
  const header = uri.slice(5, comma);
  const params = header.split(';');
  if (params.at(-1)?.toLowerCase() !== 'base64')
    throw invalid(uri, 'only base64 data URIs are supported (";base64," before the data)');
  const mediaType = (params[0] ?? '').trim().toLowerCase() || 'application/octet-stream';
  if (!/^[a-z0-9.+-]+\/[a-z0-9.+-]+$/.test(mediaType))
    throw invalid(uri, `"${mediaType.slice(0, 40)}" is not a media type`);
  const body = uri.slice(comma + 1).replace(/\s+/g, '');
  if (body.length === 0) throw invalid(uri, 'no data after ","');
  if (!BASE64_BODY.test(body)) {
    const at = body.search(/[^A-Za-z0-9+/_=-]/);
    const problem =
      at === -1
        ? 'not valid base64 ("=" inside the data)'
        : `not valid base64 (character ${JSON.stringify(body[at])} at ${at + 1})`;
    throw invalid(uri, problem);
  }
  if (Math.floor((body.length * 3) / 4) > maxBytes + 2) {
    const input = dataUriPreview(uri);
    throw new VisionpipeError(
      'INPUT_TOO_LARGE',
      `${input}: decoded size exceeds the ${sizeText(maxBytes)} input limit`,
      {
        input,
      },
    );
  }
  const bytes = Buffer.from(body, body.includes('-') || body.includes('_') ? 'base64url' : 'base64');
  if (bytes.length === 0) throw invalid(uri, 'no data after ","');
  return { mediaType, bytes, label: dataUriLabel(mediaType, bytes) };
}
