/**
 * Where the local engine's record confidence stops meaning "mostly right": the default of
 * `visionpipe run --min-confidence` for the local provider (src/providers/local/calibration.ts).
 *
 * Runs the local engine (tesseract) over the hand-labelled real documents of the shared corpus
 * (bench/corpus/truth.jsonl) and, apart, the synthetic samples (samples/truth.jsonl); for each
 * record takes its confidence and the share of its labelled fields that are right; then, for
 * each candidate threshold, prints how many records fall below it and the field accuracy of
 * the records below and at or above it. The threshold chosen is the lowest one at or above
 * which real-document records are right on at least 90 % of their fields while those below
 * it are right on fewer than half: it flags the least that separates garbage from data.
 *
 *   npx tsx bench/confidence-calibration.ts
 */
import path from 'node:path';
import type { RunRecord } from '../src/pipeline/record.js';
import { LocalProvider } from '../src/providers/local.js';
import { sameValue } from '../src/runs/evaluate.js';
import { type Group, groups, ROOT, runGroups } from './local-engine-score.js';
import { currentCommit } from './provenance.js';
import { machine, printTable, writeResults } from './support.js';

const CORPUS_DIR =
  process.env.VISIONPIPE_CORPUS_DIR ?? path.resolve(ROOT, '../../shared/corpus/imggo-test-images');
const THRESHOLDS = [0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7];

interface Point {
  input: string;
  group: string;
  confidence: number;
  correct: number;
  total: number;
}

function points(list: Group[], records: Map<string, RunRecord[]>): Point[] {
  const out: Point[] = [];
  for (const group of list) {
    const byInput = new Map((records.get(group.name) ?? []).map((r) => [r.input, r]));
    for (const line of group.truth) {
      const record = byInput.get(line.input);
      if (record?.status !== 'ok' || record.confidence === null) continue;
      const truth = line.truth as Record<string, unknown>;
      const output = (record.output ?? {}) as Record<string, unknown>;
      let correct = 0;
      let total = 0;
      for (const [field, expected] of Object.entries(truth)) {
        if (expected === null || typeof expected === 'object') continue; // scalars only
        total++;
        if (sameValue(expected, output[field])) correct++;
      }
      if (total > 0)
        out.push({ input: line.input, group: group.name, confidence: record.confidence, correct, total });
    }
  }
  return out;
}

function table(label: string, list: Point[]) {
  const rows = THRESHOLDS.map((t) => {
    const below = list.filter((p) => p.confidence < t);
    const above = list.filter((p) => p.confidence >= t);
    const acc = (ps: Point[]) => {
      const total = ps.reduce((s, p) => s + p.total, 0);
      return total ? ps.reduce((s, p) => s + p.correct, 0) / total : Number.NaN;
    };
    return {
      threshold: t,
      below: below.length,
      above: above.length,
      acc_below: acc(below),
      acc_above: acc(above),
    };
  });
  printTable(
    `${label}: field accuracy of records below / at or above each confidence`,
    ['threshold', 'records below', 'accuracy below', 'records at/above', 'accuracy at/above'],
    rows.map((r) => [
      r.threshold,
      r.below,
      Number.isNaN(r.acc_below) ? '—' : `${(r.acc_below * 100).toFixed(1)} %`,
      r.above,
      Number.isNaN(r.acc_above) ? '—' : `${(r.acc_above * 100).toFixed(1)} %`,
    ]),
  );
  return rows;
}

async function main() {
  const { commit, dirty } = currentCommit();
  const provider = new LocalProvider({ workers: 2 });
  const corpus = await groups(path.join(ROOT, 'bench/corpus/truth.jsonl'), CORPUS_DIR, true);
  const samples = await groups(path.join(ROOT, 'samples/truth.jsonl'), ROOT, false);
  const real = points(corpus, (await runGroups(corpus, provider, undefined, 2)).records);
  const synthetic = points(samples, (await runGroups(samples, provider, undefined, 2)).records);
  await provider.close();
  const realRows = table(`real corpus (${real.length} records)`, real);
  const syntheticRows = table(`synthetic samples (${synthetic.length} records)`, synthetic);
  const chosen =
    realRows.find((r) => r.below > 0 && r.acc_below < 0.5 && r.acc_above >= 0.9)?.threshold ?? null;
  console.log(`\nchosen default --min-confidence for the local engine: ${chosen}`);
  const file = await writeResults('confidence-calibration', {
    name: 'confidence-calibration',
    date: new Date().toISOString(),
    commit: dirty ? `${commit}+dirty` : commit,
    machine: machine(),
    chosen,
    real: { records: real, thresholds: realRows },
    synthetic: { records: synthetic, thresholds: syntheticRows },
  });
  console.log(`wrote ${file}`);
}

await main();
