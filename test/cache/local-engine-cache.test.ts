/**
 * The local engine is its own model (issue 11 §1): a result-cache entry written by another
 * version of it (or by the engine before it had a version in its key) is never served as
 * this engine's answer, with the real engine and the real SQLite cache.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCache } from '../../src/cache/open-cache.js';
import { parsePattern } from '../../src/patterns/index.js';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import { LOCAL_ENGINE_VERSION } from '../../src/providers/local/engine-version.js';
import { OcrEngine } from '../../src/providers/local/ocr-engine.js';
import { LocalProvider, localAnswerKey } from '../../src/providers/local.js';
import { ROOT } from '../support/cli.js';
import { tempDir } from '../support/images.js';

const IMAGE = path.join(ROOT, 'samples/images/invoice-001.png');
const pattern = parsePattern(
  {
    name: 'invoice',
    format: 'json',
    instructions: 'The invoice.',
    json_schema: { invoice_number: 'string', total: 'number' },
  },
  'local-engine-cache',
);

/** A local provider that keys its answers as `answerKey` would (undefined: as before engines had a version). */
function keyedAs(answerKey: string | undefined): LocalProvider {
  const provider = new LocalProvider({ workers: 1 });
  if (answerKey === undefined) Reflect.deleteProperty(provider, 'answerKey');
  else Object.defineProperty(provider, 'answerKey', { value: answerKey });
  return provider;
}

/** The result-cache key of `sha256` for a pipeline on `provider`. */
async function keyOn(provider: LocalProvider, sha256: string): Promise<string> {
  const pipeline = await createPipeline({ pattern, provider, cache: { spec: 'off' } });
  const key = pipeline.cacheKey(sha256);
  await pipeline.close();
  return key;
}

describe('the local engine in cache keys', () => {
  it('its answer key names the engine version, tesseract.js, the language data and the OCR settings', () => {
    const key = JSON.parse(new LocalProvider().answerKey) as { engine: number; ocr: string };
    expect(key.engine).toBe(LOCAL_ENGINE_VERSION);
    expect(JSON.parse(key.ocr)).toMatchObject({
      tesseract: expect.stringMatching(/^\d+\.\d+\.\d+/),
      core: expect.stringMatching(/^\d+\.\d+\.\d+/),
      languageData: [expect.stringMatching(/^\d+\.\d+\.\d+/), expect.any(String)],
      language: 'eng',
      oem: expect.any(Number),
      rotateAuto: true,
    });
    // Workers change speed, not answers.
    expect(new LocalProvider({ workers: 3 }).answerKey).toBe(new LocalProvider({ workers: 1 }).answerKey);
  });

  it('an entry cached by another engine version, or before versions were keyed, is not served', async () => {
    const stateDir = await tempDir('visionpipe-local-engine-');
    const run = async () => {
      const cache = await openCache({ spec: 'sqlite', stateDir });
      const pipeline = await createPipeline({ pattern, provider: new LocalProvider({ workers: 1 }), cache });
      const record = await pipeline.process(IMAGE);
      const key = pipeline.cacheKey(record.sha256!);
      await pipeline.close();
      return { record, key, cache };
    };
    const first = await run();
    expect(first.record).toMatchObject({ status: 'ok', cache: 'miss' });
    const entry = JSON.parse((await first.cache.results.get(first.key))!.toString('utf8'));
    const stale = Buffer.from(
      JSON.stringify({ ...entry, output: { invoice_number: 'OLD ENGINE', total: -1 } }),
    );
    const sha256 = first.record.sha256!;
    const olderKeys = [
      await keyOn(keyedAs(localAnswerKey(LOCAL_ENGINE_VERSION - 1, new OcrEngine())), sha256),
      await keyOn(keyedAs(undefined), sha256),
    ];
    expect(new Set([first.key, ...olderKeys]).size).toBe(3);
    for (const key of olderKeys) await first.cache.results.set(key, stale, 0);
    await first.cache.results.delete(first.key);
    await first.cache.close();

    const second = await run();
    expect(second.record).toMatchObject({ status: 'ok', cache: 'miss', output: first.record.output });
    // The same entry under this engine's own key is served: only the key kept it out.
    await second.cache.results.set(second.key, stale, 0);
    await second.cache.close();
    const third = await run();
    expect(third.record).toMatchObject({ cache: 'hit', output: { invoice_number: 'OLD ENGINE', total: -1 } });
    await third.cache.close();
  }, 120_000);
});
