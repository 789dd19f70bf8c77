/**
 * The work key: what one image costs to read with one pattern version. Ingests of the
 * same bytes into the same pattern version share it: one queue job (its BullMQ job id),
 * one stored result, one provider call, on whichever machine picks it up.
 */
import { createHash } from 'node:crypto';

/**
 * `w-` + 40 hex characters of sha256 over the image's sha256, the pattern id and the
 * pattern's fingerprint (schema, instructions, format, version), and the provider setting
 * a `run --queue` job asks for (settingKey), if any: another model is other work; and the
 * document reading it asks for (documentKey: one page, or a page range), if any. BullMQ
 * ids may not contain `:` nor be integers; this is neither.
 */
export function workKeyOf(
  imageSha256: string,
  patternId: string,
  patternFingerprint: string,
  providerSetting?: string,
  documentSetting?: string,
): string {
  const parts = [imageSha256, patternId, patternFingerprint];
  if (providerSetting !== undefined || documentSetting !== undefined) parts.push(providerSetting ?? '');
  if (documentSetting !== undefined) parts.push(documentSetting);
  const digest = createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  return `w-${digest.slice(0, 40)}`;
}
