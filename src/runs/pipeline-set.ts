/**
 * The pipelines of one run: one per (pattern, provider, model, profile) that the routing
 * rules choose, created on first use and sharing one cache, one provider instance per
 * backend (the local engine's OCR workers are started once) and one run of the limiter.
 * Without rules, every input gets the same pipeline.
 */
import { createHash } from 'node:crypto';
import type { CacheSetup } from '../cache/open-cache.js';
import type { WarningSink } from '../cache/store.js';
import type { Limiter } from '../flow/limiter.js';
import type { RetryOptions } from '../flow/retry.js';
import type { SourceLimits } from '../image/source.js';
import {
  createPipeline,
  type DocumentOptions,
  type EscalationOptions,
  type Pipeline,
  type TriageOptions,
} from '../pipeline/create-pipeline.js';
import type { PriceTable } from '../providers/pricing.js';
import { createProvider, type ProviderOptions, withBaseUrl } from '../providers/registry.js';
import type { Provider } from '../providers/spec.js';
import type { InputItem } from './inputs.js';
import type { RunSignature } from './resume.js';
import type { Route, Router } from './routes.js';

export interface PipelineSetOptions {
  defaults: Route;
  /** Providers already made (the command checks its own early); the set closes them. */
  providers?: Provider[];
  router?: Router;
  providerOptions: ProviderOptions;
  cache: CacheSetup;
  warn: WarningSink;
  /** Paces calls to the command's own provider (--rpm/--tpm apply to it). */
  limiter?: Limiter;
  retry?: Omit<RetryOptions, 'signal'>;
  sourceLimits: SourceLimits;
  timeoutMs: number;
  nearDuplicateDistance?: number;
  /** Try again failures an earlier run remembered as deterministic (--retry-failed). */
  retryFailed?: boolean;
  maxImageTokens?: number;
  documents?: DocumentOptions;
  /** `baseUrl`: the step's own endpoint (--triage-base-url), even on the main provider's id. */
  triage?: { provider: string; model?: string; question?: string; baseUrl?: string };
  /** `baseUrl`: the step's own endpoint (--escalate-base-url), even on the main provider's id. */
  escalation?: { provider: string; model?: string; below?: number; baseUrl?: string };
  priceTable?: PriceTable;
}

export class PipelineSet {
  private readonly providers = new Map<string, Provider>();
  private readonly pipelines = new Map<string, Promise<Pipeline>>();

  constructor(private readonly options: PipelineSetOptions) {
    for (const provider of options.providers ?? []) this.providers.set(provider.id, provider);
  }

  /**
   * The provider `id`, one instance per endpoint: a cascade step with its own `baseUrl` gets
   * its own instance (and so its own answerKey in cache keys, remembered failures and the
   * resume signature), even when it uses the main provider's id.
   */
  provider(id: string, baseUrl?: string): Provider {
    const key = baseUrl === undefined ? id : `${id}@${baseUrl}`;
    let provider = this.providers.get(key);
    if (!provider) {
      provider = createProvider(id, withBaseUrl(this.options.providerOptions, id, baseUrl));
      this.providers.set(key, provider);
    }
    return provider;
  }

  /**
   * Throws MISSING_API_KEY when a provider this run can call (the default, any a rule
   * names, triage, escalation) has no key: a run checks before it starts, while building
   * providers never asks (estimates need no key).
   */
  checkCredentials(): void {
    const o = this.options;
    const ids = new Set([o.defaults.provider, ...(o.router?.providers ?? [])]);
    for (const id of ids) this.provider(id).checkCredentials?.();
    if (o.triage) this.provider(o.triage.provider, o.triage.baseUrl).checkCredentials?.();
    if (o.escalation) this.provider(o.escalation.provider, o.escalation.baseUrl).checkCredentials?.();
  }

  /**
   * Every provider and model this run can call: the default, each routing rule's (a rule
   * naming a model alone is taken with the default provider, one naming a provider alone
   * with that provider's default model), triage and escalation.
   */
  models(): Array<{ provider: string; model: string }> {
    const o = this.options;
    const choices = [
      { provider: o.defaults.provider, model: o.defaults.model },
      ...(o.router?.choices ?? []).map((choice) => ({
        provider: choice.provider ?? o.defaults.provider,
        model: choice.model ?? (choice.provider === undefined ? o.defaults.model : undefined),
      })),
      ...(o.triage ? [o.triage] : []),
      ...(o.escalation ? [o.escalation] : []),
    ];
    const seen = new Map<string, { provider: string; model: string }>();
    for (const { provider, model } of choices) {
      const resolved = { provider, model: model ?? this.provider(provider).defaultModel };
      seen.set(`${resolved.provider}/${resolved.model}`, resolved);
    }
    return [...seen.values()];
  }

  /** The pipeline for an input (by routing rule), created on first use. */
  pipelineFor(item: InputItem): Promise<Pipeline> {
    return this.forRoute(this.options.router ? this.options.router.route(item.label) : this.options.defaults);
  }

  /** The pipeline of the command's own defaults. */
  defaultPipeline(): Promise<Pipeline> {
    return this.forRoute(this.options.defaults);
  }

  private forRoute(route: Route): Promise<Pipeline> {
    const key = JSON.stringify([
      route.pattern.fingerprint,
      route.provider,
      route.model ?? null,
      route.profile ?? null,
    ]);
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      pipeline = this.create(route);
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  private create(route: Route): Promise<Pipeline> {
    const o = this.options;
    const triage: TriageOptions | undefined = o.triage
      ? {
          provider: this.provider(o.triage.provider, o.triage.baseUrl),
          ...(o.triage.model ? { model: o.triage.model } : {}),
          ...(o.triage.question ? { question: o.triage.question } : {}),
        }
      : undefined;
    const escalation: EscalationOptions | undefined = o.escalation
      ? {
          provider: this.provider(o.escalation.provider, o.escalation.baseUrl),
          ...(o.escalation.model ? { model: o.escalation.model } : {}),
          ...(o.escalation.below === undefined ? {} : { below: o.escalation.below }),
        }
      : undefined;
    return createPipeline({
      pattern: route.pattern,
      provider: this.provider(route.provider),
      ...(route.model ? { model: route.model } : {}),
      ...(route.profile ? { profile: route.profile } : {}),
      cache: o.cache,
      warn: o.warn,
      ...(o.limiter && route.provider === o.defaults.provider ? { limiter: o.limiter } : {}),
      ...(o.retry ? { retry: o.retry } : {}),
      sourceLimits: o.sourceLimits,
      timeoutMs: o.timeoutMs,
      ...(o.nearDuplicateDistance === undefined ? {} : { nearDuplicateDistance: o.nearDuplicateDistance }),
      ...(o.retryFailed ? { retryFailed: true } : {}),
      ...(o.maxImageTokens === undefined ? {} : { maxImageTokens: o.maxImageTokens }),
      ...(o.documents ? { documents: o.documents } : {}),
      ...(triage ? { triage } : {}),
      ...(escalation ? { escalation } : {}),
      ...(o.priceTable ? { priceTable: o.priceTable } : {}),
    });
  }

  /**
   * What must stay the same for a later run to resume this one: the defaults, the rules,
   * every setting that changes answers, and the options (endpoint…) of every provider a
   * rule can send inputs to.
   */
  async signature(): Promise<RunSignature> {
    const pipeline = await this.defaultPipeline();
    const rules = this.options.router?.fingerprint ?? '';
    const routed = (this.options.router?.providers ?? [])
      .filter((id) => id !== pipeline.provider.id)
      .map((id) => [id, this.provider(id).answerKey ?? null]);
    const digest = createHash('sha256')
      .update(JSON.stringify([pipeline.pattern.fingerprint, pipeline.settings, rules, routed]))
      .digest('hex');
    return {
      pattern: digest,
      provider: pipeline.provider.id,
      model: pipeline.model,
      profile: pipeline.profile,
    };
  }

  async close(): Promise<void> {
    for (const pipeline of this.pipelines.values()) await (await pipeline).close();
    for (const provider of this.providers.values()) await provider.close();
  }
}
