/**
 * Issue 11 §7 (identifier-shaped fields and person names): the local engine gives a VIN, a
 * plate, an identity number or a person's name only with evidence of its own kind, else
 * null with confidence 0. Each rule with the corpus value it refuses:
 *
 *   VIN        "MAKECHECKSPAYABLE" (fits ^[A-HJ-NPR-Z0-9]{17}$, no VIN), "Y2021FEBRUARY2023"
 *              (letters joined across words), a North-American VIN failing its check digit
 *   plate      "CHAPTER16", "JULY2023", "90210", "ID 69433763": a plate without its label
 *              only as the biggest text of a photo
 *   ID number  "4K" under "ID"
 *   name       "Chapter 16 Router Properties", "CURRICULUM VITAE", "DRIVER LICENSE",
 *              "City, California": a heading or a caption is no person
 *   birth date an invoice's only date is no date of birth
 *
 * Synthetic OCR pages: words and boxes as tesseract gives them (12 px a character).
 */
import { describe, expect, it } from 'vitest';
import type { ObjectSchema, SchemaNode } from '../../src/patterns/types.js';
import { extractFields } from '../../src/providers/local/field-extractor.js';
import { fitValue, fitVin } from '../../src/providers/local/fit-value.js';
import {
  checkedVinConfidence,
  idNumberShaped,
  plateEvidence,
  vinCheckDigit,
  vinEvidence,
} from '../../src/providers/local/identifier.js';
import type { OcrPage } from '../../src/providers/local/ocr-engine.js';
import { fitPersonName, isPersonField, looksLikeResume } from '../../src/providers/local/person-name.js';
import { ocrLine, ocrPage } from '../support/ocr-lines.js';

function page(lines: ReadonlyArray<string | [string, number]>): OcrPage {
  return ocrPage(
    lines.map((l, i) =>
      typeof l === 'string' ? ocrLine(l, i, { pitch: 60 }) : ocrLine(l[0], i, { pitch: 60, size: l[1] }),
    ),
  );
}

function schema(properties: Record<string, SchemaNode>): ObjectSchema {
  return {
    type: 'object',
    properties: Object.fromEntries(
      Object.entries(properties).map(([k, v]) => [k, { ...v, type: [v.type, 'null'] as SchemaNode['type'] }]),
    ),
    required: [],
    additionalProperties: false,
  };
}
const str: SchemaNode = { type: 'string' };
const vinPattern: SchemaNode = { type: 'string', pattern: '^[A-HJ-NPR-Z0-9]{17}$' };

describe('VINs: shape, model year, and the check digit of North-American VINs', () => {
  it('computes the 49 CFR 565.15(c) check digit of the corpus VINs', () => {
    expect(vinCheckDigit('1FDUF5GY7FEB56312')).toBe('7');
    expect(vinCheckDigit('5YJYGDEF9MF151185')).toBe('9');
    expect(vinCheckDigit('1FD0W5HT8GED27636')).toBe('8');
  });

  it('a North-American VIN counts only when its check digit holds; others half, as one word or labelled', () => {
    expect(vinEvidence('1FDUF5GY7FEB56312', { labelled: false, wholeWord: false })).toBe(1);
    expect(vinEvidence('1FDUF5GY3FEB56312', { labelled: true, wholeWord: true })).toBeUndefined();
    expect(vinEvidence('WVGZZZ1TZ6W110386', { labelled: false, wholeWord: true })).toBe(0.5);
    expect(vinEvidence('WVGZZZ1TZ6W110386', { labelled: false, wholeWord: false })).toBeUndefined();
    // Position 10 is a model year: never U, Z or 0 ("Y2021FEBRUARY2023" has a U there).
    expect(vinEvidence('Y2021FEBRUARY2023', { labelled: true, wholeWord: true })).toBeUndefined();
  });

  it('never takes text that only fits the pattern’s regular expression', () => {
    const ctx = { order: 'dmy', position: 'anywhere' } as const;
    expect(fitValue('vin', 'MAKE CHECKS PAYABLE', vinPattern, ctx)).toBeUndefined();
    expect(fitValue('vin', 'MAKECHECKSPAYABLE', vinPattern, ctx)).toBeUndefined();
    expect(fitVin('2021 - FEBRUARY 2023', false)).toBeUndefined();
  });

  it('a check digit that holds is evidence: the confidence rises above the OCR’s, a wrong digit is null', () => {
    expect(checkedVinConfidence(0.34)).toBeGreaterThan(0.8);
    expect(checkedVinConfidence(0)).toBe(0);
    const vin = schema({ vin: vinPattern });
    const right = extractFields(page(['VIN: 1FDUF5GY7FEB56312']), vin);
    expect(right.output.vin).toBe('1FDUF5GY7FEB56312');
    expect(right.fieldConfidence['/vin']).toBeGreaterThan(0.9);
    const wrong = extractFields(page(['VIN: 1FDUF5GY3FEB56312']), vin);
    expect(wrong.output.vin).toBeNull();
    expect(wrong.fieldConfidence['/vin']).toBe(0);
    // Another region's VIN has no check digit: shape only, a low confidence.
    const european = extractFields(page(['Made in Germany', 'WVGZZZ1TZ6W110386']), vin);
    expect(european.output.vin).toBe('WVGZZZ1TZ6W110386');
    expect(european.fieldConfidence['/vin']).toBeLessThan(0.35);
  });
});

describe('licence plates: shape, and a plate label or the main text of a photo', () => {
  const plate = schema({ plate_number: str });

  it('refuses words, dates, phone numbers and other identifiers', () => {
    for (const text of ['CHAPTER16', 'JULY2023', 'OVER500', 'THOSEAGE80', '3852200', '0444122020'])
      expect(plateEvidence(text, { labelled: false, photo: true }), text).toBeUndefined();
    expect(plateEvidence('69433763', { labelled: false, photo: true, before: 'ID' })).toBeUndefined();
    expect(plateEvidence('HV13OTP', { labelled: false, photo: true })).toBe(0.5);
    expect(plateEvidence('HV13OTP', { labelled: false, photo: false })).toBeUndefined();
    expect(plateEvidence('1268', { labelled: true, photo: false })).toBe(1);
  });

  it('reads the biggest text of a photo, and nothing on a document page', () => {
    const photo = extractFields(page([['HV13 OTP', 80], 'Dreamstime', 'ID 69433763']), plate);
    expect(photo.output.plate_number).toBe('HV13OTP');
    expect(photo.fieldConfidence['/plate_number']).toBeLessThan(0.5);
    const document = extractFields(
      page([
        'INVOICE  INV-10012',
        'Your Company  1234 Company Street',
        'City, California 90210',
        'Billed To  Your Client',
        'Description  Qty  Amount',
        'Services  1  55.00',
        'Materials  2  30.00',
        'Subtotal  85.00',
        'Total  85.00',
        'Payment due in 30 days',
        ['AB12 CDE', 40],
      ]),
      plate,
    );
    expect(document.output.plate_number).toBeNull();
    expect(document.fieldConfidence['/plate_number']).toBe(0);
  });

  it('a plate under its label is read on any page', () => {
    const read = extractFields(page(['Vehicle registration', 'Plate number: HV13 OTP']), plate);
    expect(read.output.plate_number).toBe('HV13OTP');
  });
});

describe('identity numbers: near their label, shaped like one', () => {
  it('refuses measures and short tokens, keeps a licence number', () => {
    expect(idNumberShaped('4K')).toBe(false);
    expect(idNumberShaped('16GB')).toBe(false);
    expect(idNumberShaped('D1234567')).toBe(true);
    const ids = schema({ id_number: str });
    expect(extractFields(page(['ID  4K']), ids).output.id_number).toBeNull();
    expect(extractFields(page(['ID Number: D1234567']), ids).output.id_number).toBe('D1234567');
    // Without its label, no number on a page is an identity number.
    expect(extractFields(page(['D1234567']), ids).output.id_number).toBeNull();
  });
});

describe('person names (full_name, name)', () => {
  const person = schema({
    full_name: str,
    date_of_birth: { type: 'string', format: 'date', description: 'Date of birth' },
  });

  it('knows person fields from issuers and parties', () => {
    expect(isPersonField('full_name')).toBe(true);
    expect(isPersonField('name')).toBe(true);
    expect(isPersonField('holderName')).toBe(true);
    expect(isPersonField('vendor_name')).toBe(false);
    expect(isPersonField('manufacturer')).toBe(false);
  });

  it('refuses headings, titles and captions; keeps names, cutting titles after a comma', () => {
    for (const text of [
      'RESUME',
      'CURRICULUM VITAE',
      'DRIVER LICENSE',
      'Chapter 16 Router Properties',
      'Controlled Variables Report',
      'PAY THIS AMOUNT',
      'City, California',
      'INCOMPLETE VEHICLE MANUFACTURED BY',
      'Data Visualization ~~ Machine Learning',
      'Lena',
    ])
      expect(fitPersonName(text), text).toBeUndefined();
    expect(fitPersonName('Lena Wiza')).toBe('Lena Wiza');
    expect(fitPersonName('JOHN DOE')).toBe('JOHN DOE');
    expect(fitPersonName('John R Doe, HM3,K USN')).toBe('John R Doe');
    expect(fitPersonName('Ludwig van Beethoven')).toBe('Ludwig van Beethoven');
  });

  it('without a label, only the headline of a resume is a name', () => {
    const resume = page([
      ['Jane Doe', 48],
      'jane.doe@example.com  (555) 234-5678',
      'Experience',
      'Education',
      'Skills',
    ]);
    expect(looksLikeResume(resume.text)).toBe(true);
    expect(extractFields(resume, person).output.full_name).toBe('Jane Doe');
    // The same big line on a manual's page is a heading.
    const manual = page([['Network Bridges', 48], 'Chapter 16', 'The router forwards packets.']);
    const read = extractFields(manual, person);
    expect(read.output.full_name).toBeNull();
    expect(read.fieldConfidence['/full_name']).toBe(0);
    // A licence's title over its holder's name: the name label decides.
    const licence = extractFields(
      page([['DRIVER LICENSE', 48], 'Name: JOHN DOE', 'DOB: 01/02/1980']),
      person,
    );
    expect(licence.output.full_name).toBe('JOHN DOE');
    expect(licence.output.date_of_birth).toBe('1980-02-01');
  });

  it('an invoice’s only date is no date of birth', () => {
    const read = extractFields(page(['INVOICE', 'Date: 26/03/2021', 'Total 85.00']), person);
    expect(read.output.date_of_birth).toBeNull();
    expect(read.fieldConfidence['/date_of_birth']).toBe(0);
  });
});
