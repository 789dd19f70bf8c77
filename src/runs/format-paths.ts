/**
 * Where `--format-dir` puts an input's rendered output, keeping the input's folders so
 * that two `r.png` in different folders never become `r.csv` and `r-1.csv`.
 *
 * One folder or glob argument: the path inside it (`scans/a/r.png` → `a/r.csv`). Several
 * arguments (or `--list`): the path from the working directory (`a/r.png`, `b/r.png` →
 * `a/r.csv`, `b/r.csv`), or for a file outside it, its absolute path below the folder
 * (`/data/x/r.png` → `data/x/r.csv`). URLs keep their `host/path`.
 */
import path from 'node:path';
import type { InputItem } from './inputs.js';

export function formatRelativePath(
  item: Exclude<InputItem, { kind: 'error' }>,
  severalArguments: boolean,
  cwd: string = process.cwd(),
): string {
  if (item.kind !== 'file' || !severalArguments) return item.rel;
  const absolute = path.resolve(item.path);
  const fromCwd = path.relative(cwd, absolute);
  if (fromCwd !== '' && !fromCwd.startsWith('..') && !path.isAbsolute(fromCwd)) return fromCwd;
  return absolute.slice(path.parse(absolute).root.length);
}
