/**
 * Resume: running the same `visionpipe run` command again after a crash, SIGKILL or
 * Ctrl-C continues where it stopped. The results file is the journal: its ok and skipped
 * records are kept, failed ones are retried, a torn last line is dropped. An input is
 * resumed (not sent again) only when its earlier record is for the content it has now:
 * the pipeline identifies the content first (a file the stat memo proves unchanged is
 * not even read; anything else is read or fetched and hashed) and asks `reuse` with its
 * sha256. A name alone never brings an earlier record back.
 *
 * "The same command" means the same pattern fingerprint, provider, model, profile and
 * answer settings (endpoint, provider options, budget, cascade, routing rules), recorded
 * in a small sidecar file in the state directory; anything else starts over.
 * Memory: one small entry (name, sha256, byte offset) per earlier record.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { VisionpipeError } from '../errors.js';
import type { RunRecord } from '../pipeline/record.js';
import type { InputItem } from './inputs.js';
import { ResultsWriter } from './results-writer.js';

export interface RunSignature {
  /** Digest of the pattern fingerprint, the answer settings and the routing rules. */
  pattern: string;
  provider: string;
  model: string;
  profile: string;
}

interface Earlier {
  sha256: string | null;
  offset: number;
  length: number;
}

export interface ResumePlan {
  writer: ResultsWriter;
  /** Records kept from the earlier run. */
  earlier: number;
  /** Why earlier results were not resumed, when there were some. */
  reason: string | undefined;
  /**
   * The earlier record for this input when it was made for this content (`sha256` of what
   * the input holds now), else undefined: process it.
   */
  reuse(item: InputItem, sha256: string): RunRecord | undefined;
  /** Marks an input processed in this run (its new record supersedes any earlier one). */
  processed(label: string): void;
  /** Closes the writer, records completion, and drops superseded or (after a complete run) orphaned lines. */
  finish(completed: boolean): Promise<void>;
}

function sidecarPath(stateDir: string, out: string): string {
  const id = createHash('sha256').update(path.resolve(out)).digest('hex').slice(0, 16);
  return path.join(stateDir, 'runs', `${id}.json`);
}

function isSignature(value: unknown): value is RunSignature {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const s = value as Record<string, unknown>;
  return ['pattern', 'provider', 'model', 'profile'].every((key) => typeof s[key] === 'string');
}

/** What differs between two runs' signatures, in words. */
function differences(a: RunSignature, b: RunSignature): string {
  const words = [
    a.pattern !== b.pattern ? 'pattern or settings (endpoint, provider options, budget, cascade, rules)' : '',
    a.provider !== b.provider ? `provider (${a.provider}, now ${b.provider})` : '',
    a.model !== b.model ? `model (${a.model}, now ${b.model})` : '',
    a.profile !== b.profile ? `size profile (${a.profile}, now ${b.profile})` : '',
  ].filter(Boolean);
  return words.join(', ');
}

function sameSignature(a: unknown, b: RunSignature): boolean {
  if (a === null || typeof a !== 'object') return false;
  const s = a as Record<string, unknown>;
  return (
    s.pattern === b.pattern && s.provider === b.provider && s.model === b.model && s.profile === b.profile
  );
}

function parseRecord(text: string): RunRecord | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && typeof (value as RunRecord).input === 'string') {
      return value as RunRecord;
    }
  } catch {}
  return undefined;
}

function lines(file: string) {
  return createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Number.POSITIVE_INFINITY });
}

/**
 * Rewrites `file` with, for each input, the last line that `keep` accepts (torn and
 * unparseable lines always go), and returns where each kept line now is.
 */
async function compact(
  file: string,
  keep: (record: RunRecord, offset: number) => boolean,
): Promise<Map<string, Earlier>> {
  const lastLine = new Map<string, number>();
  let index = 0;
  let offset = 0;
  for await (const text of lines(file)) {
    const record = parseRecord(text);
    if (record && keep(record, offset)) lastLine.set(record.input, index);
    offset += Buffer.byteLength(text) + 1;
    index++;
  }
  const temporary = `${file}.compact-${process.pid}`;
  const fd = openSync(temporary, 'w');
  const kept = new Map<string, Earlier>();
  let written = 0;
  index = 0;
  try {
    for await (const text of lines(file)) {
      const current = index++;
      const record = parseRecord(text);
      if (!record || lastLine.get(record.input) !== current) continue;
      const line = `${text}\n`;
      writeSync(fd, line);
      const length = Buffer.byteLength(line);
      kept.set(record.input, { sha256: record.sha256 ?? null, offset: written, length });
      written += length;
    }
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
  return kept;
}

export async function planResume(options: {
  out: string;
  stateDir: string;
  signature: RunSignature;
  fresh: boolean;
}): Promise<ResumePlan> {
  const sidecar = sidecarPath(options.stateDir, options.out);
  let earlier = new Map<string, Earlier>();
  let reason: string | undefined;
  if (existsSync(options.out) && !options.fresh) {
    let previous: unknown;
    try {
      previous = JSON.parse(readFileSync(sidecar, 'utf8'));
    } catch {}
    if (!isSignature(previous)) reason = `${options.out} was not written by this command here: starting over`;
    else if (!sameSignature(previous, options.signature)) {
      // Its records were paid for with another configuration: never overwrite them unasked.
      throw new VisionpipeError(
        'INVALID_OPTION',
        `${options.out} holds results of a run with a different ${differences(previous, options.signature)}; ` +
          `write to another file with -o/--out, or pass --fresh to replace them`,
        { option: 'out' },
      );
    } else {
      earlier = await compact(options.out, (record) => record.status === 'ok' || record.status === 'skipped');
    }
  }
  const writer = ResultsWriter.open(options.out, earlier.size > 0 ? 'append' : 'truncate');
  const writeSidecar = (completed: boolean) =>
    writeFileSync(
      sidecar,
      JSON.stringify({ ...options.signature, out: path.resolve(options.out), completed }),
    );
  mkdirSync(path.dirname(sidecar), { recursive: true });
  writeSidecar(false);

  const seen = new Set<string>();
  const superseded = new Set<string>();
  const readerFd = earlier.size > 0 ? openSync(options.out, 'r') : undefined;

  return {
    writer,
    earlier: earlier.size,
    reason,
    reuse(item, sha256) {
      seen.add(item.label);
      const entry = earlier.get(item.label);
      if (!entry || readerFd === undefined || item.kind === 'error') return undefined;
      // Edited in place, or another image at the same URL: the record is for other content.
      if (entry.sha256 !== sha256) return undefined;
      const buffer = Buffer.allocUnsafe(entry.length);
      readSync(readerFd, buffer, 0, entry.length, entry.offset);
      return parseRecord(buffer.toString('utf8').trimEnd());
    },
    processed(label) {
      seen.add(label);
      if (earlier.has(label)) superseded.add(label);
    },
    async finish(completed) {
      if (readerFd !== undefined) closeSync(readerFd);
      writer.close();
      writeSidecar(completed);
      const isStale = (label: string) => superseded.has(label) || (completed && !seen.has(label));
      if (![...earlier.keys()].some(isStale)) return;
      await compact(options.out, (record, offset) => {
        const entry = earlier.get(record.input);
        return !(entry !== undefined && entry.offset === offset && isStale(record.input));
      });
    },
  };
}
