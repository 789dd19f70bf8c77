/**
 * Where optimized files go: `<outDir>/<relative path>.<ext>`, written atomically
 * (temporary file, then link/rename), never outside `outDir` and never over an input.
 *
 * Two inputs can map to one output (`a.png` and `a.jpg` both become `a.jpg`). The
 * second gets `a-1.jpg`. Telling "written by this run" from "left by an earlier run"
 * (which is overwritten) uses the file's mtime against a marker stamped at the start
 * of the run by the same filesystem clock, so no per-file state is kept in memory.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { VisionpipeError } from '../errors.js';

export class OutputWriter {
  private readonly locks = new Map<string, Promise<unknown>>();

  private constructor(
    readonly outDir: string,
    private readonly runStampMs: number,
    private readonly protectedPaths: ReadonlySet<string>,
  ) {}

  /**
   * @param protectedPaths files that must never be overwritten (explicitly named inputs).
   */
  static async create(outDir: string, protectedPaths: Iterable<string> = []): Promise<OutputWriter> {
    const root = path.resolve(outDir);
    await mkdir(root, { recursive: true });
    const marker = path.join(root, `.visionpipe-run-${process.pid}-${randomBytes(4).toString('hex')}`);
    await writeFile(marker, '');
    const stamp = (await stat(marker)).mtimeMs;
    await unlink(marker);
    return new OutputWriter(root, stamp, new Set([...protectedPaths].map((p) => path.resolve(p))));
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

  /** Writes `data` for an input and returns the path used. */
  async write(
    input: { label: string; path?: string; rel: string },
    extension: string,
    data: Uint8Array,
  ): Promise<string> {
    const desired = this.targetFor(input.rel, extension);
    if (input.path !== undefined && path.resolve(input.path) === desired) {
      throw new VisionpipeError(
        'OUTPUT_CONFLICT',
        `${input.label}: the output would overwrite the input itself; choose another --out-dir`,
        { input: input.label },
      );
    }
    await mkdir(path.dirname(desired), { recursive: true });
    const temporary = path.join(
      path.dirname(desired),
      `.${path.basename(desired)}.${randomBytes(6).toString('hex')}.tmp`,
    );
    await writeFile(temporary, data);
    try {
      const { dir, name, ext } = path.parse(desired);
      for (let n = 0; ; n++) {
        const candidate = n === 0 ? desired : path.join(dir, `${name}-${n}${ext}`);
        if (this.protectedPaths.has(candidate)) continue;
        if (await this.withLock(candidate, () => this.claim(temporary, candidate))) return candidate;
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

  /** Moves the temporary file to `candidate` unless this run already wrote there. */
  private async claim(temporary: string, candidate: string): Promise<boolean> {
    try {
      await link(temporary, candidate);
      await unlink(temporary);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const existing = await stat(candidate);
    if (!existing.isFile() || existing.mtimeMs >= this.runStampMs) return false;
    await rename(temporary, candidate);
    return true;
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
