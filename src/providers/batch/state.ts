/**
 * The batch job's state file: which batches a job submitted, with the custom ids (and
 * image sizes) of their requests, written atomically (temp file, fsync, rename) right
 * after every submit, so a process killed at any instant leaves either the previous
 * state or the new one, never a torn file and never a paid batch nobody knows about.
 *
 * A job's file stays after the last result was handed over, marked `fetched: true`: a
 * record of what ran (batch ids to reconcile the bill against), and the sign that a
 * later run under the same job key is a new job, not a resume.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { VisionpipeError } from '../../errors.js';
import { sha256 } from '../../image/fingerprint.js';
import type { BatchRequest, BatchRequestInfo } from './spec.js';

const STATES = [
  'validating',
  'in_progress',
  'finalizing',
  'cancelling',
  'completed',
  'failed',
  'expired',
  'cancelled',
  'ended',
] as const;

const batchEntrySchema = z.object({
  id: z.string().min(1),
  submittedAt: z.string(),
  /** The last state a poll saw. */
  state: z.enum(STATES),
  /** Every result of this batch was handed to the caller. */
  fetched: z.boolean(),
  /**
   * `[customId, model, width, height, ...[pageWidth, pageHeight]]` per request: compact,
   * and enough to read results (the image tokens of every page a document's request sent).
   */
  requests: z.array(
    z.tuple([z.string(), z.string(), z.number(), z.number()]).rest(z.tuple([z.number(), z.number()])),
  ),
});

const stateSchema = z.object({
  version: z.literal(1),
  jobKey: z.string().min(1),
  backend: z.enum(['openai', 'anthropic']),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Every batch fetched and every result handed over: the job is over. */
  fetched: z.boolean(),
  batches: z.array(batchEntrySchema),
});

export type BatchJobState = z.infer<typeof stateSchema>;
export type BatchEntry = z.infer<typeof batchEntrySchema>;

/** The state file for `jobKey` under a state directory: `<stateDir>/batches/<key>.json`. */
export function batchStateFile(stateDir: string, jobKey: string): string {
  const name = /^[\w.-]{1,100}$/.test(jobKey) ? jobKey : sha256(Buffer.from(jobKey)).slice(0, 32);
  return path.join(stateDir, 'batches', `${name}.json`);
}

/** The state a file holds; undefined when there is none. A damaged file is an error, never ignored. */
export async function readBatchJobState(file: string): Promise<BatchJobState | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new VisionpipeError(
      'INVALID_OPTION',
      `batch state ${file} cannot be read: ${(error as Error).message}`,
      {
        option: 'stateFile',
        cause: error,
      },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const parsed = stateSchema.safeParse(value);
  if (!parsed.success) {
    // Starting over silently could submit (and pay for) batches that already exist.
    throw new VisionpipeError(
      'INVALID_OPTION',
      `batch state ${file} is not a visionpipe batch state; delete it to start over (batches it named would be submitted again)`,
      { option: 'stateFile' },
    );
  }
  return parsed.data;
}

/** Writes `state` to `file` atomically and durably: temp file, fsync, rename. */
export async function writeBatchJobState(file: string, state: BatchJobState): Promise<void> {
  state.updatedAt = new Date().toISOString();
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(JSON.stringify(state));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new VisionpipeError(
      'WRITE_FAILED',
      `batch state ${file} could not be written: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

export function newBatchJobState(jobKey: string, backend: BatchJobState['backend']): BatchJobState {
  const now = new Date().toISOString();
  return { version: 1, jobKey, backend, createdAt: now, updatedAt: now, fetched: false, batches: [] };
}

export function requestInfos(entry: BatchEntry): Map<string, BatchRequestInfo> {
  return new Map(
    entry.requests.map(([customId, model, width, height, ...pages]) => [
      customId,
      {
        customId,
        model,
        width,
        height,
        ...(pages.length > 0 ? { pages: pages.map(([w, h]) => ({ width: w, height: h })) } : {}),
      },
    ]),
  );
}

/** A request's entry in the state file: its id, model and the size of every image it sent. */
export function requestEntry(request: BatchRequest): BatchEntry['requests'][number] {
  return [
    request.customId,
    request.model,
    request.image.width,
    request.image.height,
    ...(request.pages ?? []).map((page): [number, number] => [page.width, page.height]),
  ];
}
