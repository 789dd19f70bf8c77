/**
 * What changes a pipeline's answers besides the content, the pattern, the provider id and
 * the model: the provider's own options (endpoint, detail, output cap, remote pattern:
 * `Provider.answerKey`), the per-image token budget, and the triage and escalation
 * models with theirs. Result-cache keys carry it as their `options` part and resume
 * signatures through `Pipeline.settings`, so a run against another endpoint or with other
 * options never gets an answer made for different ones.
 *
 * Triage decides whether an image is extracted, not what the extraction says: the
 * extraction itself is also kept under `extractionOptions()` (no triage), so adding,
 * changing or dropping `--triage` reuses extractions already paid for (cache-miss.ts).
 */
import { preprocessFingerprint, type ResolvedPreprocessOptions } from '../image/options.js';
import type { Provider } from '../providers/spec.js';

/** One model of the cascade as far as answers go. */
export interface AnsweringModel {
  provider: Provider;
  model: string;
  preprocess: ResolvedPreprocessOptions;
}

export interface AnswerSettingsInput {
  primary: AnsweringModel;
  /** Per-image image-token budget on the primary model, if any. */
  budget: number | undefined;
  triage: (AnsweringModel & { question: string }) | undefined;
  escalation: (AnsweringModel & { below: number | undefined }) | undefined;
}

function modelParts(choice: AnsweringModel): Array<string | null> {
  return [
    choice.provider.id,
    choice.model,
    choice.provider.answerKey ?? null,
    preprocessFingerprint(choice.preprocess),
  ];
}

/** The result key's `options` part: everything but content, pattern, provider id, model and preprocessing. */
export function answerOptions(input: AnswerSettingsInput): string {
  return JSON.stringify({
    provider: input.primary.provider.answerKey ?? null,
    budget: input.budget ?? null,
    triage: input.triage ? [...modelParts(input.triage), input.triage.question] : null,
    escalation: input.escalation ? [...modelParts(input.escalation), input.escalation.below ?? null] : null,
  });
}

/** answerOptions() without triage: what the extraction's answer alone depends on. */
export function extractionOptions(input: AnswerSettingsInput): string {
  return answerOptions({ ...input, triage: undefined });
}

/** `Pipeline.settings`: the primary preprocessing plus answerOptions(), for resume signatures. */
export function answerSettings(input: AnswerSettingsInput): string {
  return JSON.stringify({
    preprocess: preprocessFingerprint(input.primary.preprocess),
    options: answerOptions(input),
  });
}
