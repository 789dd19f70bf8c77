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

describe('confidence per field (field_confidence)', () => {
  const withFields = (
    output: Record<string, unknown>,
    fields: Record<string, number>,
    confidence: number,
  ) => ({
    ...okRecord('f.png', output, confidence),
    field_confidence: fields,
  });

  it('a record whose values are mostly under the threshold is low_confidence, whatever its mean', () => {
    // Mean 0.5 (above 0.35), but two of the three values given are unsupported.
    const mostlyWeak = withFields(
      { vendor_name: 'DESCRIPTION', date: 'x', total: 12 },
      { vendor_name: 0.2, date: 0.3, total: 1 },
      0.5,
    );
    expect(qualityOf(mostlyWeak, 0.35)).toBe('low_confidence');
    const mostlyStrong = withFields(
      { vendor_name: 'ACME', date: '2024-01-02', total: 12 },
      { vendor_name: 0.2, date: 0.9, total: 0.9 },
      0.67,
    );
    expect(qualityOf(mostlyStrong, 0.35)).toBe('ok');
    // Nulls are not values given: a record with one strong value and many nulls is judged by its mean.
    expect(qualityOf(withFields({ a: 1, b: null, c: null }, { a: 0.9, b: 0, c: 0 }, 0.9), 0.35)).toBe('ok');
  });

  it("line items' cells do not outvote weak header fields; under the threshold a cell is nulled", () => {
    // Two of three header values unsupported, twelve table cells read cleanly: still weak.
    const cells = Object.fromEntries(
      [0, 1, 2, 3].flatMap((i) =>
        ['description', 'quantity', 'amount'].map((k) => [`line_items/${i}/${k}`, 0.95]),
      ),
    );
    const items = [0, 1, 2, 3].map(() => ({ description: 'x', quantity: 1, amount: 2 }));
    const record = withFields(
      { vendor_name: 'uote', date: 'x', total: 12, line_items: items },
      { vendor_name: 0.2, date: 0.3, total: 0.9, ...cells },
      0.5,
    );
    expect(qualityOf(record, 0.35)).toBe('low_confidence');
    const weakCell = withFields(
      { total: 12, line_items: [{ description: 'Widgets', amount: 30 }] },
      { total: 0.9, 'line_items/0/description': 0.9, 'line_items/0/amount': 0.2 },
      0.9,
    );
    const enforced = enforceConfidence(weakCell, { min: 0.35, enforce: true, source: '--min-confidence' });
    expect(enforced.output).toEqual({ total: 12, line_items: [{ description: 'Widgets', amount: null }] });
  });

  it('--min-confidence nulls each field under it and keeps the rest, nested ones too', () => {
    const record = withFields(
      { vendor_name: 'DESCRIPTION', total: 12, address: { city: 'Leeds', zip: 'x1' } },
      { vendor_name: 0.3, total: 0.9, 'address/city': 0.8, 'address/zip': 0.1 },
      0.7,
    );
    const enforced = enforceConfidence(record, { min: 0.5, enforce: true, source: '--min-confidence' });
    expect(enforced.status).toBe('ok');
    expect(enforced.output).toEqual({ vendor_name: null, total: 12, address: { city: 'Leeds', zip: null } });
    expect(enforced.field_confidence).toEqual(record.field_confidence);
    expect(record.output).toMatchObject({ vendor_name: 'DESCRIPTION' }); // the input is not changed
    // A record that becomes LOW_CONFIDENCE holds no field under the threshold either.
    const weak = withFields({ vendor_name: 'DESCRIPTION', total: 12 }, { vendor_name: 0.3, total: 0.9 }, 0.3);
    const refused = enforceConfidence(weak, { min: 0.5, enforce: true, source: '--min-confidence' });
    expect(refused).toMatchObject({ status: 'error', error: { code: 'LOW_CONFIDENCE' } });
    expect(refused.output).toEqual({ vendor_name: null, total: 12 });
    // Not enforced (the engine's own calibration only counts): nothing is changed.
    expect(enforceConfidence(record, { min: 0.5, enforce: false, source: 'engine calibration' })).toBe(
      record,
    );
  });

  it('--min-confidence fails a record whose values are all under it, keeping what was read', () => {
    const record = withFields(
      { vendor_name: 'uote', date: 'No Dated' },
      { vendor_name: 0.2, date: 0.25 },
      0.22,
    );
    const enforced = enforceConfidence(record, { min: 0.35, enforce: true, source: '--min-confidence' });
    expect(enforced.status).toBe('error');
    expect(enforced.error?.code).toBe('LOW_CONFIDENCE');
  });
});
