/**
 * Side by side, two bench/flow.ts results of the same harness (bench/flow-ab.sh): per
 * server, client and concurrency, the base's and the head's fraction of the ceiling,
 * refused share, valid images that succeeded, good results per second and the rate that
 * delivered every valid image ("lost N" when some never got a good result).
 *
 *   tsx bench/flow-ab-table.ts <base.json> <head.json>
 */
import { readFileSync } from 'node:fs';
import type { FlowCell, FlowResults } from './flow-readme-table.js';
import { fmt, printTable } from './support.js';

type Cell = Partial<Pick<FlowCell, 'all_valid_per_s' | 'lost'>> & Omit<FlowCell, 'all_valid_per_s' | 'lost'>;
type Results = Pick<FlowResults, 'commit' | 'dirty' | 'cells'>;

const [basePath, headPath] = process.argv.slice(2);
if (!basePath || !headPath) throw new Error('usage: tsx bench/flow-ab-table.ts <base.json> <head.json>');
const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Results;
const base = read(basePath);
const head = read(headPath);
const all = (r: Results) => r.cells; // the process cells are among them
const key = (c: Cell) => `${c.server}|${c.client}|${c.concurrency}`;
const baseCells = new Map(all(base).map((c) => [key(c), c]));
const allValid = (c: Cell | undefined) =>
  c === undefined
    ? '–'
    : c.all_valid_per_s === null || c.all_valid_per_s === undefined
      ? `lost ${c.lost ?? c.valid - c.valid_ok}`
      : fmt(c.all_valid_per_s, 1);
const pair = (b: string, h: string) => `${b} → ${h}`;
const seen = new Set<string>();
const rows: string[][] = [];
for (const h of all(head)) {
  if (seen.has(key(h))) continue;
  seen.add(key(h));
  const b = baseCells.get(key(h));
  rows.push([
    h.server,
    h.client,
    String(h.concurrency),
    pair(b ? fmt(b.fraction_of_ceiling) : '–', fmt(h.fraction_of_ceiling)),
    pair(b ? `${fmt(b.refused_share * 100, 1)} %` : '–', `${fmt(h.refused_share * 100, 1)} %`),
    pair(b ? `${b.valid_ok}/${b.valid}` : '–', `${h.valid_ok}/${h.valid}`),
    pair(b ? fmt(b.good_per_s, 1) : '–', fmt(h.good_per_s, 1)),
    pair(allValid(b), allValid(h)),
  ]);
}
printTable(
  `Flow A/B, base ${base.commit.slice(0, 8)} → head ${head.commit.slice(0, 8)} (same harness; each side's SDK row is its own run)`,
  ['server', 'client', 'conc', 'ceiling', 'refused', 'valid ok', 'good/s', 'all valid/s'],
  rows,
);
