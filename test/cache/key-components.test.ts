/**
 * Every component of every key and signature, one at a time (issue 11 §8): change one
 * component and the key must change; change nothing and it must not. Dropping any
 * component from a key's derivation makes its row here fail (mutation testing checks
 * that claim: `npm run mutate`, docs/cache.md).
 */
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  IMAGE_PREFIX,
  imageKey,
  RESULT_PREFIX,
  type ResultKeyParts,
  resultKey,
  VERDICT_PREFIX,
  type VerdictKeyParts,
  verdictKey,
  verdictKeyPrefix,
} from '../../src/cache/keys.js';
import { openCache } from '../../src/cache/open-cache.js';
import { VisionpipeError } from '../../src/errors.js';
import {
  type PreprocessOptions,
  preprocessFingerprint,
  resolvePreprocessOptions,
} from '../../src/image/options.js';
import { parsePattern } from '../../src/patterns/index.js';
import { createPipeline, type PipelineOptions } from '../../src/pipeline/create-pipeline.js';
import type { RunRecord } from '../../src/pipeline/record.js';
import { AnthropicProvider } from '../../src/providers/anthropic.js';
import { GeminiProvider } from '../../src/providers/gemini.js';
import { ImgGoProvider } from '../../src/providers/imggo.js';
import { LocalProvider } from '../../src/providers/local.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import type { ProviderOptions } from '../../src/providers/registry.js';
import { PipelineSet } from '../../src/runs/pipeline-set.js';
import { planResume, type RunSignature } from '../../src/runs/resume.js';
import { loadRouter } from '../../src/runs/routes.js';
import { readRecords } from '../support/cli.js';
import { tempDir } from '../support/images.js';

const SHA = 'a'.repeat(64);
const OTHER_SHA = 'b'.repeat(64);

/** Each variant differs from `base` in one named component: all keys distinct, `base` stable. */
function expectEveryComponentCounts<T>(base: T, variants: Record<string, T>, key: (parts: T) => string) {
  expect(key(base)).toBe(key(base));
  const keys = new Map<string, string>([['(base)', key(base)]]);
  for (const [name, variant] of Object.entries(variants)) {
    const k = key(variant);
    const clash = [...keys].find(([, other]) => other === k);
    expect(clash?.[0], `changing ${name} gives the key of ${clash?.[0]}`).toBeUndefined();
    keys.set(name, k);
  }
}

describe('result, image and verdict keys', () => {
  it('resultKey: content, pattern, provider, model, preprocessing, options', () => {
    const base: ResultKeyParts = {
      sha256: SHA,
      patternFingerprint: 'p'.repeat(64),
      provider: 'openai',
      model: 'gpt-4.1-mini',
      preprocess: '[2048]',
      options: '{"provider":"a"}',
    };
    expectEveryComponentCounts(
      base,
      {
        sha256: { ...base, sha256: OTHER_SHA },
        patternFingerprint: { ...base, patternFingerprint: 'q'.repeat(64) },
        provider: { ...base, provider: 'anthropic' },
        model: { ...base, model: 'gpt-4.1' },
        preprocess: { ...base, preprocess: '[1024]' },
        options: { ...base, options: '{"provider":"b"}' },
        'no options': { ...base, options: undefined },
      },
      resultKey,
    );
    expect(resultKey(base)).toMatch(new RegExp(`^r:${'p'.repeat(16)}:[0-9a-f]{64}$`));
    // No options and empty options are the same settings.
    expect(resultKey({ ...base, options: undefined })).toBe(resultKey({ ...base, options: '' }));
  });

  it('each kind of entry has its own non-empty prefix, so clearing one kind never touches another', () => {
    const prefixes = [RESULT_PREFIX, IMAGE_PREFIX, VERDICT_PREFIX];
    expect(new Set(prefixes).size).toBe(3);
    for (const prefix of prefixes) expect(prefix).toMatch(/^[a-z]:$/);
    const parts = { sha256: SHA, patternFingerprint: 'p'.repeat(64) };
    expect(resultKey({ ...parts, provider: 'x', model: 'y', preprocess: 'z' })).toMatch(
      new RegExp(`^${RESULT_PREFIX}`),
    );
    expect(imageKey(SHA, 'z')).toMatch(new RegExp(`^${IMAGE_PREFIX}[0-9a-f]{64}$`));
    const verdict = verdictKey({
      ...parts,
      provider: 'x',
      model: 'y',
      providerOptions: '',
      question: 'q',
      preprocess: 'z',
    });
    expect(verdict).toMatch(new RegExp(`^${VERDICT_PREFIX}${'p'.repeat(16)}:[0-9a-f]{64}$`));
    expect(verdict.startsWith(verdictKeyPrefix(parts.patternFingerprint))).toBe(true);
  });

  it('imageKey: content and preprocessing', () => {
    const base = { sha256: SHA, preprocess: '[2048]' };
    expectEveryComponentCounts(
      base,
      { sha256: { ...base, sha256: OTHER_SHA }, preprocess: { ...base, preprocess: '[1024]' } },
      (parts) => imageKey(parts.sha256, parts.preprocess),
    );
  });

  it('verdictKey: content, pattern, provider, model, provider options, question, preprocessing', () => {
    const base: VerdictKeyParts = {
      sha256: SHA,
      patternFingerprint: 'p'.repeat(64),
      provider: 'openai',
      model: 'gpt-4.1-nano',
      providerOptions: '{"baseUrl":"a"}',
      question: 'Is this an invoice?',
      preprocess: '[256]',
    };
    expectEveryComponentCounts(
      base,
      {
        sha256: { ...base, sha256: OTHER_SHA },
        patternFingerprint: { ...base, patternFingerprint: 'q'.repeat(64) },
        provider: { ...base, provider: 'local' },
        model: { ...base, model: 'gpt-4.1-mini' },
        providerOptions: { ...base, providerOptions: '{"baseUrl":"b"}' },
        question: { ...base, question: 'Is this a receipt?' },
        preprocess: { ...base, preprocess: '[512]' },
      },
      verdictKey,
    );
  });

  it('preprocessFingerprint: every option that changes the bytes sent', () => {
    const base: PreprocessOptions = { profile: 'max2048' };
    const variants: Record<string, PreprocessOptions> = {
      maxLongEdge: { ...base, maxSize: 1024 },
      maxShortEdge: { profile: { maxLongEdge: 2048, maxShortEdge: 768 } },
      maxPixels: { profile: { maxLongEdge: 2048, maxPixels: 1_000_000 } },
      patches: { profile: { maxLongEdge: 2048, patches: { size: 32, count: 1536 } } },
      'patch size': { profile: { maxLongEdge: 2048, patches: { size: 28, count: 1536 } } },
      'patch count': { profile: { maxLongEdge: 2048, patches: { size: 32, count: 1000 } } },
      format: { ...base, format: 'png' },
      quality: { ...base, quality: 70 },
      mozjpeg: { ...base, mozjpeg: true },
      flatten: { ...base, flatten: false },
      background: { ...base, background: '#000000' },
      crop: { ...base, crop: '0,0,50%,50%' },
      capQualityToSource: { ...base, capQualityToSource: false },
      keepSmallerOriginal: { ...base, keepSmallerOriginal: false },
      failOn: { ...base, failOn: 'none' },
    };
    expectEveryComponentCounts(base, variants, (o) => preprocessFingerprint(resolvePreprocessOptions(o)));
  });
});

const never = async (): Promise<never> => {
  throw new Error('not read in a key test');
};

describe("providers' answer keys: everything besides the model that changes answers", () => {
  const key = (make: () => { answerKey: string }) => make().answerKey;
  it.each([
    [
      'openai',
      {
        base: () => new OpenAIProvider({ apiKey: 'k', baseUrl: 'http://127.0.0.1:1/v1' }),
        baseUrl: () => new OpenAIProvider({ apiKey: 'k', baseUrl: 'http://127.0.0.1:2/v1' }),
        detail: () => new OpenAIProvider({ apiKey: 'k', baseUrl: 'http://127.0.0.1:1/v1', detail: 'low' }),
        maxOutputTokens: () =>
          new OpenAIProvider({ apiKey: 'k', baseUrl: 'http://127.0.0.1:1/v1', maxOutputTokens: 100 }),
      },
    ],
    [
      'anthropic',
      {
        base: () => new AnthropicProvider({ apiKey: 'k', baseUrl: 'http://127.0.0.1:1' }),
        baseUrl: () => new AnthropicProvider({ apiKey: 'k', baseUrl: 'http://127.0.0.1:2' }),
        maxOutputTokens: () =>
          new AnthropicProvider({ apiKey: 'k', baseUrl: 'http://127.0.0.1:1', maxOutputTokens: 100 }),
      },
    ],
    [
      'gemini',
      {
        base: () => new GeminiProvider({ apiKey: 'k', baseUrl: 'http://127.0.0.1:1' }),
        baseUrl: () => new GeminiProvider({ apiKey: 'k', baseUrl: 'http://127.0.0.1:2' }),
        maxOutputTokens: () =>
          new GeminiProvider({ apiKey: 'k', baseUrl: 'http://127.0.0.1:1', maxOutputTokens: 100 }),
      },
    ],
    [
      'imggo',
      {
        base: () => new ImgGoProvider({ apiKey: 'k', baseUrl: 'http://127.0.0.1:1', imggoPatternId: 'p1' }),
        baseUrl: () =>
          new ImgGoProvider({ apiKey: 'k', baseUrl: 'http://127.0.0.1:2', imggoPatternId: 'p1' }),
        pattern: () =>
          new ImgGoProvider({ apiKey: 'k', baseUrl: 'http://127.0.0.1:1', imggoPatternId: 'p2' }),
      },
    ],
    [
      'local',
      {
        base: () => new LocalProvider({ workers: 1 }),
        'OCR engine': () =>
          new LocalProvider({
            ocr: {
              model: 'tesseract-eng',
              answerKey: 'another reading',
              recognize: never,
              close: async () => {},
            },
          }),
      },
    ],
  ])('%s', (_id, makers) => {
    const { base, ...variants } = makers as Record<string, () => { answerKey: string }>;
    expectEveryComponentCounts(base!, variants, key);
    // The key never carries the API key.
    expect(key(base!)).not.toContain('"k"');
  });
});

const patternOf = (instructions: string) =>
  parsePattern({ name: 'receipt', format: 'json', instructions, json_schema: { total: 'number' } }, 'keys');
const pattern = patternOf('Total.');
const provider = (options: ConstructorParameters<typeof OpenAIProvider>[0] = {}) =>
  new OpenAIProvider({ apiKey: 'k', baseUrl: 'http://127.0.0.1:1/v1', ...options });

describe('a pipeline cache key: every setting that changes the answer', () => {
  it('content, pattern, provider, model, profile, encoding, provider options, budget, triage, escalation', async () => {
    const base = (): PipelineOptions => ({ pattern, provider: provider(), model: 'gpt-4.1-mini' });
    const triage = (o: Partial<NonNullable<PipelineOptions['triage']>> = {}) => ({
      triage: { provider: provider(), model: 'gpt-4.1-nano', question: 'Receipt?', ...o },
    });
    const escalation = (o: Partial<NonNullable<PipelineOptions['escalation']>> = {}) => ({
      escalation: { provider: provider(), model: 'gpt-4.1', below: 0.5, ...o },
    });
    const variants: Record<string, () => PipelineOptions> = {
      pattern: () => ({
        ...base(),
        pattern: patternOf('The total.'),
      }),
      provider: () => ({
        ...base(),
        provider: new AnthropicProvider({ apiKey: 'k', baseUrl: 'http://127.0.0.1:1' }),
      }),
      model: () => ({ ...base(), model: 'gpt-4.1-nano' }),
      profile: () => ({ ...base(), profile: 'max2048' }),
      encoding: () => ({ ...base(), preprocess: { quality: 60 } }),
      'provider base URL': () => ({ ...base(), provider: provider({ baseUrl: 'http://127.0.0.1:2/v1' }) }),
      'provider detail': () => ({ ...base(), provider: provider({ detail: 'auto' }) }),
      'provider output cap': () => ({ ...base(), provider: provider({ maxOutputTokens: 64 }) }),
      budget: () => ({ ...base(), maxImageTokens: 800 }),
      'another budget': () => ({ ...base(), maxImageTokens: 900 }),
      triage: () => ({ ...base(), ...triage() }),
      'triage model': () => ({ ...base(), ...triage({ model: 'gpt-4.1-mini' }) }),
      'triage provider': () => ({
        ...base(),
        ...triage({
          provider: new AnthropicProvider({ apiKey: 'k', baseUrl: 'http://127.0.0.1:1' }),
          model: 'm',
        }),
      }),
      'triage base URL': () => ({
        ...base(),
        ...triage({ provider: provider({ baseUrl: 'http://127.0.0.1:3/v1' }) }),
      }),
      'triage question': () => ({ ...base(), ...triage({ question: 'Invoice?' }) }),
      'triage profile': () => ({ ...base(), ...triage({ profile: 'openai-low' }) }),
      escalation: () => ({ ...base(), ...escalation() }),
      'escalation model': () => ({ ...base(), ...escalation({ model: 'gpt-4o' }) }),
      'escalation provider': () => ({
        ...base(),
        ...escalation({
          provider: new GeminiProvider({ apiKey: 'k', baseUrl: 'http://127.0.0.1:1' }),
          model: 'gpt-4.1',
        }),
      }),
      'escalation base URL': () => ({
        ...base(),
        ...escalation({ provider: provider({ baseUrl: 'http://127.0.0.1:3/v1' }) }),
      }),
      'escalation detail (its preprocessing)': () => ({
        ...base(),
        ...escalation({ provider: provider({ detail: 'low' }) }),
      }),
      'escalation threshold': () => ({ ...base(), ...escalation({ below: 0.7 }) }),
    };
    const keyOf = async (options: PipelineOptions, sha = SHA) => {
      const pipeline = await createPipeline({ ...options, cache: { spec: 'off' } });
      const key = pipeline.cacheKey(sha);
      await pipeline.close();
      return key;
    };
    const keys = new Map<string, string>([['(base)', await keyOf(base())]]);
    expect(await keyOf(base())).toBe(keys.get('(base)'));
    keys.set('content', await keyOf(base(), OTHER_SHA));
    for (const [name, make] of Object.entries(variants)) {
      const key = await keyOf(make());
      const clash = [...keys].find(([, other]) => other === key);
      expect(clash?.[0], `changing the ${name} gives the key of ${clash?.[0]}`).toBeUndefined();
      keys.set(name, key);
    }
  });
});

describe('the resume signature and the resume decision', () => {
  async function signatureOf(options: {
    model?: string;
    profile?: 'max2048';
    providerOptions?: ProviderOptions;
    routes?: string;
    maxImageTokens?: number;
    nearDuplicateDistance?: number;
    instructions?: string;
  }): Promise<RunSignature> {
    const used = options.instructions ? patternOf(options.instructions) : pattern;
    const defaults = { pattern: used, provider: 'openai', model: options.model, profile: options.profile };
    const dir = await tempDir('visionpipe-signature-');
    let router: Awaited<ReturnType<typeof loadRouter>> | undefined;
    if (options.routes) {
      const file = path.join(dir, 'routes.yaml');
      await writeFile(file, options.routes);
      router = await loadRouter(file, defaults);
    }
    const cache = await openCache({ spec: 'off' });
    const set = new PipelineSet({
      defaults,
      ...(router ? { router } : {}),
      providerOptions: options.providerOptions ?? {
        openai: { apiKey: 'k', baseUrl: 'http://127.0.0.1:1/v1' },
      },
      cache,
      warn: () => {},
      sourceLimits: {},
      timeoutMs: 1000,
      ...(options.maxImageTokens ? { maxImageTokens: options.maxImageTokens } : {}),
      ...(options.nearDuplicateDistance === undefined
        ? {}
        : { nearDuplicateDistance: options.nearDuplicateDistance }),
    });
    const signature = await set.signature();
    await set.close();
    await cache.close();
    return signature;
  }

  it('pattern, provider options (endpoint), settings, near-duplicate distance, rules, routed providers, model and profile', async () => {
    const routes = 'routes:\n  - when: { path: "**/x/**" }\n    use: { provider: gemini }\n';
    const signatures: Record<string, RunSignature> = {
      '(base)': await signatureOf({}),
      pattern: await signatureOf({ instructions: 'Only the total.' }),
      'base URL': await signatureOf({
        providerOptions: { openai: { apiKey: 'k', baseUrl: 'http://127.0.0.1:2/v1' } },
      }),
      'provider option': await signatureOf({
        providerOptions: { openai: { apiKey: 'k', baseUrl: 'http://127.0.0.1:1/v1', detail: 'low' } },
      }),
      budget: await signatureOf({ maxImageTokens: 900 }),
      'near-duplicates on': await signatureOf({ nearDuplicateDistance: 4 }),
      'another near-duplicate distance': await signatureOf({ nearDuplicateDistance: 8 }),
      rules: await signatureOf({ routes }),
      'routed provider endpoint': await signatureOf({
        routes,
        providerOptions: {
          openai: { apiKey: 'k', baseUrl: 'http://127.0.0.1:1/v1' },
          gemini: { apiKey: 'k', baseUrl: 'http://127.0.0.1:9' },
        },
      }),
      model: await signatureOf({ model: 'gpt-4.1' }),
      profile: await signatureOf({ profile: 'max2048' }),
    };
    expect(await signatureOf({})).toEqual(signatures['(base)']);
    expect(signatures['(base)']!.pattern).toMatch(/^[0-9a-f]{64}$/);
    const seen = new Map<string, string>();
    for (const [name, signature] of Object.entries(signatures)) {
      const text = JSON.stringify(signature);
      expect(seen.get(text), `changing the ${name} gives the signature of ${seen.get(text)}`).toBeUndefined();
      seen.set(text, name);
    }
  });

  const record = (input: string, sha256: string): RunRecord =>
    ({ input, sha256, status: 'ok', output: { total: 1 } }) as unknown as RunRecord;
  const item = (label: string) => ({ kind: 'url' as const, label, url: label, rel: 'x' });
  const signature: RunSignature = {
    pattern: 'p',
    provider: 'openai',
    model: 'gpt-4.1-mini',
    profile: 'openai-patches',
  };

  async function earlierRun() {
    const dir = await tempDir('visionpipe-resume-keys-');
    const out = path.join(dir, 'out.jsonl');
    const first = await planResume({ out, stateDir: dir, signature, fresh: false });
    first.writer.write(record('http://h/a.png', SHA));
    first.processed({ input: 'http://h/a.png' });
    await first.finish(true);
    return { dir, out };
  }

  it.each(Object.keys(signature))(
    'a different %s is refused, naming -o and --fresh; --fresh starts over',
    async (field) => {
      const { dir, out } = await earlierRun();
      const other = { ...signature, [field]: 'other' };
      await expect(planResume({ out, stateDir: dir, signature: other, fresh: false })).rejects.toMatchObject({
        code: 'INVALID_OPTION',
        message: expect.stringMatching(/different .*-o\/--out.*--fresh/),
      });
      expect((await readFile(out, 'utf8')).length).toBeGreaterThan(0); // the earlier records are untouched
      const plan = await planResume({ out, stateDir: dir, signature: other, fresh: true });
      expect(plan.earlier).toBe(0);
      await plan.finish(false);
    },
  );

  it.each(['null', '"a string"', '[]', '{}', undefined])(
    'a sidecar holding %s (undefined: none) is refused without crashing, the records untouched; --fresh starts over',
    async (text) => {
      const { dir, out } = await earlierRun();
      const id = createHash('sha256').update(path.resolve(out)).digest('hex').slice(0, 16);
      const sidecar = path.join(dir, 'runs', `${id}.json`);
      if (text === undefined) await rm(sidecar);
      else await writeFile(sidecar, text);
      const before = await readFile(out, 'utf8');
      await expect(planResume({ out, stateDir: dir, signature, fresh: false })).rejects.toMatchObject({
        code: 'INVALID_OPTION',
        message: expect.stringMatching(/knows nothing of.*--state-dir.*--fresh/),
      });
      expect(await readFile(out, 'utf8')).toBe(before);
      const plan = await planResume({ out, stateDir: dir, signature, fresh: true });
      expect(plan.earlier).toBe(0);
      await plan.finish(false);
    },
  );

  it('a complete run drops only the lines it superseded: records of inputs it did not name stay, failed ones too', async () => {
    const { dir, out } = await earlierRun(); // a.png ok
    const second = await planResume({ out, stateDir: dir, signature, fresh: false });
    const failed = { ...record('http://h/b.png', SHA), status: 'error' } as RunRecord;
    second.writer.write(failed);
    second.processed(failed);
    await second.finish(true); // b.png only: a.png's record stays
    const third = await planResume({ out, stateDir: dir, signature, fresh: false });
    expect(third.earlier).toBe(1); // the ok one; the failed one is kept on file, never handed back
    expect(third.reuse(item('http://h/b.png'), SHA)).toBeUndefined();
    third.writer.write(record('http://h/c.png', OTHER_SHA));
    third.processed({ input: 'http://h/c.png' });
    await third.finish(true);
    const statuses = async () => (await readRecords(out)).map((r) => [r.input, r.status]);
    expect(await statuses()).toEqual([
      ['http://h/a.png', 'ok'],
      ['http://h/b.png', 'error'],
      ['http://h/c.png', 'ok'],
    ]);
    // Processing b.png again replaces its failed line: still one line per input.
    const fourth = await planResume({ out, stateDir: dir, signature, fresh: false });
    fourth.writer.write(record('http://h/b.png', SHA));
    fourth.processed({ input: 'http://h/b.png' });
    await fourth.finish(true);
    expect((await statuses()).sort()).toEqual([
      ['http://h/a.png', 'ok'],
      ['http://h/b.png', 'ok'],
      ['http://h/c.png', 'ok'],
    ]);
  });

  it('an empty results file without a sidecar starts over', async () => {
    const dir = await tempDir('visionpipe-resume-keys-');
    const out = path.join(dir, 'out.jsonl');
    await writeFile(out, '');
    const plan = await planResume({ out, stateDir: dir, signature, fresh: false });
    expect(plan.reason).toMatch(/starting over/);
    await plan.finish(false);
  });

  it('the same signature resumes an input only for the same content', async () => {
    const { dir, out } = await earlierRun();
    const plan = await planResume({ out, stateDir: dir, signature, fresh: false });
    expect(plan.earlier).toBe(1);
    expect(plan.reuse(item('http://h/a.png'), OTHER_SHA)).toBeUndefined();
    expect(plan.reuse(item('http://h/a.png'), SHA)).toMatchObject({ input: 'http://h/a.png', sha256: SHA });
    expect(plan.reuse(item('http://h/b.png'), SHA)).toBeUndefined();
    // An input that could not even be expanded is never resumed, whatever it is called.
    const broken = {
      kind: 'error' as const,
      label: 'http://h/a.png',
      error: new VisionpipeError('NOT_FOUND', 'gone'),
    };
    expect(plan.reuse(broken, SHA)).toBeUndefined();
    await plan.finish(false);
  });
});
