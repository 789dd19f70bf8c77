/**
 * `visionpipe run`'s flags as pipeline settings: cache, limiter, retries, input limits and
 * the cascade (triage, escalation with --min-confidence), for buildPipelineSet (pipelines.ts).
 */
import type { CacheSetup } from '../../cache/open-cache.js';
import type { Limiter } from '../../flow/limiter.js';
import { documentOptionsFrom } from '../document-flags.js';
import { retryFrom } from '../provider-settings.js';
import type { RunFlags } from '../run.js';
import type { PipelineSettings } from './pipelines.js';
import type { CheckedRunFlags } from './run-checks.js';

export function runPipelineSettings(
  flags: RunFlags,
  checked: CheckedRunFlags,
  open: { cache: CacheSetup; limiter: Limiter | undefined; warn: (message: string) => void },
): PipelineSettings {
  const { triage, escalation } = checked;
  const retry = retryFrom(flags);
  return {
    cache: open.cache,
    warn: open.warn,
    ...(open.limiter ? { limiter: open.limiter } : {}),
    ...(retry ? { retry } : {}),
    sourceLimits: {
      maxInputBytes: flags.maxInputBytes,
      allowPrivateNetworks: flags.allowPrivateUrls ?? false,
      passUrls: flags.passUrls ?? false,
    },
    timeoutMs: flags.timeout,
    ...(flags.nearDup === undefined ? {} : { nearDuplicateDistance: flags.nearDup }),
    ...(flags.retryFailed ? { retryFailed: true } : {}),
    ...(flags.maxImageTokens === undefined ? {} : { maxImageTokens: flags.maxImageTokens }),
    // A document's pages together over --tpm could never be admitted: they are read page by page.
    documents: {
      ...documentOptionsFrom(flags),
      ...(flags.tpm === undefined ? {} : { maxRequestTokens: flags.tpm }),
    },
    ...(triage
      ? {
          triage: {
            ...triage,
            ...(flags.triageQuestion ? { question: flags.triageQuestion } : {}),
            // Its own endpoint, even on the main provider's id (a base URL per step, not per id).
            ...(flags.triageBaseUrl ? { baseUrl: flags.triageBaseUrl } : {}),
          },
        }
      : {}),
    ...(escalation
      ? {
          escalation: {
            ...escalation,
            ...(flags.escalateBaseUrl ? { baseUrl: flags.escalateBaseUrl } : {}),
            // --min-confidence escalates first: only what the stronger model cannot lift is an error.
            ...((flags.escalateBelow ?? flags.minConfidence) === undefined
              ? {}
              : { below: flags.escalateBelow ?? flags.minConfidence }),
          },
        }
      : {}),
    ...(flags.priceTable ? { priceTable: flags.priceTable } : {}),
  };
}
