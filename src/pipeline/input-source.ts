/**
 * Input resolution: how an input is named in records and messages, which inputs are local
 * files (only those can be proven unchanged by the stat memo), and the source an input
 * stream's item stands for.
 */
import { type ImageSource, isDataUri, isUrl } from '../image/source.js';
import type { InputItem } from '../runs/inputs.js';
import { redactUrl } from '../secrets.js';

/** The input's name in records: its path or URL, never a data URI's content. */
export function labelOf(source: ImageSource): string {
  if (typeof source === 'string') return isDataUri(source) ? '<data URI>' : source;
  if (source instanceof Uint8Array) return `<${source.length} bytes>`;
  if ('path' in source) return source.path;
  if ('url' in source) return redactUrl(source.url);
  return source.name ?? '<in-memory image>';
}

/** The local file behind a source, if it is one. */
export function filePathOf(source: ImageSource): string | undefined {
  if (typeof source === 'string') return isUrl(source) || isDataUri(source) ? undefined : source;
  if (source instanceof Uint8Array) return undefined;
  return 'path' in source ? source.path : undefined;
}

/** The source a readable item of an input stream stands for. */
export function sourceOfItem(item: InputItem & { kind: 'file' | 'url' }): ImageSource {
  return item.kind === 'file' ? { path: item.path } : { url: item.url };
}
