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
 *
 * Documents: a `--pages document` record is one line per input like an image's; with
 * `--pages each` every page has its line, kept and superseded page by page (the key is the
 * input and the page). A document record is matched on the document file's sha256
 * (`document_sha256`). Page records are handed to the document stage whatever file version
 * they were made for: a page of an unchanged file is kept as it is, and a page of a changed
 * one is kept when its rendered content (the page record's `sha256`) is one an earlier page
 * record was made for, so adding a page to a PDF pays for that page only, cache or not.
 */
import { createHash, randomUUID } from 'node:crypto';
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
import { firstLine, isResultsLine } from './output-guard.js';
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
  /** An ok or skipped record: handed back for the same content. A failed one is only kept on file. */
  reusable: boolean;
}

/** Whether an earlier record may stand for its input again (failed ones are retried). */
function isReusable(record: RunRecord): boolean {
  return record.status === 'ok' || record.status === 'skipped';
}

/** A line's identity in the journal: the input, and the page for a page of a document. */
function lineKey(record: Pick<RunRecord, 'input' | 'page'>): string {
  return record.page === undefined ? record.input : `${record.input}\0page ${record.page}`;
}

/** The content a record was made for: the document file's for a document, else the image's. */
function contentOf(record: RunRecord): string | null {
  return record.document_sha256 ?? record.sha256 ?? null;
}

export interface ResumePlan {
  writer: ResultsWriter;
  /** Earlier ok and skipped records on file (handed back when their input holds the same content). */
  earlier: number;
  /** Why earlier results were not resumed, when there were some. */
  reason: string | undefined;
  /**
   * This run's id: the one of the run it resumes when that run did not complete (a crash,
   * a signal), else a new one. `run --queue` tags its jobs with it, so a resumed coordinator
   * collects the jobs the crashed one sent as its own (their calls were paid for this run).
   */
  runId: string;
  /**
   * The earlier record for this input when it was made for this content (`sha256` of what
   * the input holds now), or all of a document's kept page records (for any version of the
   * file: each carries its `document_sha256` and its page's `sha256`), else undefined.
   */
  reuse(item: InputItem, sha256: string): RunRecord | readonly RunRecord[] | undefined;
  /** Marks a record written in this run (it supersedes the earlier line for its input and page). */
  processed(record: Pick<RunRecord, 'input' | 'page'>): void;
  /** Marks an earlier record handed back in this run (kept when the run completes). */
  kept(record: Pick<RunRecord, 'input' | 'page'>): void;
  /**
   * Closes the writer, records completion, and drops the earlier lines this run superseded
   * (their input processed again). Every other earlier line stays: the records of inputs
   * this run did not name or did not reach (a usage error, a missing input, a different
   * input set, a signal, a budget stop) are never dropped.
   */
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
    a.pattern !== b.pattern
      ? 'pattern or settings (endpoint, provider options, budget, cascade, rules, pages mode, page range)'
      : '',
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
    if (record && keep(record, offset)) lastLine.set(lineKey(record), index);
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
      if (!record || lastLine.get(lineKey(record)) !== current) continue;
      const line = `${text}\n`;
      writeSync(fd, line);
      const length = Buffer.byteLength(line);
      kept.set(lineKey(record), {
        sha256: contentOf(record),
        offset: written,
        length,
        reusable: isReusable(record),
      });
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
  /** Called once per input whose earlier records are for other content (they will be replaced). */
  onChanged?: (label: string) => void;
}): Promise<ResumePlan> {
  const sidecar = sidecarPath(options.stateDir, options.out);
  let earlier = new Map<string, Earlier>();
  let reason: string | undefined;
  let runId: string = randomUUID();
  if (existsSync(options.out) && !options.fresh) {
    let previous: unknown;
    try {
      previous = JSON.parse(readFileSync(sidecar, 'utf8'));
    } catch {}
    if (!isSignature(previous)) {
      // Records with no record of the command that made them (another --state-dir, another
      // working folder, a deleted or damaged state): they may have been paid for, so they are
      // never replaced unasked. A file that holds no record (empty, or not a results file
      // that --overwrite let through) is started over.
      if (isResultsLine(await firstLine(options.out).catch(() => ''))) {
        throw new VisionpipeError(
          'INVALID_OPTION',
          `${options.out} holds results of a run this state directory (${options.stateDir}) knows nothing of; ` +
            `run from the folder (or with the --state-dir) that wrote it, write to another file with -o/--out, ` +
            `or pass --fresh to replace them`,
          { option: 'out' },
        );
      }
      reason = `${options.out} was not written by this command here: starting over`;
    } else if (!sameSignature(previous, options.signature)) {
      // Its records were paid for with another configuration: never overwrite them unasked.
      throw new VisionpipeError(
        'INVALID_OPTION',
        `${options.out} holds results of a run with a different ${differences(previous, options.signature)}; ` +
          `write to another file with -o/--out, or pass --fresh to replace them`,
        { option: 'out' },
      );
    } else {
      const before = previous as { completed?: unknown; runId?: unknown };
      if (before.completed === false && typeof before.runId === 'string') runId = before.runId;
      // Every record stays on file, failed ones too (only their input's next record replaces
      // them); duplicates left by a killed run collapse to the last line of each input.
      earlier = await compact(options.out, () => true);
    }
  }
  const writer = ResultsWriter.open(options.out, earlier.size > 0 ? 'append' : 'truncate');
  const writeSidecar = (completed: boolean) =>
    writeFileSync(
      sidecar,
      JSON.stringify({ ...options.signature, out: path.resolve(options.out), completed, runId }),
    );
  mkdirSync(path.dirname(sidecar), { recursive: true });
  writeSidecar(false);

  const superseded = new Set<string>();
  const readerFd = earlier.size > 0 ? openSync(options.out, 'r') : undefined;
  // The page lines of each document read page by page, by input.
  const pageKeys = new Map<string, string[]>();
  for (const key of earlier.keys()) {
    const at = key.indexOf('\0');
    if (at < 0) continue;
    const input = key.slice(0, at);
    pageKeys.set(input, [...(pageKeys.get(input) ?? []), key]);
  }
  const read = (entry: Earlier) => {
    const buffer = Buffer.allocUnsafe(entry.length);
    readSync(readerFd as number, buffer, 0, entry.length, entry.offset);
    return parseRecord(buffer.toString('utf8').trimEnd());
  };

  const reusable = [...earlier.values()].filter((entry) => entry.reusable).length;
  const told = new Set<string>();
  return {
    writer,
    earlier: reusable,
    reason,
    runId,
    reuse(item, sha256) {
      if (readerFd === undefined || item.kind === 'error') return undefined;
      const entry = earlier.get(item.label);
      const changed = (stale: boolean) => {
        if (stale && !told.has(item.label)) {
          told.add(item.label);
          options.onChanged?.(item.label);
        }
      };
      // Edited in place, or another image at the same URL: the record is for other content.
      if (entry) {
        changed(entry.reusable && entry.sha256 !== sha256);
        return entry.reusable && entry.sha256 === sha256 ? read(entry) : undefined;
      }
      // A document's pages: all of them, whatever version of the file they were made for.
      // The document stage hands back those of this very file and, for the others, decides
      // page by page on the rendered page's content (document-stage.ts, EarlierPages).
      const earlierPages = (pageKeys.get(item.label) ?? [])
        .map((key) => earlier.get(key))
        .filter((page): page is Earlier => page?.reusable === true);
      changed(earlierPages.some((page) => page.sha256 !== sha256));
      const pages = earlierPages.map(read).filter((record): record is RunRecord => record !== undefined);
      return pages.length > 0 ? pages : undefined;
    },
    processed(record) {
      const key = lineKey(record);
      if (earlier.has(key)) superseded.add(key);
    },
    kept() {
      // Nothing to do: an earlier line stays unless this run supersedes it.
    },
    async finish(completed) {
      if (readerFd !== undefined) closeSync(readerFd);
      writer.close();
      writeSidecar(completed);
      // Only lines replaced by this run's own record for the same input and page go: a run
      // never drops what it did not redo, however it ended (see `finish` above).
      const isStale = (key: string) => superseded.has(key);
      if (superseded.size === 0) return;
      await compact(options.out, (record, offset) => {
        const key = lineKey(record);
        const entry = earlier.get(key);
        return !(entry !== undefined && entry.offset === offset && isStale(key));
      });
    },
  };
}
