import type { FieldKind } from './field-kinds.js';

/**
 * The local engine's confidence calibration: below this record confidence (mean field
 * confidence, 0–1), its outputs on real documents are mostly wrong.
 *
 * Source: bench/confidence-calibration.ts over the 24 hand-labelled real documents of the
 * shared corpus (bench/results/confidence-calibration.json): records under 0.35 were right
 * on 28.6 % of their fields, records at or above on 91.5 %; no synthetic sample falls under
 * it (they are right on 99 %). `visionpipe run` counts records under it as `low_confidence`
 * unless `--min-confidence` says otherwise.
 */
export const LOCAL_MIN_CONFIDENCE = 0.35;

/**
 * The least confidence (OCR word confidence × label match; halved or less without a
 * label) at which the local engine gives a field's value, by the field's kind: under it
 * the value is not supported by the evidence and the field is null ("not found") with
 * confidence 0. Kinds with a checkable shape (a date, an amount, a VIN's check digit)
 * carry their own evidence and need less; free text (a name, an identifier) needs more.
 *
 * Source: bench/field-precision.ts over the hand-labelled real documents of the shared
 * corpus (bench/results/field-precision-calib.json, run with no threshold: values kept
 * and dropped at each threshold, by kind). 24 readings of 19 documents: a small sample,
 * so only thresholds that drop wrong values and no right one are set.
 */
export const LOCAL_FIELD_MIN_CONFIDENCE: Readonly<Partial<Record<FieldKind, number>>> = {
  // Names: the 2 wrong values under 0.35 go ("Jefferson" for "Jefferson Healthcare" at
  // 0.34, an unlabelled issuer read at OCR confidence < 0.7); no right one does.
  name: 0.35,
  // Phone numbers: the wrong one under 0.4 goes, no right one does.
  phone: 0.4,
  // Dates, amounts, identifiers, VINs, emails, currencies: dropping any right value
  // before a wrong one (a VIN at 0.3, an email at 0.4): their shape is the evidence.
};

/** The threshold for kinds not listed in LOCAL_FIELD_MIN_CONFIDENCE. */
export const LOCAL_FIELD_MIN_DEFAULT = 0;

/**
 * The least confidence at which the local engine names a document's issuer (vendor,
 * merchant, manufacturer) without a label (issuer.ts): OCR confidence × evidence, where a
 * name on top of the page with no other evidence scores 0.25 and each of company form,
 * address block, repeated name, payee label or signature block adds to it.
 *
 * Source: bench/field-precision.ts --calibrate over the hand-labelled real documents of
 * the shared corpus (bench/results/field-precision-i11-calib.json, "issuer values kept at
 * or above a threshold"): the 3 wrong issuers read without a label scored 0.24–0.38 (a
 * heading, a report title, "INCOMPLETE VEHICLE" over a VIN plate's maker), the 9 right
 * ones 0.53–0.91. A small sample: 0.45 lies between the two.
 */
export const LOCAL_ISSUER_MIN_CONFIDENCE = 0.45;

let thresholdsOff = false;

/**
 * Calibration runs only (bench/field-precision.ts --calibrate): every threshold 0, so the
 * bench sees the values the thresholds would drop and their confidence.
 */
export function disableThresholdsForCalibration(): void {
  thresholdsOff = true;
}

/** The least confidence a value of `kind` needs to be given (0–1). */
export function fieldMinConfidence(kind: FieldKind): number {
  if (thresholdsOff) return 0;
  return LOCAL_FIELD_MIN_CONFIDENCE[kind] ?? LOCAL_FIELD_MIN_DEFAULT;
}

/** The least confidence an issuer read without a label needs to be given (0–1). */
export function issuerMinConfidence(): number {
  return thresholdsOff ? 0 : LOCAL_ISSUER_MIN_CONFIDENCE;
}
