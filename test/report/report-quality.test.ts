/**
 * The report judges `ok` records as the run summary does: an all-null answer is `empty`, a
 * local-engine answer below its calibration is `low_confidence`, and neither is a success.
 */
import { describe, expect, it } from 'vitest';
import { FigureTally } from '../../src/report/figures.js';
import { reportRecordSchema } from '../../src/report/read-results.js';

function record(fields: Record<string, unknown>) {
  return reportRecordSchema.parse({
    input: 'a.jpg',
    pattern: 'receipt',
    sha256: 'x',
    status: 'ok',
    output: { total: 12 },
    error: null,
    cache: 'miss',
    provider: 'openai',
    model: 'gpt-4.1-mini',
    latency_ms: 100,
    attempts: 1,
    image: null,
    usage: { input_tokens: 10, output_tokens: 5, image_tokens: 85, estimated: false },
    cost_usd: 0,
    ...fields,
  });
}

describe('report headline', () => {
  it('counts empty and low-confidence answers apart and not as successes', () => {
    const tally = new FigureTally();
    tally.add(record({}));
    tally.add(record({ output: { total: null, vendor: '' } }));
    tally.add(record({ provider: 'local', model: 'tesseract', confidence: 0.05 }));
    tally.add(record({ status: 'error', output: null, error: { code: 'IMAGE_DECODE', message: 'bad' } }));
    const h = tally.figures().headline;
    expect({ ok: h.ok, empty: h.empty, low: h.low_confidence, errors: h.errors }).toEqual({
      ok: 1,
      empty: 1,
      low: 1,
      errors: 1,
    });
    expect(h.success_rate).toBe(0.25);
  });

  it('a remote answer with no confidence and real data is a success', () => {
    const tally = new FigureTally();
    tally.add(record({ confidence: null }));
    expect(tally.figures().headline.success_rate).toBe(1);
  });
});
