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
