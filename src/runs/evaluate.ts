/**
 * Accuracy of a results file against ground truth: per-field exact match (after the
 * normalisation a human reviewer would apply: case and spacing of text, a tolerance of
 * half a cent on numbers), precision and recall of nulls (does the extractor say "not
 * there" when it is not, and only then), overall accuracy, and triage precision/recall
 * for images labelled irrelevant. Both files are streamed; only the truth index is kept.
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { VisionpipeError } from '../errors.js';

const truthLine = z
  .object({
    input: z.string(),
    sha256: z.string().optional(),
    relevant: z.boolean().optional(),
    truth: z.unknown().optional(),
    expected: z.unknown().optional(),
  })
  .loose();

const resultLine = z
  .object({
    input: z.string(),
    sha256: z.string().nullable().optional(),
    status: z.enum(['ok', 'error', 'skipped']),
    output: z.unknown().optional(),
  })
  .loose();

interface TruthEntry {
  input: string;
  relevant: boolean;
  truth: unknown;
  matched: boolean;
}

export interface FieldScore {
  field: string;
  correct: number;
  total: number;
  accuracy: number;
}

export interface Evaluation {
  fields: FieldScore[];
  overall: { correct: number; total: number; accuracy: number };
  nulls: { precision: number; recall: number; predicted: number; actual: number; agreed: number };
  triage: { irrelevant: number; skipped: number; correct_skips: number; precision: number; recall: number };
  records: {
    truth: number;
    matched: number;
    missing_results: number;
    unmatched_results: number;
    failed: number;
  };
}

async function* jsonLines(file: string, what: string): AsyncGenerator<{ value: unknown; line: number }> {
  let stream: ReturnType<typeof createReadStream>;
  try {
    stream = createReadStream(file, { encoding: 'utf8' });
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
  } catch (error) {
    throw new VisionpipeError('NOT_FOUND', `${what} ${file}: cannot be read (${(error as Error).message})`, {
      input: file,
      cause: error,
    });
  }
  let line = 0;
  for await (const text of createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) {
    line++;
    if (text.trim() === '') continue;
    try {
      yield { value: JSON.parse(text), line };
    } catch {
      throw new VisionpipeError('INVALID_INPUT', `${what} ${file}:${line}: not valid JSON`, { input: file });
    }
  }
}

function parseLine<S extends z.ZodType>(schema: S, value: unknown, file: string, line: number): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new VisionpipeError(
    'INVALID_INPUT',
    `${file}:${line}: "${issue.path.join('.') || '(line)'}" ${issue.message}`,
    { input: file },
  );
}

/** Leaf values by JSON pointer; arrays are indexed, objects recursed. */
function leaves(value: unknown, pointer = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      for (const [p, v] of leaves(item, `${pointer}/${i}`)) out.set(p, v);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      for (const [p, v] of leaves(item, `${pointer}/${key}`)) out.set(p, v);
    }
  } else {
    out.set(pointer, value);
  }
  return out;
}

function valueAt(root: unknown, pointer: string): unknown {
  let current = root;
  for (const key of pointer.split('/').slice(1)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function normaliseText(value: string): string {
  return (
    value
      .trim()
      .toLowerCase()
      // "CA Sakshi & Associates" is "CA SAKSHI AND ASSOCIATES": a reviewer reads them as one name.
      .replace(/\s*&\s*/g, ' and ')
      .replace(/[\s_]+/g, ' ')
  );
}

/** Field equality as a reviewer would judge it. */
export function sameValue(expected: unknown, actual: unknown): boolean {
  if (expected === null || expected === undefined) return actual === null || actual === undefined;
  if (actual === null || actual === undefined) return false;
  if (typeof expected === 'number') {
    const n = typeof actual === 'number' ? actual : Number(actual);
    return Number.isFinite(n) && Math.abs(n - expected) <= 0.005 + Math.abs(expected) * 1e-9;
  }
  if (typeof expected === 'boolean')
    return actual === expected || String(actual).toLowerCase() === String(expected);
  return normaliseText(String(expected)) === normaliseText(String(actual));
}

function template(pointer: string): string {
  return pointer.replace(/\/\d+(?=\/|$)/g, '/*');
}

function ratio(a: number, b: number): number {
  return b === 0 ? 1 : Math.round((a / b) * 10_000) / 10_000;
}

export async function evaluate(truthFile: string, resultsFile: string): Promise<Evaluation> {
  const bySha = new Map<string, TruthEntry>();
  const byInput = new Map<string, TruthEntry>();
  const entries: TruthEntry[] = [];
  for await (const { value, line } of jsonLines(truthFile, 'truth')) {
    const parsed = parseLine(truthLine, value, truthFile, line);
    const entry: TruthEntry = {
      input: parsed.input,
      relevant: parsed.relevant ?? (parsed.truth ?? parsed.expected) !== null,
      truth: parsed.truth ?? parsed.expected ?? null,
      matched: false,
    };
    entries.push(entry);
    if (parsed.sha256) bySha.set(parsed.sha256, entry);
    byInput.set(path.resolve(parsed.input), entry);
  }

  const fieldStats = new Map<string, { correct: number; total: number }>();
  const nulls = { predicted: 0, actual: 0, agreed: 0 };
  const triage = { irrelevant: 0, skipped: 0, correct_skips: 0 };
  const records = { truth: entries.length, matched: 0, missing_results: 0, unmatched_results: 0, failed: 0 };
  let correct = 0;
  let total = 0;
  const seenInputs = new Set<string>();

  for await (const { value, line } of jsonLines(resultsFile, 'results')) {
    const result = parseLine(resultLine, value, resultsFile, line);
    // By path first (relative paths from the working directory, so a truth file of relative
    // paths matches results of absolute ones); by content for exact copies under other names.
    const inputKey = path.resolve(result.input);
    const entry = byInput.get(inputKey) ?? (result.sha256 ? bySha.get(result.sha256) : undefined);
    if (!entry || seenInputs.has(inputKey)) {
      records.unmatched_results++;
      continue;
    }
    seenInputs.add(inputKey);
    entry.matched = true;
    records.matched++;
    if (result.status === 'skipped') triage.skipped++;
    if (!entry.relevant) {
      triage.irrelevant++;
      if (result.status === 'skipped') triage.correct_skips++;
      continue;
    }
    if (result.status !== 'ok') records.failed++;
    const output = result.status === 'ok' ? result.output : undefined;
    for (const [pointer, expected] of leaves(entry.truth)) {
      const actual = valueAt(output, pointer);
      const ok = sameValue(expected, actual);
      const key = template(pointer);
      const stat = fieldStats.get(key) ?? { correct: 0, total: 0 };
      stat.total++;
      if (ok) stat.correct++;
      fieldStats.set(key, stat);
      total++;
      if (ok) correct++;
      const actualNull = actual === null || actual === undefined;
      if (expected === null) nulls.actual++;
      if (actualNull) nulls.predicted++;
      if (expected === null && actualNull) nulls.agreed++;
    }
  }
  for (const entry of entries) if (!entry.matched) records.missing_results++;

  return {
    fields: [...fieldStats].map(([field, s]) => ({ field, ...s, accuracy: ratio(s.correct, s.total) })),
    overall: { correct, total, accuracy: ratio(correct, total) },
    nulls: {
      ...nulls,
      precision: ratio(nulls.agreed, nulls.predicted),
      recall: ratio(nulls.agreed, nulls.actual),
    },
    triage: {
      ...triage,
      precision: ratio(triage.correct_skips, triage.skipped),
      recall: ratio(triage.correct_skips, triage.irrelevant),
    },
    records,
  };
}
