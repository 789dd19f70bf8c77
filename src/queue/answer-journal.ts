/**
 * The answer journal: a provider wrapper that writes every provider answer to the shared
 * store (Redis, the one every worker reads) the moment it arrives, before the pipeline
 * validates, escalates or caches anything, and that answers the same request from the
 * journal when it is asked again.
 *
 * Why: a worker killed after the provider answered but before the pipeline's result was
 * cached (validation, an escalation call, the record) would leave the stalled job to be
 * re-run elsewhere with a second, paid provider call. With the journal, the re-run finds
 * the paid answer and calls nobody. The window left is the one Redis write right after
 * the HTTP answer (a few hundred microseconds), not the whole post-processing.
 *
 * The key is the request, by content: provider (and its answerKey), model, the pattern's
 * fingerprint, the sha256 of every prepared image sent, and the repair text if any. Only
 * answers are journaled; failures are never kept (the retry must call again).
 */
import { createHash } from 'node:crypto';
import type { CacheStore, WarningSink } from '../cache/store.js';
import type { AskRequest, ExtractRequest, Provider } from '../providers/spec.js';
import { requestImages } from '../providers/spec.js';
import { redactDeep } from '../secrets.js';

export interface AnswerJournalOptions {
  store: CacheStore;
  /** How long an answer is kept, ms (the result cache's TTL is a good choice). */
  ttlMs: number;
  warn: WarningSink;
  /**
   * Called once an answer is journaled, before the pipeline sees it. The worker's test
   * crash point (crash-point.ts) hooks in here; nothing else needs it.
   */
  afterPersist?: (operation: 'extract' | 'ask') => void;
}

const digest = (parts: (string | Buffer)[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
};

/** The journal key of an extraction request (exported for tests). */
export function extractJournalKey(provider: Provider, request: ExtractRequest): string {
  const images = requestImages(request).map((image) => createHash('sha256').update(image.data).digest('hex'));
  return `answer:x:${digest([
    provider.id,
    provider.answerKey ?? '',
    request.model,
    request.pattern.fingerprint,
    ...images,
    request.repair ? `${request.repair.problem}\n${request.repair.answer}` : '',
  ])}`;
}

function askJournalKey(provider: Provider, request: AskRequest): string {
  return `answer:a:${digest([
    provider.id,
    provider.answerKey ?? '',
    request.model,
    request.pattern?.fingerprint ?? '',
    request.question,
    createHash('sha256').update(request.image.data).digest('hex'),
  ])}`;
}

/** Wraps `provider` so every answer is persisted first and never paid for twice. */
export function journaled(provider: Provider, options: AnswerJournalOptions): Provider {
  const { store, ttlMs, warn } = options;

  async function recall<T>(key: string): Promise<T | undefined> {
    try {
      const raw = await store.get(key);
      return raw === undefined ? undefined : (JSON.parse(raw.toString('utf8')) as T);
    } catch (error) {
      warn(`answer journal read failed (${(error as Error).message}); calling the provider`);
      return undefined;
    }
  }

  async function persist(key: string, value: unknown): Promise<void> {
    try {
      await store.set(key, Buffer.from(JSON.stringify(redactDeep(value))), ttlMs);
    } catch (error) {
      warn(`answer journal write failed (${(error as Error).message}); the answer is still used`);
    }
  }

  async function once<T extends { rateLimit?: unknown }>(
    key: string,
    operation: 'extract' | 'ask',
    call: () => Promise<T>,
  ): Promise<T> {
    const known = await recall<T>(key);
    if (known !== undefined) return known;
    const answer = await call();
    // The rate-limit snapshot describes that moment only: it is not replayed.
    const { rateLimit: _rateLimit, ...kept } = answer;
    await persist(key, kept);
    options.afterPersist?.(operation);
    return answer;
  }

  // Explicit delegation (not a prototype): provider classes may keep private fields.
  const ask = provider.ask?.bind(provider);
  const wrapped: Provider = {
    id: provider.id,
    defaultModel: provider.defaultModel,
    ...(provider.answerKey === undefined ? {} : { answerKey: provider.answerKey }),
    ...(provider.limits === undefined ? {} : { limits: provider.limits }),
    sizeProfile: (model) => provider.sizeProfile(model),
    estimateImageTokens: (width, height, model) => provider.estimateImageTokens(width, height, model),
    ...(provider.estimateExtractTokens
      ? { estimateExtractTokens: provider.estimateExtractTokens.bind(provider) }
      : {}),
    ...(provider.checkCredentials ? { checkCredentials: provider.checkCredentials.bind(provider) } : {}),
    extract: (request, signal) =>
      once(extractJournalKey(provider, request), 'extract', () => provider.extract(request, signal)),
    ...(ask
      ? {
          ask: (request: AskRequest, signal: AbortSignal) =>
            once(askJournalKey(provider, request), 'ask', () => ask(request, signal)),
        }
      : {}),
    close: () => provider.close(),
  };
  return wrapped;
}
