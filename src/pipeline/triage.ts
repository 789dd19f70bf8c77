/**
 * Triage, the cascade's first step: a cheap yes/no relevance question about one image at
 * the triage model's low resolution. A verdict is kept in the verdict cache (keyed by
 * content, pattern, model, question and preprocessing), so asking again costs nothing; a
 * failed question leaves marked with what it was billed (paid-calls).
 */
import { verdictKey } from '../cache/keys.js';
import { preprocessFingerprint } from '../image/options.js';
import { pricingModel } from '../providers/model-ids.js';
import { costUsd } from '../providers/pricing.js';
import type { Usage } from '../providers/spec.js';
import type { CascadeConfig, TriageVerdict } from './cascade-config.js';
import { billedPaid, markPaid } from './paid-calls.js';
import { imageInfo } from './prepared-images.js';
import { preparedWithinLimits } from './provider-limits.js';
import { EMPTY_USAGE } from './record.js';
import { askStage, type LoadedInput, providerImage } from './stages.js';

/** The verdict on `loaded` (cached, or asked of `triage`), with the usage, USD cost and calls it took. */
export async function runTriage(
  loaded: LoadedInput,
  config: CascadeConfig,
  triage: NonNullable<CascadeConfig['triage']>,
): Promise<{ verdict: TriageVerdict; usage: Usage; cost: number | null; attempts: number }> {
  const key = verdictKey({
    sha256: loaded.sha256,
    patternFingerprint: config.pattern.fingerprint,
    provider: triage.provider.id,
    model: triage.model,
    providerOptions: triage.provider.answerKey ?? '',
    question: triage.question,
    preprocess: preprocessFingerprint(triage.preprocess),
  });
  const cached = await config.verdicts.get(key).catch(() => undefined);
  if (cached) {
    try {
      return {
        verdict: JSON.parse(cached.toString('utf8')) as TriageVerdict,
        usage: { ...EMPTY_USAGE },
        cost: 0,
        attempts: 0,
      };
    } catch {}
  }
  const { prepared } = await preparedWithinLimits(
    loaded,
    triage.preprocess,
    triage.provider.limits,
    triage.provider.id,
    config.images,
    config.ttlMs,
  );
  let asked: Awaited<ReturnType<typeof askStage>>;
  try {
    asked = await askStage(
      triage.provider,
      providerImage(loaded, prepared),
      triage.question,
      config.pattern,
      triage.model,
      loaded.label,
      config.controlsFor(triage.provider),
    );
  } catch (error) {
    // A billed answer that is not a verdict still cost its tokens, and the image was sent.
    throw markPaid(error, billedPaid(config, triage, error, imageInfo(prepared, triage)));
  }
  const { result, attempts } = asked;
  const verdict: TriageVerdict = {
    relevant: result.answer,
    confidence: result.confidence,
    reason: result.reason ?? (result.answer ? 'relevant' : 'not relevant'),
    provider: triage.provider.id,
    model: result.model,
  };
  await config.verdicts
    .set(key, Buffer.from(JSON.stringify(verdict)), config.ttlMs, {
      provider: verdict.provider,
      model: verdict.model,
    })
    .catch(() => {});
  return {
    verdict,
    usage: result.usage,
    cost: costUsd(
      triage.provider.id,
      pricingModel(triage.model, result.model).model,
      result.usage,
      config.priceTable ? { table: config.priceTable } : {},
    ),
    // The local engine is no provider call: `attempts` counts answered provider calls only
    // (README), so the run's retries, the record and `report` agree.
    attempts: triage.provider.id === 'local' ? 0 : attempts,
  };
}
