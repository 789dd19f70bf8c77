/**
 * The answer journal: a provider wrapper that writes every provider answer to the shared
 * store (Redis, the one every worker reads) the moment it arrives, before the pipeline
 * validates, escalates or caches anything, and that answers the same request from the
 * journal when it is asked again.
 *
 * Why: a worker killed after the provider answered but before the pipeline's result was
 * cached (validation, an escalation call, the record) would leave the stalled job to be
 * re-run elsewhere with a second, paid provider call. With the journal, the re-run finds
 * the paid answer and calls nobody.
 *
 * In-flight claims: before the call, a claim (`inflight:` + the key) is written to the
 * same store; it is removed once the answer is journaled, or when the call fails (a
 * failure is seen, so nothing is hidden). A run that finds a claim and no answer knows
 * that a worker died between starting the call and journaling its answer: the provider
 * may have billed that call. It calls again (the answer is lost) and reports it through
 * `onPossiblyPaid`, so the job says `possibly_paid` rather than claiming a single call.
 * The window where a call can be paid twice is thus from the claim write to the answer
 * write, and every call paid twice in it is reported, not silent.
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
  /**
   * Called before a call whose earlier attempt left a claim and no answer: that attempt
   * may have been paid (the worker marks its job `possibly_paid`).
   */
  onPossiblyPaid?: (operation: 'extract' | 'ask') => void;
  /** Called when a request is answered from the journal (no call made), and before each real call. */
  onReplayed?: (operation: 'extract' | 'ask') => void;
  onCall?: (operation: 'extract' | 'ask') => void;
  /** Called once the provider answered, before the answer is journaled (test crash point). */
  beforePersist?: (operation: 'extract' | 'ask') => void;
}

/** The claim key of a journal key: `inflight:` in place of `answer:`. */
export function claimKeyOf(journalKey: string): string {
  return `inflight:${journalKey.slice('answer:'.length)}`;
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

  async function claimed(claim: string): Promise<boolean> {
    try {
      return (await store.get(claim)) !== undefined;
    } catch (error) {
      warn(`answer journal claim read failed (${(error as Error).message})`);
      return false;
    }
  }

  async function mark(claim: string): Promise<void> {
    try {
      await store.set(
        claim,
        Buffer.from(JSON.stringify({ at: new Date().toISOString(), pid: process.pid })),
        ttlMs,
      );
    } catch (error) {
      warn(`answer journal claim write failed (${(error as Error).message}); calling the provider anyway`);
    }
  }

  async function unmark(claim: string): Promise<void> {
    try {
      await store.delete(claim);
    } catch (error) {
      warn(`answer journal claim removal failed (${(error as Error).message})`);
    }
  }

  async function once<T extends { rateLimit?: unknown }>(
    key: string,
    operation: 'extract' | 'ask',
    call: () => Promise<T>,
  ): Promise<T> {
    const known = await recall<T>(key);
    if (known !== undefined) {
      options.onReplayed?.(operation);
      return known;
    }
    const claim = claimKeyOf(key);
    if (await claimed(claim)) options.onPossiblyPaid?.(operation);
    await mark(claim);
    options.onCall?.(operation);
    let answer: T;
    try {
      answer = await call();
    } catch (error) {
      // The failure was seen here: the next try is no hidden second payment.
      await unmark(claim);
      throw error;
    }
    // The rate-limit snapshot describes that moment only: it is not replayed.
    options.beforePersist?.(operation);
    const { rateLimit: _rateLimit, ...kept } = answer;
    await persist(key, kept);
    options.afterPersist?.(operation);
    await unmark(claim);
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
