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

/** The least confidence a value of `kind` needs to be given (0–1). */
export function fieldMinConfidence(kind: FieldKind): number {
  return LOCAL_FIELD_MIN_CONFIDENCE[kind] ?? LOCAL_FIELD_MIN_DEFAULT;
}
