import { describe, expect, it } from 'vitest';
import {
  documentDayOrder,
  findCurrency,
  findDates,
  findNumbers,
  parseBoolean,
  parseNumber,
} from '../../src/providers/local/coerce.js';

describe('parseNumber / findNumbers', () => {
  it('reads amounts with currency symbols and either thousands convention', () => {
    expect(parseNumber('$1,699.48')).toBe(1699.48);
    expect(parseNumber('1.234,56 €')).toBe(1234.56);
    expect(parseNumber('£ 99.00')).toBe(99);
    expect(parseNumber("CHF 1'234.50")).toBe(1234.5);
    expect(parseNumber('EUR 12,5')).toBe(12.5);
    expect(parseNumber('(12.00)')).toBe(-12);
    expect(parseNumber('Total: -5.20')).toBe(-5.2);
    expect(parseNumber('no digits here')).toBeUndefined();
  });

  it('keeps separate numbers on one line apart and ignores identifiers', () => {
    expect(findNumbers('Services $55.00 10 $550.00')).toEqual([55, 10, 550]);
    expect(findNumbers('INV-10234')).toEqual([10234]);
  });

  it('repairs OCR slips inside numbers but not letters around them', () => {
    expect(parseNumber('1O5.00')).toBe(105);
    expect(parseNumber('S5.00')).toBe(5); // "$" misread as "S"
  });
});

describe('findDates', () => {
  it('normalises the common formats to ISO 8601', () => {
    for (const text of [
      '2024-03-15',
      '15/03/2024',
      '03/15/2024',
      'Mar 15, 2024',
      '15 March 2024',
      'March 15th 2024',
      '15.03.2024',
    ]) {
      expect(findDates(text)[0]?.iso, text).toBe('2024-03-15');
    }
  });

  it('uses the document order for ambiguous dates and rejects impossible ones', () => {
    expect(findDates('05/04/2024', 'dmy')[0]).toMatchObject({ iso: '2024-04-05', ambiguous: true });
    expect(findDates('05/04/2024', 'mdy')[0]).toMatchObject({ iso: '2024-05-04', ambiguous: true });
    expect(findDates('31/02/2024')).toEqual([]);
    expect(findDates('15/03/24')[0]?.iso).toBe('2024-03-15');
  });

  it('infers the day order from the document', () => {
    expect(documentDayOrder('Date 26/03/2021 … Due 05/04/2021')).toBe('dmy');
    expect(documentDayOrder('Date 03/26/2021')).toBe('mdy');
    expect(documentDayOrder('Total $12.00 on 05/04/2021')).toBe('mdy');
    expect(documentDayOrder('Total 12,00 € on 05/04/2021')).toBe('dmy');
  });
});

describe('parseBoolean / findCurrency', () => {
  it('reads yes/no style values', () => {
    expect(parseBoolean('Yes')).toBe(true);
    expect(parseBoolean('✓ signed')).toBe(true);
    expect(parseBoolean('No')).toBe(false);
    expect(parseBoolean('maybe')).toBeUndefined();
  });

  it('maps symbols and codes to ISO 4217', () => {
    expect(findCurrency('Amounts in EUR')).toBe('EUR');
    expect(findCurrency('Total £12')).toBe('GBP');
    expect(findCurrency('Total 12 €')).toBe('EUR');
    expect(findCurrency('Total $12')).toBe('USD');
    expect(findCurrency('Total 12')).toBeUndefined();
  });
});
