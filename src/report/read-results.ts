/**
 * Reads a run's results.jsonl for the report, one line at a time (constant memory per
 * line), checking each line against the JSONL contract (DESIGN.md) with zod. A line that
 * is not a record is a typed INVALID_INPUT error naming the file, the line and the field.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { VisionpipeError } from '../errors.js';
import { redactDeep } from '../secrets.js';

/** The pattern shown for records written before results lines named their pattern. */
export const UNNAMED_PATTERN = '(pattern not recorded)';

const usageSchema = z.object({
  input_tokens: z.number().nonnegative(),
  output_tokens: z.number().nonnegative(),
  image_tokens: z.number().nonnegative(),
  estimated: z.boolean(),
});

/** The fields of a result record the report reads; others pass through untouched. */
export const reportRecordSchema = z.looseObject({
  input: z.string(),
  /** Absent in files written before records named their pattern (before 2026-11-22). */
  pattern: z.string().default(UNNAMED_PATTERN),
  sha256: z.string().nullable(),
  status: z.enum(['ok', 'error', 'skipped']),
  output: z.unknown(),
  /** 0–1 from engines that report one (the local engine); null or absent otherwise. */
  confidence: z.number().nullable().optional(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  cache: z.enum(['hit', 'miss', 'dedup', 'near-dup']).nullable(),
  provider: z.string(),
  model: z.string(),
  latency_ms: z.number().nonnegative(),
  attempts: z.number().int().nonnegative(),
  image: z
    .looseObject({
      width: z.number(),
      height: z.number(),
      bytes: z.number(),
      original_bytes: z.number(),
      tokens: z.number().optional(),
      original_tokens: z.number().optional(),
    })
    .nullable(),
  usage: usageSchema,
  cost_usd: z.number().nullable(),
  /** Refused calls and the wait after them (absent in files written before it was added). */
  rate_limited: z.object({ count: z.number().nonnegative(), wait_ms: z.number().nonnegative() }).optional(),
  /** What an ok record holds, as the run judged it (runs/quality.ts); absent in older files. */
  quality: z.enum(['ok', 'empty', 'low_confidence']).nullable().optional(),
  /** Documents only (runs/volume.ts counts a document's file once and a page as an image). */
  page: z.number().int().positive().optional(),
  pages: z.number().int().nonnegative().optional(),
  pages_sent: z.number().int().nonnegative().optional(),
  blank_pages: z.array(z.number().int()).optional(),
  /** Why a skipped record was skipped (`blank page …`: the report's page totals). */
  reason: z.string().nullable().optional(),
  document_sha256: z.string().optional(),
  /** ISO time the line was written (absent in files written before it was added). */
  finished_at: z.string().datetime({ offset: true }).optional(),
});

export type ReportRecord = z.infer<typeof reportRecordSchema>;

export interface ReadResultsOptions {
  /**
   * Called for a last line that is not JSON (a run killed mid-write leaves one): it is
   * skipped, not an error. `line` is its 1-based number.
   */
  onTornLine?: (line: number, text: string) => void;
}

function notJson(file: string, number: number, error: unknown): VisionpipeError {
  return new VisionpipeError('INVALID_INPUT', `${file}:${number}: not JSON (${(error as Error).message})`, {
    input: file,
  });
}

/**
 * Yields every record of a results file in order; empty lines are skipped. A line that is
 * not JSON is an INVALID_INPUT error naming its line number, unless it is the last
 * non-empty line (a torn write): that one is skipped and reported to `onTornLine`.
 */
export async function* readResults(
  file: string,
  options: ReadResultsOptions = {},
): AsyncGenerator<ReportRecord> {
  // A folder opens fine and fails on the first read: refuse it by name, not as an internal error.
  const isFolder = await stat(file).then(
    (info) => info.isDirectory(),
    () => false, // missing or unreadable: the open below names why
  );
  if (isFolder)
    throw new VisionpipeError('INVALID_INPUT', `${file}: is a folder, not a results file (give its .jsonl)`, {
      input: file,
    });
  const stream = createReadStream(file, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  try {
    await opened;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'READ_FAILED';
    throw new VisionpipeError(code, `${file}: cannot read the results file (${(error as Error).message})`, {
      input: file,
      cause: error,
    });
  }
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  // A line that is not JSON is held until the next non-empty line shows it was not the last.
  let pending: { number: number; text: string; error: unknown } | undefined;
  for await (const line of lines) {
    number++;
    if (line.trim() === '') continue;
    if (pending) throw notJson(file, pending.number, pending.error);
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      pending = { number, text: line, error };
      continue;
    }
    const parsed = reportRecordSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? issue.path.join('.') : 'the line';
      throw new VisionpipeError(
        'INVALID_INPUT',
        `${file}:${number}: not a result record: ${where}: ${issue?.message ?? 'invalid'}`,
        { input: file },
      );
    }
    // A results file written by something else (or an older version) may hold a key: never shown.
    yield redactDeep(parsed.data);
  }
  if (pending) options.onTornLine?.(pending.number, pending.text);
}
