/**
 * Which model answers and at what size: the provider's default model unless one is given,
 * the size profile that model keeps unless one is given, always within the API's hard
 * limits. Primary, triage and escalation models are each resolved this way.
 */
import { type PreprocessOptions, resolvePreprocessOptions } from '../image/options.js';
import { isProfileName, type ProfileName, type SizeLimits } from '../image/profiles.js';
import type { Pattern } from '../patterns/types.js';
import type { Provider } from '../providers/spec.js';
import type { ModelChoice } from './cascade-config.js';
import { withinHardLimits } from './provider-limits.js';
import type { PipelineOptions } from './spec.js';

/** Profiles from providers carry a `name` and description; preprocessing wants a name or bare limits. */
function stripName(profile: ProfileName | SizeLimits): ProfileName | SizeLimits {
  if (typeof profile === 'string') return profile;
  const name = (profile as { name?: unknown }).name;
  if (typeof name === 'string' && isProfileName(name)) return name;
  const { maxLongEdge, maxShortEdge, maxPixels, patches } = profile;
  return {
    maxLongEdge,
    ...(maxShortEdge === undefined ? {} : { maxShortEdge }),
    ...(maxPixels === undefined ? {} : { maxPixels }),
    ...(patches === undefined ? {} : { patches }),
  };
}

function profileNameOf(profile: ProfileName | SizeLimits, fallback: string): string {
  if (typeof profile === 'string') return profile;
  const name = (profile as { name?: unknown }).name;
  return typeof name === 'string' ? name : fallback;
}

export function choose(
  provider: Provider,
  model: string | undefined,
  profile: ProfileName | SizeLimits | undefined,
  encoding: Omit<PreprocessOptions, 'profile'> | undefined,
): ModelChoice {
  const chosenModel = model ?? provider.defaultModel;
  const chosenProfile = profile ?? provider.sizeProfile(chosenModel);
  // The API's hard limits hold whatever the profile says (--profile none included).
  const preprocess = withinHardLimits(
    resolvePreprocessOptions({ ...encoding, profile: stripName(chosenProfile) }),
    provider.limits,
  );
  return {
    provider,
    model: chosenModel,
    preprocess,
    profileName: profileNameOf(chosenProfile, preprocess.profileName),
  };
}

/** The default triage question: what the pattern is for, in one line. */
export function triageQuestion(pattern: Pattern): string {
  const fields = Object.keys(pattern.schema.properties).slice(0, 6).join(', ');
  return `Is this image a ${pattern.name} (a document showing fields such as ${fields})?`;
}

export interface CascadeModels {
  triage: (ModelChoice & { question: string }) | undefined;
  escalation: (ModelChoice & { below: number | undefined }) | undefined;
}

/** The triage and escalation models the options ask for, if any. */
export function chooseCascadeModels(options: PipelineOptions, pattern: Pattern): CascadeModels {
  const triage = options.triage
    ? {
        ...choose(
          options.triage.provider,
          options.triage.model,
          // The local engine reads the page at the size it extracts at: the OCR costs the same
          // (prepareForOcr brings small images up to ~2000 px anyway), and when the same
          // engine extracts next it reuses that reading (providers/local/recent-pages.ts).
          options.triage.profile ?? (options.triage.provider.id === 'local' ? undefined : 'triage'),
          options.preprocess,
        ),
        question: options.triage.question ?? triageQuestion(pattern),
      }
    : undefined;
  const escalation = options.escalation
    ? {
        ...choose(options.escalation.provider, options.escalation.model, undefined, options.preprocess),
        below: options.escalation.below,
      }
    : undefined;
  return { triage, escalation };
}
