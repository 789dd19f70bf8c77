/**
 * The boundaries of the local engine's value readers, case by case: where StrykerJS found
 * a changed limit, word or branch that no test noticed (npm run mutate:quality).
 */
import { describe, expect, it } from 'vitest';
import type { SchemaNode } from '../../src/patterns/types.js';
import {
  documentDayOrder,
  findCurrency,
  findDates,
  findNumbers,
  parseBoolean,
  parseDate,
} from '../../src/providers/local/coerce.js';
import { fieldKind } from '../../src/providers/local/field-kinds.js';
import {
  type FitContext,
  fitEmail,
  fitIdentifier,
  fitName,
  fitPhone,
  fitPlate,
  fitTime,
  fitUrl,
  fitValue,
  fitVin,
} from '../../src/providers/local/fit-value.js';

const after: FitContext = { order: 'dmy', position: 'after' };
const right: FitContext = { order: 'dmy', position: 'right' };
const str: SchemaNode = { type: ['string', 'null'] };

describe('numbers', () => {
  it.each([
    ['1O5', 105],
    ['2o0', 200],
    ['1D0', 100],
    ['1l0', 110],
    ['1I0', 110],
    ['1|0', 110],
    ['1S0', 150],
    ['1B0', 180],
    ['(12.00)', -12],
    ['-7', -7],
    ['1.234,56', 1234.56],
    ['1,234.56', 1234.56],
    ['1,234', 1234],
    ['1.5', 1.5],
    ['0.500', 0.5],
    ['1.234.567', 1234567],
    ['S12', 12],
    ["1'234.50", 1234.5],
  ])('%s is %d', (text, value) => {
    expect(findNumbers(text)[0]).toBe(value);
  });

  it('finds no number in letters and separators alone', () => {
    expect(findNumbers('abc .,')).toEqual([]);
    expect(findNumbers('INV-10234')).toEqual([10234]);
  });
});

describe('dates', () => {
  it.each([
    ['2024-02-30', []],
    ['2024-13-01', []],
    ['00/01/2024', []],
    ['32/01/2024', []],
    ['20-12-76', []],
    ['13/01/2024', ['2024-01-13']],
    ['01/13/2024', ['2024-01-13']],
    ['31.12.99', ['2099-12-31']],
    ['5 Sept 2024', ['2024-09-05']],
    ['Sep 5, 2024', ['2024-09-05']],
    ['3rd March 2024', ['2024-03-03']],
  ])('%s → %j', (text, iso) => {
    expect(findDates(text).map((d) => d.iso)).toEqual(iso);
  });

  it('says which order an unambiguous date proves, and which dates were ambiguous', () => {
    expect(findDates('13/01/2024')[0]).toEqual({ iso: '2024-01-13', ambiguous: false, proves: 'dmy' });
    expect(findDates('01/13/2024')[0]).toEqual({ iso: '2024-01-13', ambiguous: false, proves: 'mdy' });
    expect(findDates('05/04/2024')[0]).toEqual({ iso: '2024-04-05', ambiguous: true });
    expect(findDates('05/05/2024')[0]).toEqual({ iso: '2024-05-05', ambiguous: false });
    expect(findDates('2024-05-04')[0]).toEqual({ iso: '2024-05-04', ambiguous: false });
    expect(parseDate('05/04/2024', 'mdy')).toBe('2024-05-04');
    expect(parseDate('05/04/2024')).toBe('2024-04-05');
    expect(documentDayOrder('x 01/13/2024 y')).toBe('mdy');
    expect(documentDayOrder('Total $5')).toBe('mdy');
    expect(documentDayOrder('Total 5 EUR')).toBe('dmy');
  });
});

describe('booleans and currencies', () => {
  it.each(['yes', 'y', 'true', '✓', '✔', '☑', 'x', '[x]', 'present', 'visible', 'signed', 'checked'])(
    '%s is true',
    (word) => expect(parseBoolean(`${word} `)).toBe(true),
  );
  it.each(['no', 'n', 'false', '✗', '☐', '[ ]', 'none', 'absent', 'not', 'unsigned'])('%s is false', (word) =>
    expect(parseBoolean(`${word}, signed`)).toBe(false),
  );
  it('reads nothing else as a boolean', () => expect(parseBoolean('maybe')).toBeUndefined());

  it.each([
    ['¥500', 'JPY'],
    ['₹500', 'INR'],
    ['€5 and €6 and $1', 'EUR'],
    ['£5', 'GBP'],
    ['nzd 5', 'NZD'],
    ['5.00', undefined],
  ])('%s → %s', (text, code) => {
    expect(findCurrency(text)).toBe(code);
  });

  it('reads currency names', () => {
    for (const [text, code] of [
      ['Euros only', 'EUR'],
      ['Pounds sterling', 'GBP'],
      ['10000 yen', 'JPY'],
      ['One rupee', 'INR'],
    ])
      expect(fitValue('currency', text!, str, after)).toBe(code);
  });
});

describe('names and places', () => {
  it.each([
    ['A', undefined],
    ['AB', undefined],
    ['ABC', 'ABC'],
    ['Al Bo Cy Di Ed Fo Gu Ha', 'Al Bo Cy Di Ed Fo Gu Ha'],
    ['Al Bo Cy Di Ed Fo Gu Ha Iz', undefined],
    [`A${'b'.repeat(19)}`, `A${'b'.repeat(19)}`],
    [`A${'b'.repeat(20)}`, undefined],
    ['Acme | Co', undefined],
    ['Acme / Co', undefined],
    ['Acme – Co', undefined],
    ['Visit www.acme.com', undefined],
    ['See https://acme.com', undefined],
    ['Name: Acme', undefined],
    ['Acme Co:', undefined],
    ['ACME 12345', undefined],
    ['Suite Home', undefined],
    ['Acme Co 12', 'Acme Co 12'],
    ['Acme 12', undefined],
    ['Ac1 2345', undefined],
    ['Acme of the West', 'Acme of the West'],
    ['Acme of the west side', undefined],
    ['Acme Sales Team Ltd.', 'Acme Sales Team Ltd.'],
    ['Acme Sales Team Group.', undefined],
    ['The Acme', 'The Acme'],
    ['(Acme) Corp', '(Acme) Corp'],
    ['- Acme -', 'Acme'],
    ['Acme;', 'Acme'],
    ['By The', undefined],
  ])('name %j → %j', (text, value) => {
    expect(fitName(text)).toBe(value);
  });

  it('a place is any short text with letters, not an email or a label', () => {
    expect(fitValue('place', 'Palo Alto, CA', str, after)).toBe('Palo Alto, CA');
    expect(fitValue('place', 'A', str, after)).toBeUndefined();
    expect(fitValue('place', '12', str, after)).toBeUndefined();
    expect(fitValue('place', 'me@x.com', str, after)).toBeUndefined();
    expect(fitValue('place', 'City:', str, after)).toBeUndefined();
    expect(fitValue('place', 'x'.repeat(121), str, after)).toBeUndefined();
    expect(fitValue('place', `A${'b'.repeat(119)}`, str, after)).toBe(`A${'b'.repeat(119)}`);
  });

  it('free text is letters or digits, not a label, not a paragraph', () => {
    expect(fitValue('text', 'Blue', str, after)).toBe('Blue');
    expect(fitValue('text', '7', str, after)).toBe('7');
    expect(fitValue('text', '—', str, after)).toBeUndefined();
    expect(fitValue('text', '   ', str, after)).toBeUndefined();
    expect(fitValue('text', 'x'.repeat(121), str, after)).toBeUndefined();
    expect(fitValue('text', 'x'.repeat(120), str, after)).toBe('x'.repeat(120));
  });
});

describe('identifiers, VINs, plates', () => {
  it.each([
    ['(A1)', 'A1'],
    ['#:12;', '12'],
    ['№ 42', '42'],
    ['1', undefined],
    ['A-1/2.3_4', 'A-1/2.3_4'],
    ['A_1', 'A_1'],
    ['12.03.2024 77', '77'],
    ['2024-03-12', '2024-03-12'],
    ['Ref: AB C7', 'C7'],
  ])('identifier %j → %j', (text, value) => {
    expect(fitIdentifier(text)).toBe(value);
  });

  it('VINs', () => {
    expect(fitVin('1FDUF5GY7 FEB56312')).toBe('1FDUF5GY7FEB56312');
    expect(fitVin('xx-1FDUF5GY7FEB56312')).toBe('1FDUF5GY7FEB56312');
    expect(fitVin('11111111111111111')).toBeUndefined();
    expect(fitVin('1FDUF5GY7FEB5631A')).toBeUndefined();
    // Position 9 read as O where a check digit is due: the check digit the rest calls for.
    expect(fitVin('1FDUF5GYOFEB56312')).toBe('1FDUF5GY7FEB56312');
    // Q and I elsewhere are 0 and 1, and a North-American VIN must then pass its check digit.
    expect(fitVin('1FDUF5GY7FEBQ6312')).toBeUndefined();
    expect(fitVin('1FDUF5GY7FEB5631I')).toBeUndefined();
    // Position 10 is a model year: never U, Z or 0 (49 CFR 565.15(d)).
    expect(fitVin('ZZZZZZZZZZZZZ1234')).toBeUndefined();
    // Another region's VIN (no check digit there): one printed word, or under its label.
    expect(fitVin('WVGZZZ1TZ6W110386', false)).toBe('WVGZZZ1TZ6W110386');
    expect(fitVin('WVGZZZ1TZ 6W110386', false)).toBeUndefined();
    expect(fitVin('WVGZZZ1TZ 6W110386', true)).toBe('WVGZZZ1TZ6W110386');
  });

  it('plates', () => {
    expect(fitPlate('AB 12 CD EF')).toBe('AB12CD');
    expect(fitPlate('1234')).toBe('1234');
    expect(fitPlate('123')).toBeUndefined();
    expect(fitPlate('ABCDEFGHIJ1')).toBeUndefined();
    expect(fitPlate('ABCDEFGHI1')).toBe('ABCDEFGHI1');
    expect(fitPlate('-AB12-')).toBeUndefined();
    expect(fitPlate('ab-12')).toBe('AB12');
  });
});

describe('emails, phones, web addresses, times', () => {
  it('emails', () => {
    expect(fitEmail('a.b+c@mail.example.org,')).toBe('a.b+c@mail.example.org');
    expect(fitEmail('a@b.c')).toBeUndefined();
    expect(fitEmail('a@b')).toBeUndefined();
  });

  it.each([
    ['+1 (555) 234-5678', '+1 (555) 234-5678'],
    ['555 1234', '555 1234'],
    ['55 1234', undefined],
    ['1234567890123456', undefined],
    ['123456789012345', '123456789012345'],
    ['2017-2021', undefined],
    ['1999 – 2005', undefined],
    ['3 Jan 2024 10:00', undefined],
  ])('phone %j → %j', (text, value) => {
    expect(fitPhone(text)).toBe(value);
  });

  it('web addresses', () => {
    expect(fitUrl('see https://a.example/x?y=1, thanks', true)).toBe('https://a.example/x?y=1');
    expect(fitUrl('see www.acme.com', true)).toBeUndefined();
    expect(fitUrl('see www.acme.com', false)).toBe('www.acme.com');
    expect(fitUrl('acme.co.uk/shop', false)).toBe('acme.co.uk/shop');
    expect(fitUrl('just words', false)).toBeUndefined();
    expect(fitValue('url', 'www.acme.com', { ...str, format: 'uri' }, after)).toBeUndefined();
    expect(fitValue('url', 'www.acme.com', str, after)).toBe('www.acme.com');
  });

  it.each([
    ['9.05', '09:05'],
    ['12:00 pm', '12:00'],
    ['12:00 am', '00:00'],
    ['11:59 a.m.', '11:59'],
    ['1:00 pm', '13:00'],
    ['23:59:58', '23:59:58'],
    ['24:00', undefined],
    ['12:60', undefined],
  ])('time %j → %j', (text, value) => {
    expect(fitTime(text)).toBe(value);
  });

  it('a date-time joins the date with its time, seconds when printed', () => {
    const node: SchemaNode = { ...str, format: 'date-time' };
    expect(fitValue('datetime', '03/02/2024 10:15:30', node, after)).toBe('2024-02-03T10:15:30');
    expect(fitValue('datetime', 'at 10:15', node, after)).toBeUndefined();
  });
});

describe('fitValue dispatch', () => {
  it('takes the last number on the label’s line, the first elsewhere', () => {
    expect(fitValue('amount', '2 x 12.50 = 25.00', { type: ['number', 'null'] }, after)).toBe(25);
    expect(fitValue('amount', '2 x 12.50 = 25.00', { type: ['number', 'null'] }, right)).toBe(2);
    expect(fitValue('amount', 'none', { type: ['number', 'null'] }, after)).toBeUndefined();
    expect(fitValue('amount', '5', { type: 'string' }, after)).toBe('5');
  });

  it('reads booleans, VINs and formatted strings', () => {
    expect(fitValue('boolean', 'Yes', { type: ['boolean', 'null'] }, after)).toBe(true);
    expect(fitValue('vin', 'VIN 1FDUF5GY7FEB56312', str, after)).toBe('1FDUF5GY7FEB56312');
    const uuid = '123e4567-e89b-12d3-a456-426614174000';
    expect(fitValue('formatted', `id: ${uuid}.`, { ...str, format: 'uuid' }, after)).toBe(uuid);
    expect(fitValue('patterned', 'code AB-12 here', { ...str, pattern: '^[A-Z]{2}-\\d{2}$' }, after)).toBe(
      'AB-12',
    );
    expect(fitValue('patterned', 'code AB 12 here', { ...str, pattern: '^AB12$' }, after)).toBe('AB12');
    expect(fitValue('text', '', str, after)).toBeUndefined();
  });

  it('a number that breaks the schema is not searched for as text', () => {
    expect(fitValue('number', '150', { type: ['number', 'null'], maximum: 100 }, after)).toBeUndefined();
  });
});

describe('fieldKind tables', () => {
  it.each([
    ['x', { ...str, format: 'date' }, 'date'],
    ['x', { ...str, format: 'time' }, 'time'],
    ['x', { ...str, format: 'uri' }, 'url'],
    ['x', { ...str, format: 'ipv4' }, 'formatted'],
    ['registration_number', str, 'plate'],
    ['licence_plate', str, 'plate'],
    ['reg_currency_code', str, 'currency'],
    ['contactEmail', str, 'email'],
    ['x', { ...str, title: 'Website' }, 'url'],
    ['x', { ...str, description: 'the customer' }, 'name'],
    ['x', str, 'text'],
    ['x', { type: 'object', properties: {} }, undefined],
    ['x', { type: ['array', 'null'], items: str }, undefined],
    ['x', { type: 'null' }, undefined],
    ['x', { type: ['number', 'null'], enum: [1, 2, null] }, 'number'],
  ] as Array<[string, SchemaNode, string | undefined]>)('%s %j → %s', (key, node, kind) => {
    expect(fieldKind(key, node)).toBe(kind);
  });
});
