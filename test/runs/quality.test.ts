/**
 * Sorting `ok` records by what they hold, as the run summary does: records shaped like
 * the local engine's (confidence 0–1, nulls for fields not found).
 */
import { describe, expect, it } from 'vitest';
import { errorRecord, type RunRecord } from '../../src/pipeline/record.js';
import { enforceConfidence, isEmptyOutput, qualityOf } from '../../src/runs/quality.js';
import { RunSummary } from '../../src/runs/summary.js';

function okRecord(input: string, output: unknown, confidence: number | null): RunRecord {
  return {
    ...errorRecord(
      { input, pattern: 'Receipt', provider: 'local', model: 'tesseract-eng' },
      { code: 'X', message: '' },
    ),
    status: 'ok',
    error: null,
    sha256: 'a'.repeat(64),
    output,
    confidence,
    attempts: 1,
    cache: 'miss',
  };
}

describe('record quality', () => {
  it('calls an output empty only when no leaf carries data (0 and false are data)', () => {
    expect(isEmptyOutput({ a: null, b: { c: null, d: [] }, e: '  ' })).toBe(true);
    expect(isEmptyOutput({ a: null, total: 0 })).toBe(false);
    expect(isEmptyOutput({ paid: false })).toBe(false);
    expect(isEmptyOutput({ items: [{ name: null }, { name: 'x' }] })).toBe(false);
  });

  it('counts ok, empty and low_confidence apart and rates success on ok only', () => {
    const summary = new RunSummary({ minConfidence: 0.35 });
    summary.add(okRecord('a.png', { total: 3.5 }, 0.8));
    summary.add(okRecord('b.png', { total: null }, 0.9));
    summary.add(okRecord('c.png', { total: 7 }, 0.2));
    summary.add(okRecord('d.png', { total: 7 }, null)); // no confidence given: not judged
    const s = summary.toJSON();
    expect(s).toMatchObject({
      total: 4,
      ok: 2,
      empty: 1,
      low_confidence: 1,
      success_rate: 0.5,
      min_confidence: 0.35,
    });
  });

  it('makes a low-confidence record a LOW_CONFIDENCE error only when enforced', () => {
    const low = okRecord('c.png', { total: 7 }, 0.2);
    expect(qualityOf(low, 0.35)).toBe('low_confidence');
    expect(enforceConfidence(low, { min: 0.35, enforce: false, source: 'engine calibration' })).toBe(low);
    const enforced = enforceConfidence(low, { min: 0.35, enforce: true, source: '--min-confidence' });
    expect(enforced).toMatchObject({
      status: 'error',
      error: { code: 'LOW_CONFIDENCE' },
      output: { total: 7 },
    });
    expect(
      enforceConfidence(okRecord('a.png', { total: 1 }, 0.35), { min: 0.35, enforce: true, source: '' })
        .status,
    ).toBe('ok');
  });
});
