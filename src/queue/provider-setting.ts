/**
 * The provider a queue job asks for: `visionpipe run --queue` carries the coordinator's
 * `--provider`, `--model` and `--base-url` in each job, so the workers read its images the
 * way the coordinator said. Never an API key: keys stay in each worker's environment
 * (nothing secret goes through Redis); the schema is strict, so a job carrying anything
 * else is refused.
 */
import { z } from 'zod';
import { PROVIDER_IDS } from '../providers/ids.js';

export const providerSetting = z
  .object({
    id: z.enum(PROVIDER_IDS),
    model: z.string().min(1).max(200).optional(),
    baseUrl: z
      .string()
      .max(2048)
      .regex(/^https?:\/\//i, 'must be an http(s) URL')
      .optional(),
  })
  .strict();
export type ProviderSetting = z.infer<typeof providerSetting>;

/** One string per distinct setting (key order fixed): what pools and work keys are keyed by. */
export function settingKey(setting: ProviderSetting): string {
  return JSON.stringify([setting.id, setting.model ?? null, setting.baseUrl ?? null]);
}
