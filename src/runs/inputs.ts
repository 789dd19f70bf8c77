/**
 * Expands command-line inputs (files, directories, globs, URLs) into a stream of work
 * items. Directories are walked with `opendir`, one entry at a time, so a folder of a
 * million images never sits in memory; an argument that matches nothing becomes an
 * error item, reported like any other failed input, and the rest go on.
 *
 * A folder walk yields images and documents only, by extension (READABLE_EXTENSIONS; a
 * file without one is read and judged by its content): `notes.txt`, `data.json` and hidden
 * files (`.DS_Store`) are passed over and told to `onSkipped`, so a summary can count them.
 * Hidden folders (`.git`) are not walked. A file named explicitly, or matched by a glob, is
 * always yielded: what it is becomes its record's typed error. Symbolic links to files are
 * followed, links to directories are not (no cycles).
 */
import { createReadStream, type Dirent } from 'node:fs';
import { opendir, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import picomatch from 'picomatch';
import { VisionpipeError } from '../errors.js';
import { dataUriPreview, decodeDataUri, isDataUri } from '../image/data-uri.js';
import { isUrl } from '../image/source.js';
import { redactUrl } from '../secrets.js';

export type InputItem =
  | { kind: 'file'; label: string; path: string; rel: string }
  | { kind: 'url'; label: string; url: string; rel: string }
  /** A `data:` URI argument, decoded; `label` is its short id (`data:image/png;sha256=…`), never its text. */
  | { kind: 'data'; label: string; bytes: Buffer; rel: string }
  | { kind: 'error'; label: string; error: VisionpipeError };

export interface ExpandOptions {
  /** Absolute paths whose subtrees are never walked (output and state directories). */
  exclude?: readonly string[];
  includeHidden?: boolean;
  /** Told each file a folder walk passed over: not an image or document by its name, or hidden. */
  onSkipped?: (file: string) => void;
  /**
   * Told each file yielded before under the same resolved path (a file named twice, or
   * named and inside a folder named too), which is then not yielded again: one input per
   * path. Symbolic links keep their own path. Without it, every occurrence is yielded
   * (`run --watch` hands out a changed file again).
   */
  onDuplicate?: (file: string) => void;
}

/** Extensions of the images and documents visionpipe reads (lower case, with the dot). */
export const READABLE_EXTENSIONS: ReadonlySet<string> = new Set(
  [
    'jpg',
    'jpeg',
    'jpe',
    'jfif',
    'png',
    'apng',
    'webp',
    'gif',
    'tif',
    'tiff',
    'avif',
    'heic',
    'heif',
    'pdf',
  ].map((ext) => `.${ext}`),
);

/** True when a walked file's name says it may be an image or document (no extension: its content decides). */
export function isReadableName(name: string): boolean {
  const extension = path.extname(name).toLowerCase();
  return extension === '' || READABLE_EXTENSIONS.has(extension);
}

const GLOB_CHARS = /[*?[\]{}]/;

export function isGlob(arg: string): boolean {
  return GLOB_CHARS.test(arg);
}

/** A filesystem-safe relative path for a URL: `host/path/segments`, never escaping upwards. */
export function urlRelativePath(url: string): string {
  const parsed = new URL(url);
  const segments = parsed.pathname
    .split('/')
    .map((segment) => {
      let decoded = segment;
      try {
        decoded = decodeURIComponent(segment);
      } catch {}
      return decoded.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 120);
    })
    .filter((segment) => segment !== '' && segment !== '.' && segment !== '..');
  const host = parsed.host.replace(/[^A-Za-z0-9._-]/g, '_');
  return path.join(host, ...(segments.length ? segments : ['index']));
}

function isExcluded(absolute: string, exclude: readonly string[]): boolean {
  return exclude.some((dir) => absolute === dir || absolute.startsWith(dir + path.sep));
}

interface WalkContext {
  root: string;
  exclude: readonly string[];
  includeHidden: boolean;
  match?: (rel: string) => boolean;
  maxDepth: number;
  onSkipped?: ((file: string) => void) | undefined;
}

async function isFileTarget(entry: Dirent, full: string): Promise<boolean> {
  if (entry.isFile()) return true;
  if (!entry.isSymbolicLink()) return false;
  try {
    return (await stat(full)).isFile();
  } catch {
    return false;
  }
}

async function* walk(dir: string, context: WalkContext, depth: number): AsyncGenerator<InputItem> {
  let handle: Awaited<ReturnType<typeof opendir>>;
  try {
    handle = await opendir(dir);
  } catch (error) {
    const label = dir;
    // A glob whose folder does not exist names nothing: NOT_FOUND, like a missing file.
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    yield {
      kind: 'error',
      label,
      error: new VisionpipeError(
        missing ? 'NOT_FOUND' : 'READ_FAILED',
        missing
          ? `${label}: no such directory`
          : `${label}: cannot read directory (${(error as Error).message})`,
        {
          input: label,
          cause: error,
        },
      ),
    };
    return;
  }
  for await (const entry of handle) {
    const full = path.join(dir, entry.name);
    if (isExcluded(path.resolve(full), context.exclude)) continue;
    const hidden = !context.includeHidden && entry.name.startsWith('.');
    if (entry.isDirectory()) {
      if (!hidden && depth < context.maxDepth) yield* walk(full, context, depth + 1);
      continue;
    }
    const rel = path.relative(context.root, full);
    if (context.match && !context.match(rel)) continue;
    if (!(await isFileTarget(entry, full))) continue;
    // A folder's own files only: what a glob matched was asked for, whatever it is.
    if (hidden || (!context.match && !isReadableName(entry.name))) context.onSkipped?.(full);
    else yield { kind: 'file', label: full, path: full, rel };
  }
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
}

/** The directory part of a glob before its first wildcard segment. */
export function globBase(pattern: string): { base: string; rest: string } {
  const segments = pattern.split(/[\\/]/);
  const firstGlob = segments.findIndex((segment) => isGlob(segment));
  const baseSegments = segments.slice(0, firstGlob);
  const base = baseSegments.length === 0 ? '.' : baseSegments.join('/') || '/';
  return { base, rest: segments.slice(firstGlob).join('/') };
}

/** A data URI argument: its decoded bytes, or INVALID_INPUT naming it by its first characters. */
function dataItem(arg: string): InputItem {
  try {
    const { label, bytes, mediaType } = decodeDataUri(arg);
    const extension = mediaType.split('/')[1]?.replace(/[^a-z0-9]/g, '') || 'bin';
    return { kind: 'data', label, bytes, rel: path.join('data', `${label.slice(-16)}.${extension}`) };
  } catch (error) {
    const label = dataUriPreview(arg);
    return {
      kind: 'error',
      label,
      error:
        error instanceof VisionpipeError
          ? error
          : new VisionpipeError('INVALID_INPUT', `${label}: ${(error as Error).message}`, { input: label }),
    };
  }
}

async function* expandOne(
  arg: string,
  options: Required<Omit<ExpandOptions, 'onSkipped' | 'onDuplicate'>> & Pick<ExpandOptions, 'onSkipped'>,
): AsyncGenerator<InputItem> {
  if (isDataUri(arg)) {
    yield dataItem(arg);
    return;
  }
  if (isUrl(arg)) {
    try {
      // The label is what records, caches and messages show: never the URL's credentials.
      yield { kind: 'url', label: redactUrl(arg), url: arg, rel: urlRelativePath(redactUrl(arg)) };
    } catch {
      yield {
        kind: 'error',
        label: arg,
        error: new VisionpipeError('INVALID_INPUT', `${arg}: not a valid URL`),
      };
    }
    return;
  }
  let info: Awaited<ReturnType<typeof stat>> | undefined;
  try {
    info = await stat(arg);
  } catch {}
  if (info?.isFile()) {
    yield { kind: 'file', label: arg, path: arg, rel: path.basename(arg) };
    return;
  }
  if (info?.isDirectory()) {
    yield* walk(
      arg,
      {
        root: arg,
        exclude: options.exclude,
        includeHidden: options.includeHidden,
        maxDepth: Infinity,
        onSkipped: options.onSkipped,
      },
      0,
    );
    return;
  }
  if (!info && isGlob(arg)) {
    const { base, rest } = globBase(arg);
    if (!(await isDirectory(base))) {
      yield {
        kind: 'error',
        label: arg,
        error: new VisionpipeError('NOT_FOUND', `${arg}: the folder ${base} does not exist`, { input: arg }),
      };
      return;
    }
    const matcher = picomatch(rest, { dot: options.includeHidden });
    const maxDepth = rest.includes('**') ? Infinity : rest.split('/').length - 1;
    let matched = false;
    for await (const item of walk(
      base,
      {
        root: base,
        exclude: options.exclude,
        includeHidden: options.includeHidden,
        match: matcher,
        maxDepth,
      },
      0,
    )) {
      matched = true;
      yield item;
    }
    if (matched) return;
    yield {
      kind: 'error',
      label: arg,
      error: new VisionpipeError('NOT_FOUND', `${arg}: the glob matched no files`, { input: arg }),
    };
    return;
  }
  yield {
    kind: 'error',
    label: arg,
    error: new VisionpipeError(
      info ? 'READ_FAILED' : 'NOT_FOUND',
      info ? `${arg}: not a file or directory` : `${arg}: no such file or directory`,
      { input: arg },
    ),
  };
}

/** Streams every input named by `args`, in argument order. */
export async function* expandInputs(
  args: Iterable<string> | AsyncIterable<string>,
  options: ExpandOptions = {},
): AsyncGenerator<InputItem> {
  const resolved = {
    exclude: (options.exclude ?? []).map((dir) => path.resolve(dir)),
    includeHidden: options.includeHidden ?? false,
    onSkipped: options.onSkipped,
  };
  const onDuplicate = options.onDuplicate;
  if (!onDuplicate) {
    for await (const arg of args) yield* expandOne(arg, resolved);
    return;
  }
  // Resolved paths already yielded: bounded by the inputs of the run, as its journal is.
  const seen = new Set<string>();
  for await (const arg of args) {
    for await (const item of expandOne(arg, resolved)) {
      if (item.kind === 'file') {
        const key = path.resolve(item.path);
        if (seen.has(key)) {
          onDuplicate(item.label);
          continue;
        }
        seen.add(key);
      }
      yield item;
    }
  }
}

/** Counts what `expandInputs` would yield without keeping it (for progress totals). */
export async function countInputs(
  args: Iterable<string> | AsyncIterable<string>,
  options: ExpandOptions = {},
): Promise<number> {
  let count = 0;
  for await (const _ of expandInputs(args, options)) count++;
  return count;
}

/** Resolved paths of the arguments that name files directly (bounded by the command line). */
export async function explicitFilePaths(args: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const arg of args) {
    if (isUrl(arg)) continue;
    try {
      if ((await stat(arg)).isFile()) files.push(path.resolve(arg));
    } catch {}
  }
  return files;
}

/** Streams the non-empty, non-comment lines of a list file (one path or URL per line). */
export async function* readListFile(file: string): AsyncGenerator<string> {
  let stream: ReturnType<typeof createReadStream>;
  try {
    await stat(file);
    stream = createReadStream(file, { encoding: 'utf8' });
  } catch (error) {
    throw new VisionpipeError('NOT_FOUND', `--list ${file}: no such file`, { input: file, cause: error });
  }
  for await (const line of createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) {
    const trimmed = line.trim();
    if (trimmed !== '' && !trimmed.startsWith('#')) yield trimmed;
  }
}

/** The command's input arguments, then the lines of its `--list` file when one is given. */
export async function* argumentsAndList(
  inputs: readonly string[],
  list: string | undefined,
): AsyncGenerator<string> {
  yield* inputs;
  if (list) yield* readListFile(list);
}
