/**
 * Model profiles: the names a pattern's `model_profile` may take. `managed-default` is
 * the server's own provider and model (`serve`/`worker` --provider, --model); the server's
 * configuration may add named profiles, each a provider, model and base URL
 * (`modelProfiles` in the config file, or `--model-profiles` / VISIONPIPE_MODEL_PROFILES
 * as JSON), checked at start. A job of a pattern with a named profile carries that
 * provider setting to the workers like a `run --queue` job does (keys stay the workers'),
 * its work key includes it (another model is other work), and the job records the model
 * that ran.
 */
import { z } from 'zod';
import { VisionpipeError } from '../errors.js';
import { type ProviderSetting, providerSetting } from '../queue/provider-setting.js';
import { ApiError } from './api-error.js';

/** The server's own provider and model. */
export const MANAGED_PROFILE = 'managed-default';

const profileName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/i, 'a profile name is 1–63 letters, digits, dot, dash or underscore')
  .refine(
    (name) => name !== MANAGED_PROFILE,
    `${MANAGED_PROFILE} is the server's own model: not configurable`,
  );

export const modelProfilesSchema = z.record(profileName, providerSetting);
export type ModelProfiles = Readonly<Record<string, ProviderSetting>>;

/**
 * The profiles from configuration: an object, or its JSON text (flag, environment).
 * Throws INVALID_OPTION naming `modelProfiles` and the bad entry and field.
 */
export function parseModelProfiles(value: unknown): ModelProfiles {
  let given = value;
  if (typeof value === 'string') {
    try {
      given = JSON.parse(value);
    } catch (error) {
      throw new VisionpipeError(
        'INVALID_OPTION',
        `modelProfiles: not JSON (${(error as Error).message}); give {"name": {"id": "openai", "model": "…"}}`,
        { option: 'modelProfiles' },
      );
    }
  }
  const parsed = modelProfilesSchema.safeParse(given ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = ['modelProfiles', ...(issue?.path ?? []).map(String)].join('.');
  throw new VisionpipeError('INVALID_OPTION', `${where}: ${issue?.message ?? 'invalid'}`, {
    option: 'modelProfiles',
  });
}

/** Every profile name a pattern may use, `managed-default` first. */
export function allowedProfiles(profiles: ModelProfiles | undefined): string[] {
  return [MANAGED_PROFILE, ...Object.keys(profiles ?? {}).sort()];
}

/**
 * The provider setting of a profile name: undefined for `managed-default` (the workers'
 * own), the configured setting for a named profile. Throws ApiError 400
 * `validation_error` (details: `field`, `allowed`) for a name that is not configured.
 */
export function profileSetting(
  profiles: ModelProfiles | undefined,
  name: string,
): ProviderSetting | undefined {
  if (name === MANAGED_PROFILE) return undefined;
  const setting = profiles && Object.hasOwn(profiles, name) ? profiles[name] : undefined;
  if (setting) return setting;
  const allowed = allowedProfiles(profiles);
  throw new ApiError(
    400,
    'validation_error',
    `model_profile "${name}" is not available on this server; use one of: ${allowed.join(', ')}`,
    { field: 'model_profile', allowed },
  );
}
