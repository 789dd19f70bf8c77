/**
 * How bench/local-engine.ts reads ground truth, runs the local engine over it and scores
 * the result; apart from the bench so tests can hold it to what it claims (a duplicate
 * served from another image's result is not an image the OCR engine read).
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openCache } from '../src/cache/open-cache.js';
import { loadPattern } from '../src/patterns/index.js';
import { createPipeline } from '../src/pipeline/create-pipeline.js';
import type { RunRecord } from '../src/pipeline/record.js';
import type { LocalProvider } from '../src/providers/local.js';
import { evaluate } from '../src/runs/evaluate.js';
import type { InputItem } from '../src/runs/inputs.js';

export const ROOT = path.resolve(import.meta.dirname, '..');

export interface TruthLine {
  input: string;
  sha256?: string;
  pattern: string | null;
  kind?: string;
  truth: unknown;
  /** Other values a field may rightly hold (either party's phone on a quote), by field. */
  also?: Record<string, unknown[]>;
}

/** One set of documents read with one pattern, and the truth lines that score them. */
export interface Group {
  name: string;
  kind: string;
  patternFile: string;
  items: InputItem[];
  truth: TruthLine[];
}

const PATTERN_FILES: Record<string, string> = {
  invoice: 'samples/patterns/invoice.json',
  receipt: 'samples/patterns/receipt.yaml',
  resume: 'samples/patterns/resume.yaml',
  parking: 'samples/patterns/parking.yaml',
  'invoice-strings': 'bench/corpus/patterns/invoice-strings.json',
  vin: 'bench/corpus/patterns/vin.json',
  prescription: 'bench/corpus/patterns/prescription.json',
  'invoice-parties': 'bench/corpus/patterns/invoice-parties.json',
  identity: 'bench/corpus/patterns/identity.json',
};

async function readTruth(file: string): Promise<TruthLine[]> {
  return (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as TruthLine);
}

/** Truth lines grouped by pattern; corpus files are checked against their recorded sha256. */
export async function groups(truthFile: string, dir: string, checkSha: boolean): Promise<Group[]> {
  const byPattern = new Map<string, Group>();
  for (const line of await readTruth(truthFile)) {
    if (line.pattern === null) continue;
    const file = path.resolve(dir, line.input);
    if (checkSha) {
      const sha = createHash('sha256')
        .update(await readFile(file))
        .digest('hex');
      if (sha !== line.sha256) throw new Error(`${file}: sha256 ${sha} is not the labelled ${line.sha256}`);
    }
    const patternFile = PATTERN_FILES[line.pattern];
    if (!patternFile) throw new Error(`${truthFile}: unknown pattern ${line.pattern}`);
    const group = byPattern.get(line.pattern) ?? {
      name: line.pattern,
      kind: line.kind ?? line.pattern,
      patternFile: path.join(ROOT, patternFile),
      items: [],
      truth: [],
    };
    group.items.push({ kind: 'file', label: file, path: file, rel: line.input });
    group.truth.push({ ...line, input: file });
    byPattern.set(line.pattern, group);
  }
  return [...byPattern.values()];
}

/** Runs every group through a fresh pipeline (no cache across runs); returns records and wall time. */
export async function runGroups(
  list: Group[],
  provider: LocalProvider,
  profile: { maxLongEdge: number } | undefined,
  concurrency: number,
): Promise<{ records: Map<string, RunRecord[]>; wallS: number }> {
  const records = new Map<string, RunRecord[]>();
  const started = performance.now();
  for (const group of list) {
    const pattern = await loadPattern(group.patternFile);
    const cache = await openCache({ spec: 'off' });
    const pipeline = await createPipeline({ pattern, provider, cache, ...(profile ? { profile } : {}) });
    const out: RunRecord[] = [];
    for await (const record of pipeline.run(group.items, { concurrency })) out.push(record);
    records.set(group.name, out);
    await pipeline.close();
    await cache.close();
  }
  return { records, wallS: (performance.now() - started) / 1000 };
}

/** Images the OCR engine really read: a dedup/near-dup record reuses another image's result. */
export function ocrCount(records: Map<string, RunRecord[]>): number {
  return [...records.values()].flat().filter((r) => r.cache === 'miss').length;
}

export interface Score {
  correct: number;
  total: number;
  accuracy: number;
  /** Fields given a value that is not the truth: the garbage a user would be handed. */
  wrong: number;
  /** Fields left null although the document has them. */
  missed: number;
}

/** Field accuracy of each group against its own truth lines, and over all groups. */
export async function score(list: Group[], records: Map<string, RunRecord[]>, dir: string) {
  const byGroup: Record<string, Score & { fields: Array<{ field: string; accuracy: number }> }> = {};
  const overall = { correct: 0, total: 0, wrong: 0, missed: 0 };
  for (const group of list) {
    const id = Math.random().toString(36).slice(2);
    const truthFile = path.join(dir, `truth-${id}.jsonl`);
    const resultsFile = path.join(dir, `results-${id}.jsonl`);
    await writeFile(truthFile, group.truth.map((t) => JSON.stringify(t)).join('\n'));
    await writeFile(resultsFile, (records.get(group.name) ?? []).map((r) => JSON.stringify(r)).join('\n'));
    const evaluation = await evaluate(truthFile, resultsFile);
    const { correct, total } = evaluation.overall;
    // A null where the truth has a value is a miss; every other wrong field is a wrong value.
    const missed = evaluation.nulls.predicted - evaluation.nulls.agreed;
    const wrong = total - correct - missed;
    byGroup[group.name] = {
      correct,
      total,
      accuracy: evaluation.overall.accuracy,
      wrong,
      missed,
      fields: evaluation.fields.map((f) => ({ field: f.field, accuracy: f.accuracy })),
    };
    overall.correct += correct;
    overall.total += total;
    overall.wrong += wrong;
    overall.missed += missed;
  }
  return {
    overall: { ...overall, accuracy: overall.total ? overall.correct / overall.total : 0 },
    byGroup,
  };
}
