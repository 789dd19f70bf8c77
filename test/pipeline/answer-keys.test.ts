/**
 * The answer-keys stage on its own: the result key is the cache key of content + pattern
 * + model + settings, the extraction key exists only with triage and differs from the
 * result key, and the resume signature carries the page range in document mode only.
 * (Every component of every key, end to end: test/cache/key-components.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { resultKey } from '../../src/cache/keys.js';
import { resolveDocumentOptions } from '../../src/documents/options.js';
import { preprocessFingerprint } from '../../src/image/options.js';
import { parsePattern } from '../../src/patterns/index.js';
import { answerKeys } from '../../src/pipeline/answer-keys.js';
import { answerOptions } from '../../src/pipeline/answer-settings.js';
import { choose } from '../../src/pipeline/model-choice.js';
import type { LoadedInput } from '../../src/pipeline/stages.js';
import { OpenAIProvider } from '../../src/providers/openai.js';

const pattern = parsePattern(
  { name: 'receipt', format: 'json', instructions: 'Read the receipt.', json_schema: { total: 'number' } },
  'answer-keys',
);
const provider = new OpenAIProvider({ apiKey: 'k', baseUrl: 'http://127.0.0.1:1/v1' });
const primary = choose(provider, undefined, undefined, undefined);
const cheap = { ...choose(provider, 'gpt-4.1-nano', 'triage', undefined), question: 'Is this a receipt?' };
const sha = 'a'.repeat(64);

describe('answerKeys', () => {
  it('keys content with pattern, provider, model and preprocessing; no extraction key without triage', () => {
    const answers = { primary, budget: undefined, triage: undefined, escalation: undefined };
    const keys = answerKeys({ pattern, answers, documents: resolveDocumentOptions(undefined) });
    const key = keys.keyFor(sha);
    expect(key).toBe(
      resultKey({
        sha256: sha,
        patternFingerprint: pattern.fingerprint,
        provider: 'openai',
        model: primary.model,
        preprocess: preprocessFingerprint(primary.preprocess),
        options: answerOptions(answers),
      }),
    );
    expect(keys.keyFor('b'.repeat(64))).not.toBe(key);
    expect(keys.extractionKey).toBeUndefined();
  });

  it('with triage: another result key, and the extraction kept under a key without triage', () => {
    const documents = resolveDocumentOptions(undefined);
    const plain = answerKeys({
      pattern,
      answers: { primary, budget: undefined, triage: undefined, escalation: undefined },
      documents,
    });
    const triaged = answerKeys({
      pattern,
      answers: { primary, budget: undefined, triage: cheap, escalation: undefined },
      documents,
    });
    expect(triaged.keyFor(sha)).not.toBe(plain.keyFor(sha));
    const loaded = { sha256: sha } as LoadedInput;
    expect(triaged.extractionKey?.(loaded)).toBe(plain.keyFor(sha));
    expect(triaged.settings).not.toBe(plain.settings);
  });

  it('the resume signature carries the pages mode, and the page range in document mode only', () => {
    const sign = (documents: unknown) =>
      answerKeys({
        pattern,
        answers: { primary, budget: undefined, triage: undefined, escalation: undefined },
        documents: resolveDocumentOptions(documents),
      }).settings;
    expect(sign({ pages: 'document', pageRange: '1-2' })).not.toBe(sign({ pages: 'document' }));
    expect(sign({ pages: 'each', pageRange: '1-2' })).toBe(sign({ pages: 'each' }));
    expect(sign({ pages: 'each' })).not.toBe(sign({ pages: 'document' }));
  });
});
