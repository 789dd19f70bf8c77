/**
 * Input resolution: how an input is named in records and messages, which inputs are local
 * files (only those can be proven unchanged by the stat memo), and the source an input
 * stream's item stands for.
 */
import { dataUriPreview, decodeDataUri } from '../image/data-uri.js';
import { type ImageSource, isDataUri, isUrl } from '../image/source.js';
import type { InputItem } from '../runs/inputs.js';
import { redactUrl } from '../secrets.js';

/** The input's name in records: its path or URL, never a data URI's content. */
export function labelOf(source: ImageSource): string {
  if (typeof source === 'string') return isDataUri(source) ? dataUriName(source) : source;
  if (source instanceof Uint8Array) return `<${source.length} bytes>`;
  if ('path' in source) return source.path;
  if ('url' in source) return redactUrl(source.url);
  return source.name ?? '<in-memory image>';
}

/** A data URI's short stable id (`data:image/png;sha256=…`), or its preview when it cannot be decoded. */
function dataUriName(uri: string): string {
  try {
    return decodeDataUri(uri).label;
  } catch {
    return dataUriPreview(uri);
  }
}

/** The local file behind a source, if it is one. */
export function filePathOf(source: ImageSource): string | undefined {
  if (typeof source === 'string') return isUrl(source) || isDataUri(source) ? undefined : source;
  if (source instanceof Uint8Array) return undefined;
  return 'path' in source ? source.path : undefined;
}

/** The source a readable item of an input stream stands for. */
export function sourceOfItem(item: InputItem & { kind: 'file' | 'url' | 'data' }): ImageSource {
  if (item.kind === 'data') return { bytes: item.bytes, name: item.label };
  return item.kind === 'file' ? { path: item.path } : { url: item.url };
}
