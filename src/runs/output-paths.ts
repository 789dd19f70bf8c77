/**
 * Where rendered and optimized files go: `<outDir>/<relative path>.<ext>`, written
 * atomically (a temporary file beside the target, then link/rename), never outside
 * `outDir` (symlinks resolved: a linked subfolder cannot take a write elsewhere), never
 * over an input, and never over a file visionpipe did not write unless `overwrite` is set.
 *
 * What visionpipe wrote is listed in `<outDir>/.visionpipe-outputs.jsonl` (one line per file:
 * `{"file": relative path, "input": label, "ext": extension}`). That list is what makes a
 * file "ours" (it is replaced when its input is rendered again), and what makes names
 * stable: two inputs that map to one name (`a/x.png`, `b/x.png` → `x.csv`) get `x.csv` and
 * `x-1.csv` in the order they first finished, and keep those names in every later run.
 * A file of the same name that is not in the list is someone else's: it is never replaced
 * without `overwrite`; the output takes the next free name (`x-2.csv`), the record says
 * which file it was written to, and `onSidestep` announces it (once per file).
 * Temporary files left by a killed run are removed when the next run opens the folder.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { link, lstat, mkdir, readdir, realpath, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { VisionpipeError } from '../errors.js';

export const OUTPUTS_MANIFEST = '.visionpipe-outputs.jsonl';
/** `.<name>.<12 hex>.tmp`: the temporary files this module makes, and the only ones it removes. */
const TEMPORARY = /^\..+\.[0-9a-f]{12}\.tmp$/;

export interface OutputWriterOptions {
  /** Replace files of the same name that visionpipe did not write (CLI `--overwrite`). Default false. */
  overwrite?: boolean;
  /**
   * Told when an output could not take its name because a file visionpipe did not write is
   * there: the file kept (absolute) and the name written instead. The CLI prints it as a
   * warning naming --overwrite.
   */
  onSidestep?: (kept: string, written: string) => void;
}

interface Owned {
  input: string;
  ext: string;
}

export class OutputWriter {
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Relative file → who it was written for. */
  private readonly owned = new Map<string, Owned>();
  /** `${input}\0${ext}` → relative file: the name an input keeps across runs. */
  private readonly names = new Map<string, string>();
  /** Files of others already announced (onSidestep): once each. */
  private readonly announced = new Set<string>();

  private constructor(
    readonly outDir: string,
    private readonly protectedPaths: ReadonlySet<string>,
    private readonly overwrite: boolean,
    private readonly onSidestep: ((kept: string, written: string) => void) | undefined = undefined,
  ) {}

  /**
   * @param protectedPaths files that must never be overwritten (explicitly named inputs).
   */
  static async create(
    outDir: string,
    protectedPaths: Iterable<string> = [],
    options: OutputWriterOptions = {},
  ): Promise<OutputWriter> {
    await mkdir(path.resolve(outDir), { recursive: true });
    const root = await realpath(path.resolve(outDir));
    const protectedReal = new Set<string>();
    for (const file of protectedPaths)
      protectedReal.add(await realpath(file).catch(() => path.resolve(file)));
    const writer = new OutputWriter(root, protectedReal, options.overwrite ?? false, options.onSidestep);
    writer.loadManifest();
    await removeTemporaries(root, 0);
    return writer;
  }

  private loadManifest(): void {
    let text = '';
    try {
      text = readFileSync(path.join(this.outDir, OUTPUTS_MANIFEST), 'utf8');
    } catch {
      return;
    }
    for (const line of text.split('\n')) {
      try {
        const entry = JSON.parse(line) as { file?: unknown; input?: unknown; ext?: unknown };
        if (
          typeof entry.file !== 'string' ||
          typeof entry.input !== 'string' ||
          typeof entry.ext !== 'string'
        )
          continue;
        this.remember(entry.file, entry.input, entry.ext);
      } catch {} // a torn last line after a kill
    }
  }

  private remember(file: string, input: string, ext: string): void {
    const previous = this.owned.get(file);
    if (previous) this.names.delete(`${previous.input}\0${previous.ext}`);
    this.owned.set(file, { input, ext });
    this.names.set(`${input}\0${ext}`, file);
  }

  /** The file an input was written to in this or an earlier run, if any (absolute). */
  writtenFor(input: string, extension: string): string | undefined {
    const file = this.names.get(`${input}\0${extension}`);
    return file === undefined ? undefined : path.join(this.outDir, file);
  }

  /** The preferred output path for a relative input path and an extension, checked to stay inside outDir. */
  targetFor(rel: string, extension: string): string {
    const parsed = path.parse(path.normalize(rel));
    const candidate = path.resolve(this.outDir, parsed.dir, `${parsed.name}${extension}`);
    if (!candidate.startsWith(this.outDir + path.sep)) {
      throw new VisionpipeError('OUTPUT_CONFLICT', `${rel}: output path would escape the output directory`, {
        input: rel,
      });
    }
    return candidate;
  }

  /** Creates the folder of `file` and checks, symlinks resolved, that it is inside outDir. */
  private async containedFolder(file: string, label: string): Promise<void> {
    const folder = path.dirname(file);
    await mkdir(folder, { recursive: true });
    const real = await realpath(folder);
    if (real !== this.outDir && !real.startsWith(this.outDir + path.sep)) {
      throw new VisionpipeError(
        'OUTPUT_CONFLICT',
        `${label}: ${path.relative(this.outDir, folder)} leads outside the output directory (to ${real}, through a symbolic link); nothing was written`,
        { input: label },
      );
    }
  }

  /** Writes `data` for an input and returns the path used. */
  async write(
    input: { label: string; path?: string; rel: string },
    extension: string,
    data: Uint8Array,
  ): Promise<string> {
    const known = this.writtenFor(input.label, extension);
    const desired = known ?? this.targetFor(input.rel, extension);
    const inputReal =
      input.path === undefined
        ? undefined
        : await realpath(input.path).catch(() => path.resolve(input.path as string));
    if (inputReal !== undefined && (await realpath(desired).catch(() => desired)) === inputReal) {
      throw new VisionpipeError(
        'OUTPUT_CONFLICT',
        `${input.label}: the output would overwrite the input itself; choose another --out-dir`,
        { input: input.label },
      );
    }
    await this.containedFolder(desired, input.label);
    const temporary = path.join(
      path.dirname(desired),
      `.${path.basename(desired)}.${randomBytes(6).toString('hex')}.tmp`,
    );
    try {
      await writeFile(temporary, data, { flag: 'wx' });
      // The counter goes before the whole extension given (`x-1.p001.jpg`, not `x.p001-1.jpg`).
      const dir = path.dirname(desired);
      const base = path.basename(desired);
      const ext = base.endsWith(extension) ? extension : path.extname(base);
      const name = base.slice(0, base.length - ext.length);
      const kept: string[] = [];
      for (let n = 0; ; n++) {
        const candidate = n === 0 ? desired : path.join(dir, `${name}-${n}${ext}`);
        if (this.protectedPaths.has(candidate) || candidate === inputReal) continue;
        const claimed = await this.withLock(candidate, () =>
          this.claim(temporary, candidate, input.label, extension),
        );
        if (claimed === 'claimed') {
          // Announced: a user's own file beside ours must not go unnoticed.
          if (kept[0] !== undefined && !this.announced.has(kept[0])) {
            this.announced.add(kept[0]);
            this.onSidestep?.(kept[0], candidate);
          }
          return candidate;
        }
        if (claimed === 'foreign') kept.push(candidate);
      }
    } catch (error) {
      await unlink(temporary).catch(() => {});
      if (error instanceof VisionpipeError) throw error;
      throw new VisionpipeError(
        'WRITE_FAILED',
        `${input.label}: cannot write output (${(error as Error).message})`,
        {
          input: input.label,
          cause: error,
        },
      );
    }
  }

  /**
   * Moves the temporary file to `candidate` when the name is free, or is this input's own
   * file, or (with `overwrite`) is a file visionpipe did not write: 'claimed'; else why the
   * next name is tried ('foreign': a file visionpipe did not write, or a folder or link).
   */
  private async claim(
    temporary: string,
    candidate: string,
    label: string,
    extension: string,
  ): Promise<'claimed' | 'foreign' | 'another-input'> {
    const rel = path.relative(this.outDir, candidate);
    const owner = this.owned.get(rel);
    if (owner === undefined) {
      try {
        await link(temporary, candidate); // atomic and exclusive: never replaces anything
        await unlink(temporary);
        this.record(rel, label, extension);
        return 'claimed';
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      if (!this.overwrite) return 'foreign'; // someone else's file
      const existing = await lstat(candidate);
      if (!existing.isFile()) return 'foreign'; // never replace a folder or a link
    } else if (owner.input !== label || owner.ext !== extension) {
      return 'another-input'; // another input's output
    }
    await rename(temporary, candidate);
    this.record(rel, label, extension);
    return 'claimed';
  }

  private record(rel: string, label: string, extension: string): void {
    const current = this.owned.get(rel);
    if (current?.input === label && current.ext === extension) return;
    this.remember(rel, label, extension);
    appendFileSync(
      path.join(this.outDir, OUTPUTS_MANIFEST),
      `${JSON.stringify({ file: rel, input: label, ext: extension })}\n`,
    );
  }

  private async withLock<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const current = previous.then(task, task);
    const settled = current.catch(() => {});
    this.locks.set(key, settled);
    try {
      return await current;
    } finally {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    }
  }
}

/** Removes this module's temporary files under `dir` (not following links), at most 32 levels deep. */
async function removeTemporaries(dir: string, depth: number): Promise<void> {
  if (depth > 32) return;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await removeTemporaries(full, depth + 1);
    else if (entry.isFile() && TEMPORARY.test(entry.name)) await unlink(full).catch(() => {});
  }
}

export function extensionFor(format: 'jpeg' | 'png' | 'webp'): string {
  return format === 'jpeg' ? '.jpg' : `.${format}`;
}

/**
 * Refuses an output directory that is one of the input directories: every output would
 * land beside (or on) the inputs. A folder *inside* an input directory is fine: walks skip it.
 */
export async function assertOutDirUsable(inputs: readonly string[], outDir: string): Promise<void> {
  const target = path.resolve(outDir);
  for (const input of inputs) {
    if (/^https?:\/\//i.test(input)) continue;
    let isDirectory = false;
    try {
      isDirectory = (await stat(input)).isDirectory();
    } catch {}
    if (isDirectory && path.resolve(input) === target) {
      throw new VisionpipeError(
        'INVALID_OPTION',
        `--out-dir ${outDir} is the input directory ${input}; choose a separate folder`,
        { option: 'outDir' },
      );
    }
  }
}
