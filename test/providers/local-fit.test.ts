/**
 * The local engine keeps a value only when it fits its field: the kind read from the
 * field's type, format, name and description, and the field's own schema. Each kind is
 * tried with what OCR really produces next to labels: the values of issue 11 §7 ("email."
 * as a date, "uote" as a vendor…) and their relatives.
 */
import { describe, expect, it } from 'vitest';
import { parsePattern } from '../../src/patterns/index.js';
import type { SchemaNode } from '../../src/patterns/types.js';
import { fieldKind } from '../../src/providers/local/field-kinds.js';
import {
  type FitContext,
  fitIdentifier,
  fitName,
  fitPhone,
  fitPlate,
  fitTime,
  fitValue,
  fitVin,
} from '../../src/providers/local/fit-value.js';
import { vinCheckDigit } from '../../src/providers/local/identifier.js';

const ctx: FitContext = { order: 'dmy', position: 'after' };
const str: SchemaNode = { type: ['string', 'null'] };
const num: SchemaNode = { type: ['number', 'null'] };

describe('fieldKind', () => {
  it.each([
    ['invoice_date', str, 'date'],
    ['due_date', str, 'date'],
    ['dob', str, 'date'],
    ['issued', { ...str, description: 'When issued, YYYY-MM-DD' }, 'date'],
    ['total_amount', str, 'amount'],
    ['subtotal', str, 'amount'],
    ['invoice_number', str, 'identifier'],
    ['rx_number', str, 'identifier'],
    ['account_id', str, 'identifier'],
    ['plate_number', str, 'plate'],
    ['phone_number', str, 'phone'],
    ['vin', str, 'vin'],
    ['vendor_name', str, 'name'],
    ['account_name', str, 'name'],
    ['customer', str, 'name'],
    ['email', str, 'email'],
    ['website', str, 'url'],
    ['currency', str, 'currency'],
    ['location', str, 'place'],
    ['notes', str, 'text'],
    ['x', { ...str, description: 'Total / Amount due' }, 'amount'],
    ['when', { ...str, format: 'date-time' }, 'datetime'],
    ['contact', { ...str, format: 'email' }, 'email'],
    ['code', { ...str, pattern: '^[A-Z]{3}$' }, 'identifier'],
    ['tag', { ...str, pattern: '^[A-Z]{3}$' }, 'patterned'],
    ['id', { ...str, format: 'uuid' }, 'identifier'],
    ['kind', { ...str, enum: ['a', 'b', null] }, 'enum'],
    ['total', num, 'number'],
    ['count', { type: ['integer', 'null'] }, 'integer'],
    ['paid', { type: ['boolean', 'null'] }, 'boolean'],
  ] as Array<[string, SchemaNode, string]>)('%s %j is %s', (key, node, kind) => {
    expect(fieldKind(key, node)).toBe(kind);
  });

  it('has no kind for lists and objects', () => {
    expect(fieldKind('items', { type: 'array', items: str })).toBeUndefined();
    expect(fieldKind('address', { type: 'object', properties: {} })).toBeUndefined();
  });
});

describe('fitValue keeps only values that fit the field (the issue 11 §7 values)', () => {
  it.each([
    ['date', 'email.'],
    ['date', 'OF SERVICE'],
    ['date', 'No Dated'],
    ['date', 'BY:'],
    ['amount', 'DUE:'],
    ['identifier', 'Invoice'],
    ['identifier', 'Number Amount Due'],
    ['name', 'uote'],
    ['name', 'PUSA ROAD,NEW DELHI-110005'],
    ['name', 'w— MAKE CHECKS PAYABLE TO: sem—'],
    ['name', 'the date above manufacturer coverage on all hardware.'],
    ['name', 'BY'],
    ['name', 'Intern - Data Entry'],
    ['name', 'diana@novoresume.com'],
    ['name', 'RemoteWorkEnvironments.Skilled InAnalyzing LargeDatasets'],
    ['email', 'Email'],
    ['phone', '2017 - 2021'],
    ['phone', '12/03/2024'],
    ['vin', 'VIN'],
    ['plate', 'CAR'],
    ['currency', 'Total'],
    ['text', 'BY:'],
  ] as const)('%s refuses %j', (kind, text) => {
    expect(fitValue(kind, text, str, ctx)).toBeUndefined();
  });

  it.each([
    ['date', '26/3/2021', '2021-03-26'],
    ['date', '29 Jan 2024 [Bank name]', '2024-01-29'],
    ['date', 'October 2, 2045', '2045-10-02'],
    ['date', '1-Jul-17', '2017-07-01'],
    ['amount', 'DUE: 39.65', '39.65'],
    ['amount', '$1,699.48', '1699.48'],
    ['identifier', '# 1930', '1930'],
    ['identifier', 'INV-10012 $1,699.48', 'INV-10012'],
    ['identifier', 'No: MSA-TI-02', 'MSA-TI-02'],
    ['name', 'YOUR COMPANY', 'YOUR COMPANY'],
    ['name', 'CA SAKSHI AND ASSOCIATES', 'CA SAKSHI AND ASSOCIATES'],
    ['name', 'TESLA, INC.', 'TESLA, INC.'],
    ['email', 'E: ryan.smith@email.com', 'ryan.smith@email.com'],
    ['phone', 'Phone: (555) 234-5678', '(555) 234-5678'],
    ['url', 'web: www.thewhitetusk.com', 'www.thewhitetusk.com'],
    ['currency', 'Rupees One Lac Eighteen Thousand Only', 'INR'],
    ['currency', 'Total $12.00 ($ only, one £ smudge) $ $', 'USD'],
    ['plate', 'HV13 OTP', 'HV13OTP'],
    ['plate', '54-DMB-1', '54DMB1'],
    ['time', '8:05 pm', '20:05'],
  ] as const)('%s reads %j as %j', (kind, text, value) => {
    expect(fitValue(kind, text, str, ctx)).toBe(value);
  });

  it('a number field gets a number; an integer field never a rounded decimal', () => {
    expect(fitValue('number', 'Total 12.50', num, ctx)).toBe(12.5);
    expect(fitValue('integer', 'Qty 3', { type: ['integer', 'null'] }, ctx)).toBe(3);
    expect(fitValue('integer', '1,699.48', { type: ['integer', 'null'] }, ctx)).toBeUndefined();
  });

  it('a date-time field needs a time beside the date', () => {
    const node: SchemaNode = { type: ['string', 'null'], format: 'date-time' };
    expect(fitValue('datetime', '2024-05-01 08:15', node, ctx)).toBe('2024-05-01T08:15:00');
    expect(fitValue('datetime', '2024-05-01', node, ctx)).toBeUndefined();
  });

  it('the field’s own schema has the last word: pattern, lengths, bounds, enum', () => {
    const pattern = parsePattern(
      {
        name: 'P',
        instructions: 'x',
        format: 'json',
        json_schema: {
          type: 'object',
          properties: {
            invoice_number: { type: 'string', pattern: '^INV-[0-9]+$' },
            total: { type: 'number', minimum: 0 },
            currency: { type: 'string', minLength: 3, maxLength: 3 },
            kind: { type: 'string', enum: ['invoice', 'receipt'] },
          },
        },
      },
      't',
    );
    const p = pattern.schema.properties;
    expect(fitValue('identifier', 'Ref 7781 INV-1001', p.invoice_number!, ctx)).toBe('INV-1001');
    expect(fitValue('identifier', 'Ref 7781', p.invoice_number!, ctx)).toBeUndefined();
    expect(fitValue('number', '(12.00)', p.total!, ctx)).toBeUndefined();
    expect(fitValue('text', 'DOLLARS', p.currency!, ctx)).toBeUndefined();
    expect(fitValue('enum', 'RECEIPT', p.kind!, ctx)).toBe('receipt');
    expect(fitValue('enum', 'statement', p.kind!, ctx)).toBeUndefined();
  });
});

describe('the readers', () => {
  it('VINs: 17 characters, I/O/Q read as 1/0/0, the check digit restores a misread position 9', () => {
    expect(vinCheckDigit('1FDUF5GY7FEB56312')).toBe('7');
    expect(vinCheckDigit('5YJYGDEF9MF151185')).toBe('9');
    expect(fitVin('VIN: 5YJYGDEFIMF151185 TYPE')).toBe('5YJYGDEF9MF151185');
    expect(fitVin('1FDUF5GY7FEB56312 DUAL')).toBe('1FDUF5GY7FEB56312');
    expect(fitVin('WVGZZZ1TZ6W11O386')).toBe('WVGZZZ1TZ6W110386'); // no check digit in Europe
    expect(fitVin('1FDUF5GY7FEB5631')).toBeUndefined(); // 16 characters
    expect(fitVin('ABCDEFGHJKLMNPRST')).toBeUndefined(); // no serial digits
  });

  it('identifiers have a digit and are not dates or amounts', () => {
    expect(fitIdentifier('Invoice # INV-2025-0515')).toBe('INV-2025-0515');
    expect(fitIdentifier('12/03/2024')).toBeUndefined();
    expect(fitIdentifier('N/A')).toBeUndefined();
  });

  it('names are short, capitalised, mostly letters', () => {
    expect(fitName('Harbor IT Solutions')).toBe('Harbor IT Solutions');
    expect(fitName('Jefferson Healthcare,')).toBe('Jefferson Healthcare');
    expect(fitName('123 Main Street')).toBeUndefined();
    expect(fitName('Thank you for your business!')).toBeUndefined();
  });

  it('phones have 7–15 digits', () => {
    expect(fitPhone('+91 8108112511')).toBe('+91 8108112511');
    expect(fitPhone('Tel 12 34')).toBeUndefined();
  });

  it('plates have 4–10 letters and digits', () => {
    expect(fitPlate('JO 210 GW')).toBe('JO210GW');
    expect(fitPlate('AB')).toBeUndefined();
    expect(fitPlate('PARKING')).toBeUndefined();
  });

  it('times read 24-hour and am/pm', () => {
    expect(fitTime('12:30 am')).toBe('00:30');
    expect(fitTime('13:14')).toBe('13:14');
    expect(fitTime('13:14 pm')).toBeUndefined();
  });
});
