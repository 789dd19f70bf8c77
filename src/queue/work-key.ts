/**
 * The work key: what one image costs to read with one pattern version. Ingests of the
 * same bytes into the same pattern version share it: one queue job (its BullMQ job id),
 * one stored result, one provider call, on whichever machine picks it up.
 */
import { createHash } from 'node:crypto';

/**
 * `w-` + 40 hex characters of sha256 over the image's sha256, the pattern id and the
 * pattern's fingerprint (schema, instructions, format, version), and the provider setting
 * a `run --queue` job asks for (settingKey), if any: another model is other work. BullMQ
 * ids may not contain `:` nor be integers; this is neither.
 */
export function workKeyOf(
  imageSha256: string,
  patternId: string,
  patternFingerprint: string,
  providerSetting?: string,
): string {
  const parts = [imageSha256, patternId, patternFingerprint];
  if (providerSetting !== undefined) parts.push(providerSetting);
  const digest = createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  return `w-${digest.slice(0, 40)}`;
}
