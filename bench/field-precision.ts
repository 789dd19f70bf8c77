/**
 * Is what the local engine hands back as `ok` supported by the document? Runs the local
 * engine (real tesseract) over the hand-labelled real documents of the shared corpus
 * (bench/corpus/truth.jsonl) and, for every labelled field, counts:
 *
 *   precision     of the values it gave (non-null), the share that are the truth
 *   garbage ok    wrong values inside records the run calls `ok` (quality ok, not
 *                 low_confidence or empty): what a user is handed as a success
 *
 * per field and overall, and, when records carry `field_confidence`, the precision of
 * values at or above each candidate per-field threshold by the field's kind (name, date,
 * amount, identifier…), and the same for the issuer fields alone (vendor, merchant,
 * manufacturer: their confidence must tell a right issuer from a wrong one): the data
 * behind src/providers/local/calibration.ts. `--calibrate` runs with every threshold at 0
 * so the values the thresholds drop are seen with their confidence.
 *
 *   npx tsx bench/field-precision.ts [-- --label before] [--calibrate] [--ocr-cache DIR]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadPattern } from '../src/patterns/index.js';
import type { RunRecord } from '../src/pipeline/record.js';
import { LOCAL_MIN_CONFIDENCE } from '../src/providers/local/calibration.js';
import { fieldKind } from '../src/providers/local/field-kinds.js';
import { LocalProvider } from '../src/providers/local.js';
import { sameValue } from '../src/runs/evaluate.js';
import { qualityOf } from '../src/runs/quality.js';
import { groups, ROOT, runGroups } from './local-engine-score.js';
import { CachedOcr } from './ocr-cache.js';
import { currentCommit } from './provenance.js';
import { machine, printTable, writeResults } from './support.js';

const { values: args } = parseArgs({
  options: {
    label: { type: 'string', default: 'now' },
    calibrate: { type: 'boolean', default: false },
    'ocr-cache': { type: 'string' },
  },
});
/** Who issued the document: the fields whose confidence the issuer table judges. */
const ISSUER_FIELD =
  /(vendor|merchant|company|store|business|seller|issuer|shop|supplier|manufacturer|maker)/;
const ISSUER_THRESHOLDS = [0, 0.3, 0.4, 0.45, 0.5, 0.6, 0.7];
const CORPUS_DIR =
  process.env.VISIONPIPE_CORPUS_DIR ?? path.resolve(ROOT, '../../shared/corpus/imggo-test-images');
const THRESHOLDS = [0, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6];

interface Value {
  input: string;
  field: string;
  kind: string;
  value: unknown;
  truth: unknown;
  right: boolean;
  confidence: number | null;
  /** The record is `ok` and the run would count it as ok (not low_confidence, not empty). */
  passedOk: boolean;
}

async function main() {
  const { commit, dirty } = currentCommit();
  if (args.calibrate) {
    // Imported here: a checkout from before the switch existed still runs without --calibrate.
    const calibration = await import('../src/providers/local/calibration.js');
    calibration.disableThresholdsForCalibration();
  }
  // --ocr-cache DIR: pages OCR read once are reused, so two runs differ only by the readers.
  const cacheDir = args['ocr-cache'];
  const provider = new LocalProvider(cacheDir ? { ocr: new CachedOcr(cacheDir, 2) } : { workers: 2 });
  const corpus = await groups(path.join(ROOT, 'bench/corpus/truth.jsonl'), CORPUS_DIR, true);
  const { records } = await runGroups(corpus, provider, undefined, 2);
  await provider.close();

  const values: Value[] = [];
  let labelled = 0;
  const labelledByField = new Map<string, number>();
  for (const group of corpus) {
    const pattern = await loadPattern(group.patternFile);
    const byInput = new Map((records.get(group.name) ?? []).map((r: RunRecord) => [r.input, r]));
    for (const line of group.truth) {
      const record = byInput.get(line.input);
      const output = (record?.status === 'ok' ? record.output : null) as Record<string, unknown> | null;
      const passedOk = record !== undefined && qualityOf(record, LOCAL_MIN_CONFIDENCE) === 'ok';
      for (const [field, truth] of Object.entries(line.truth as Record<string, unknown>)) {
        if (truth !== null && typeof truth === 'object') continue; // scalars only
        if (truth !== null) {
          labelled++;
          labelledByField.set(
            `${group.name}.${field}`,
            (labelledByField.get(`${group.name}.${field}`) ?? 0) + 1,
          );
        }
        const value = output?.[field] ?? null;
        if (value === null) continue;
        const node = pattern.schema.properties[field];
        values.push({
          input: path.basename(line.input),
          field: `${group.name}.${field}`,
          kind: (node && fieldKind(field, node)) ?? 'unknown',
          value,
          truth,
          right: sameValue(truth, value) || (line.also?.[field] ?? []).some((t) => sameValue(t, value)),
          confidence: record?.field_confidence?.[field] ?? null,
          passedOk,
        });
      }
    }
  }

  const byField = new Map<string, Value[]>([...labelledByField.keys()].map((f) => [f, []]));
  for (const v of values) byField.set(v.field, [...(byField.get(v.field) ?? []), v]);
  const fieldRows = [...byField.entries()].map(([field, vs]) => ({
    field,
    given: vs.length,
    right: vs.filter((v) => v.right).length,
    garbage_ok: vs.filter((v) => !v.right && v.passedOk).length,
    labelled: labelledByField.get(field) ?? 0,
    found: vs.filter((v) => v.right && v.truth !== null).length,
  }));
  printTable(
    `${args.label}: per-field precision on the real corpus (values given that are the truth)`,
    ['field', 'values given', 'right', 'precision', 'wrong values in ok records', 'recall (of labelled)'],
    fieldRows.map((r) => [
      r.field,
      r.given,
      r.right,
      r.given ? `${((r.right / r.given) * 100).toFixed(0)} %` : '-',
      r.garbage_ok,
      r.labelled ? `${r.found}/${r.labelled}` : '-',
    ]),
  );
  const right = values.filter((v) => v.right).length;
  const garbageOk = values.filter((v) => !v.right && v.passedOk);
  const overall = {
    labelled_values: labelled,
    values_given: values.length,
    right,
    precision: values.length ? right / values.length : 0,
    recall: labelled ? values.filter((v) => v.right && v.truth !== null).length / labelled : 0,
    garbage_ok: garbageOk.length,
  };
  console.log(
    `\n${args.label}: ${values.length} values given, ${right} right (precision ${(overall.precision * 100).toFixed(1)} %, ` +
      `recall ${(overall.recall * 100).toFixed(1)} % of ${labelled} labelled), ${garbageOk.length} wrong values in records counted ok:`,
  );
  for (const v of garbageOk)
    console.log(
      `  ${v.input} ${v.field} = ${JSON.stringify(v.value)} (truth ${JSON.stringify(v.truth)}, confidence ${v.confidence})`,
    );

  const withConfidence = values.filter((v) => v.confidence !== null);
  const kinds = [...new Set(withConfidence.map((v) => v.kind))].sort();
  const thresholdRows = kinds.flatMap((kind) =>
    THRESHOLDS.map((t) => {
      const kept = withConfidence.filter((v) => v.kind === kind && (v.confidence ?? 0) >= t);
      const dropped = withConfidence.filter((v) => v.kind === kind && (v.confidence ?? 0) < t);
      return {
        kind,
        threshold: t,
        kept: kept.length,
        kept_right: kept.filter((v) => v.right).length,
        dropped_right: dropped.filter((v) => v.right).length,
        dropped_wrong: dropped.filter((v) => !v.right).length,
      };
    }),
  );
  if (thresholdRows.length > 0)
    printTable(
      `${args.label}: values kept at or above a per-field threshold, by the field's kind`,
      ['kind', 'threshold', 'kept', 'kept right', 'dropped right', 'dropped wrong'],
      thresholdRows.map((r) => [r.kind, r.threshold, r.kept, r.kept_right, r.dropped_right, r.dropped_wrong]),
    );
  // Issuers (vendor, merchant, manufacturer): precision of the values given, and what each
  // threshold on their confidence keeps and drops.
  const issuers = withConfidence.filter((v) => ISSUER_FIELD.test(v.field.split('.').pop() ?? ''));
  const issuerRows = ISSUER_THRESHOLDS.map((t) => {
    const kept = issuers.filter((v) => (v.confidence ?? 0) >= t);
    const dropped = issuers.filter((v) => (v.confidence ?? 0) < t);
    return {
      threshold: t,
      kept: kept.length,
      kept_right: kept.filter((v) => v.right).length,
      precision: kept.length ? kept.filter((v) => v.right).length / kept.length : null,
      dropped_right: dropped.filter((v) => v.right).length,
      dropped_wrong: dropped.filter((v) => !v.right).length,
    };
  });
  printTable(
    `${args.label}: issuer values (vendor, manufacturer…) kept at or above a confidence threshold`,
    ['threshold', 'kept', 'kept right', 'precision', 'dropped right', 'dropped wrong'],
    issuerRows.map((r) => [
      r.threshold,
      r.kept,
      r.kept_right,
      r.precision === null ? '-' : `${(r.precision * 100).toFixed(0)} %`,
      r.dropped_right,
      r.dropped_wrong,
    ]),
  );
  for (const v of issuers)
    console.log(
      `  ${v.input} ${v.field} = ${JSON.stringify(v.value)} (truth ${JSON.stringify(v.truth)}, confidence ${v.confidence}, ${v.right ? 'right' : 'wrong'})`,
    );
  const file = await writeResults(`field-precision-${args.label}`, {
    name: 'field-precision',
    label: args.label,
    date: new Date().toISOString(),
    commit: dirty ? `${commit}+dirty` : commit,
    machine: machine(),
    overall,
    fields: fieldRows,
    calibrate: args.calibrate,
    ocr_cache: cacheDir !== undefined,
    issuer: {
      given: issuers.length,
      right: issuers.filter((v) => v.right).length,
      precision: issuers.length ? issuers.filter((v) => v.right).length / issuers.length : null,
      thresholds: issuerRows,
    },
    values,
    thresholds: thresholdRows,
  });
  console.log(`wrote ${file}`);
}

await main();
