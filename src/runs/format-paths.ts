/**
 * Where `--format-dir` puts an input's rendered output: its path from the common root of
 * the inputs, so two `r.png` in different folders never become `r.csv` and `r-1.csv`, and
 * an absolute input never recreates its absolute path under the folder.
 *
 * The root is the deepest folder holding every input argument: a folder argument itself,
 * a file argument's folder, a glob's folder before its first wildcard (`a/r.png`, `b/r.png`
 * → `a/r.csv`, `b/r.csv`; `/data/scans/x/r.png` alone → `r.csv`; one folder `scans` →
 * `scans/a/r.png` → `a/r.csv`). URLs keep their `host/path`, data URIs `data/<id>`.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { isDataUri } from '../image/data-uri.js';
import { isUrl } from '../image/source.js';
import { globBase, type InputItem, isGlob } from './inputs.js';

/** The folder an argument names its inputs from; undefined for URLs and data URIs. */
async function argumentRoot(arg: string): Promise<string | undefined> {
  if (isUrl(arg) || isDataUri(arg)) return undefined;
  const info = await stat(arg).catch(() => undefined);
  if (info?.isDirectory()) return path.resolve(arg);
  if (info || !isGlob(arg)) return path.dirname(path.resolve(arg));
  return path.resolve(globBase(arg).base);
}

/** The deepest folder holding both `a` and `b` (absolute); undefined across drives. */
function commonFolder(a: string, b: string): string | undefined {
  let common = a;
  while (path.relative(common, b).startsWith('..')) {
    const parent = path.dirname(common);
    if (parent === common) return undefined;
    common = parent;
  }
  return path.isAbsolute(path.relative(common, b)) ? undefined : common;
}

/**
 * The common root of the input arguments (streamed, constant memory: a `--list` of a
 * million lines keeps one path); undefined when no argument is a path.
 */
export async function commonRoot(
  args: Iterable<string> | AsyncIterable<string>,
): Promise<string | undefined> {
  let root: string | undefined;
  let seen = false;
  for await (const arg of args) {
    const folder = await argumentRoot(arg);
    if (folder === undefined) continue;
    root = seen ? (root === undefined ? undefined : commonFolder(root, folder)) : folder;
    seen = true;
  }
  return root;
}

/** The path an item's output takes under `--format-dir`: from `root` for a file, its own `rel` otherwise. */
export function formatRelativePath(
  item: Exclude<InputItem, { kind: 'error' }>,
  root: string | undefined,
): string {
  if (item.kind !== 'file' || root === undefined) return item.rel;
  const absolute = path.resolve(item.path);
  const fromRoot = path.relative(root, absolute);
  if (fromRoot !== '' && !fromRoot.startsWith('..') && !path.isAbsolute(fromRoot)) return fromRoot;
  return item.rel; // outside the root (a watched folder's link): its name within its own argument
}
