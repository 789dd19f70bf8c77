/**
 * Evidence for identifier-shaped fields (a VIN, a licence plate, an identity document's
 * number): a value is given only when its shape is right and something beside the shape
 * says it is that identifier: a check digit, its label, or its place in a plate photo.
 * Each reader returns the evidence factor (0–1) that multiplies the OCR confidence into
 * the field's confidence, or undefined when there is none (the field stays null).
 *
 *   VIN        17 characters, no I, O or Q, letters and digits both, the last four digits (ISO 3779:2009, the
 *              vehicle indicator section), a model-year code in position 10 (no U, Z or
 *              0: 49 CFR 565.15(d)); a North-American VIN (WMI starting 1–5, ISO 3780)
 *              must pass its check digit (position 9, 49 CFR 565.15(c)) and then counts
 *              fully; any other region's VIN (the check digit is not required there)
 *              only under a VIN label or as one printed word, and counts half
 *   plate      4–8 letters and digits, letters and digits both, at most three letters or
 *              five digits in a row (words, dates and phone numbers are longer runs), not
 *              after another identifier's label; without a plate label only as the
 *              biggest confident text of a photo (a page of a few words)
 *   ID number  (`id_number`, `document_number`, `licence_number`, `passport_number`) 5–20
 *              characters with at least two digits, never a measure ("4K", "16GB") and
 *              only beside its label
 */
const VIN_VALUES: Record<string, number> = Object.fromEntries(
  [...'ABCDEFGHJKLMNPRSTUVWXYZ'].map((c, i) => [
    c,
    [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9][i]!,
  ]),
);
const VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

/**
 * The check digit (position 9) of a North American VIN, 49 CFR 565.15(c): each character's
 * value (letters transliterated: A=1 … Z=9) times its position's weight, summed, modulo 11
 * (10 is written X).
 */
export function vinCheckDigit(vin: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const c = vin[i]!;
    sum += (/\d/.test(c) ? Number(c) : (VIN_VALUES[c] ?? 0)) * VIN_WEIGHTS[i]!;
  }
  const check = sum % 11;
  return check === 10 ? 'X' : String(check);
}

/** Characters a VIN may hold (ISO 3779: the Latin capitals without I, O, Q, and digits). */
const VIN_SHAPE = /^[A-HJ-NPR-Z0-9]{17}$/;

/** Model-year codes of position 10 (49 CFR 565.15(c)): no I, O, Q, U, Z or 0. */
const MODEL_YEAR = /^[A-HJ-NPR-TV-Y1-9]$/;

/** World manufacturer identifiers of North America (ISO 3780 regions 1–5: US, Canada, Mexico). */
const NORTH_AMERICA = /^[1-5]/;

export interface VinEvidence {
  /** A VIN label led to the text ("VIN", "Vehicle identification"). */
  labelled: boolean;
  /** The VIN is one printed word, not letters joined across words ("2021 - FEBRUARY 2023"). */
  wholeWord: boolean;
}

/**
 * How much `vin` is evidence of a VIN (1 for a North-American VIN whose check digit
 * holds; 0.5 for another region's VIN under its label or printed as one word), or
 * undefined when it is not one.
 */
export function vinEvidence(vin: string, where: VinEvidence): number | undefined {
  if (!VIN_SHAPE.test(vin) || !/[A-Z]/.test(vin) || !/\d{4}$/.test(vin) || !MODEL_YEAR.test(vin[9]!))
    return undefined;
  if (NORTH_AMERICA.test(vin)) return vin[8] === vinCheckDigit(vin) ? 1 : undefined;
  return where.labelled || where.wholeWord ? 0.5 : undefined;
}

/**
 * The confidence (0–1) of a VIN whose check digit holds, from the OCR's confidence `ocr` in
 * its characters: a misread passes the check by chance once in 11 (the check is a sum
 * modulo 11), so of the readings that pass, the share that are wrong is
 * (1 − ocr)/11 ÷ (ocr + (1 − ocr)/11) (Bayes' rule with the OCR confidence as the prior).
 */
export function checkedVinConfidence(ocr: number): number {
  const wrong = (1 - ocr) / 11;
  return ocr / (ocr + wrong);
}

/** Labels of other identifiers: a number after one is that identifier, not a plate. */
const OTHER_ID_LABEL =
  /^(id|no|nr|ref|invoice|inv|order|account|acct|tel|phone|fax|zip|po|pin|gstin|pan|vat|tin|isbn|page|p)\.?:?$|#$/i;

/**
 * How much `plate` (letters and digits, no separators) is evidence of a licence plate, or
 * undefined. `labelled`: a plate label led to it; `photo`: it is the biggest confident text
 * of a page of few words; `before`: the word printed just before it on its line.
 */
export function plateEvidence(
  plate: string,
  where: { labelled: boolean; photo: boolean; before?: string },
): number | undefined {
  if (!/^[A-Z0-9]{4,8}$/.test(plate)) return undefined;
  if (where.before !== undefined && OTHER_ID_LABEL.test(where.before)) return undefined;
  if (where.labelled) return /\d/.test(plate) ? 1 : undefined;
  if (!/\d/.test(plate) || !/[A-Z]/.test(plate)) return undefined;
  if (/[A-Z]{4,}|\d{6,}/.test(plate)) return undefined;
  return where.photo ? 0.5 : undefined;
}

/** Identity documents' numbers: an ID card, a licence, a passport, a document number. */
export const ID_DOCUMENT_KEY =
  /^(id|identity|identification|document|doc|licen[cs]e|driver_?licen[cs]e|dl|passport|card|national_?id|permit)_?(number|no|num|nr|id)?$/i;

/** Measures and sizes read as tokens with a digit ("4K", "16GB", "1080p", "18%"). */
const MEASURE = /^\d+(k|kb|mb|gb|tb|kg|g|mg|mm|cm|km|m|hz|khz|mhz|ghz|w|kw|v|mah|x|p|px|dpi|%)$/i;

/**
 * Whether `value` can be an identity document's number: 5–20 letters, digits and inner
 * `-/. `, at least two digits, not a measure.
 */
export function idNumberShaped(value: string): boolean {
  const compact = value.replace(/[\s-/.]/g, '');
  if (compact.length < 5 || compact.length > 20 || !/^[\p{L}\p{N}]+$/u.test(compact)) return false;
  return (compact.match(/\d/g) ?? []).length >= 2 && !MEASURE.test(value);
}

/** Whether an identifier token is a measure ("4K", "16GB"), never a number of a document. */
export function isMeasure(token: string): boolean {
  return MEASURE.test(token);
}
