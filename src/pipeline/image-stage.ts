/**
 * Preprocessing with a cache of its own (content + preprocessing options), so triage,
 * escalation and re-runs with a changed pattern do not decode the same image twice.
 */
import { imageKey } from '../cache/keys.js';
import type { CacheStore } from '../cache/store.js';
import { preprocessFingerprint, type ResolvedPreprocessOptions } from '../image/options.js';
import type { PreparedImage } from '../image/preprocess.js';
import { type LoadedInput, preprocessStage } from './stages.js';

type PreparedMeta = Omit<PreparedImage, 'data'>;

function encode(prepared: PreparedImage): Buffer {
  const { data, ...meta } = prepared;
  const header = Buffer.from(JSON.stringify(meta));
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32BE(header.length, 0);
  return Buffer.concat([length, header, data]);
}

function decode(raw: Buffer): PreparedImage | undefined {
  try {
    const length = raw.readUInt32BE(0);
    const meta = JSON.parse(raw.subarray(4, 4 + length).toString('utf8')) as PreparedMeta;
    const data = raw.subarray(4 + length);
    if (typeof meta.width !== 'number' || data.length !== meta.bytes) return undefined;
    return { ...meta, data };
  } catch {
    return undefined;
  }
}

export async function preparedImage(
  input: LoadedInput,
  options: ResolvedPreprocessOptions,
  store: CacheStore,
  ttlMs: number,
): Promise<PreparedImage> {
  const key = imageKey(input.sha256, preprocessFingerprint(options));
  const cached = await store.get(key).catch(() => undefined);
  const hit = cached && decode(cached);
  if (hit) return hit;
  const prepared = await preprocessStage(input, options);
  await store.set(key, encode(prepared), ttlMs).catch(() => {});
  return prepared;
}
