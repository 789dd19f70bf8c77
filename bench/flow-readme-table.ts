/**
 * The README's flow-control tables, rendered from one bench:flow results file so that no
 * figure there is typed by hand: `tsx bench/flow-readme-table.ts --write` replaces the text
 * between the README's `<!-- flow-table -->` markers with the rendering of
 * bench/results/flow.json; test/bench/readme-flow.test.ts fails when the two differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The fields of a bench/flow.ts cell the README shows (older files lack the last two). */
export interface FlowCell {
  server: string;
  client: string;
  concurrency: number;
  valid: number;
  valid_ok: number;
  refused_share: number;
  fraction_of_ceiling: number;
  good_per_s: number;
  all_valid_per_s: number | null;
  lost: number;
  completed_per_s?: number | null;
  rerun_passes?: number;
}

/** A bench/results/flow.json file, as far as the README reads it. */
export interface FlowResults {
  commit: string;
  date: string;
  dirty: boolean;
  cells: FlowCell[];
  /** Three processes via Redis on the token bucket (the default run's first trio). */
  redis?: FlowCell;
  processes?: FlowCell[];
}

export const FLOW_TABLE_START = '<!-- flow-table:start -->';
export const FLOW_TABLE_END = '<!-- flow-table:end -->';

const f2 = (n: number) => n.toFixed(2);
const f1 = (n: number) => n.toFixed(1);
const pct = (share: number) => `${(share * 100).toFixed(1)} %`;
const SDK = 'openai SDK + p-limit';
const CHUNKED = 'chunked Promise.all(10)';

function summary(c: FlowCell): string {
  return `${f2(c.fraction_of_ceiling)} / ${pct(c.refused_share)} / ${c.valid_ok}/${c.valid} / ${f1(c.good_per_s)}`;
}

function allValid(c: FlowCell): string {
  return c.all_valid_per_s === null ? `lost ${c.lost}` : f1(c.all_valid_per_s);
}

function done(c: FlowCell): string {
  if (c.completed_per_s === undefined) return 'n/a';
  if (c.completed_per_s === null) return 'never';
  const passes = c.rerun_passes ?? 0;
  return `${f1(c.completed_per_s)}${passes > 0 ? ` (+${passes})` : ''}`;
}

function ratio(a: number | null | undefined, b: number | null | undefined): string {
  return a && b ? `${f2(a / b)}×` : '';
}

/** The markdown of both tables (zoo cells, then three processes), without the markers. */
export function renderFlowTables(results: FlowResults): string {
  const lines = [
    '| server | conc | visionpipe: of ceiling / refused / valid ok / good/s | SDK + p-limit: of ceiling / refused / valid ok / good/s | vs SDK (good/s) | all valid/s: visionpipe / SDK | done/s: visionpipe / SDK re-running failures | vs SDK (done/s) | chunked `Promise.all(10)` |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const ours = results.cells.filter((c) => c.client === 'visionpipe');
  for (const vp of ours) {
    const at = (client: string, concurrency: number) =>
      results.cells.find(
        (c) => c.server === vp.server && c.client === client && c.concurrency === concurrency,
      );
    const sdk = at(SDK, vp.concurrency);
    // The chunked client runs once per server (its concurrency is always 10).
    const chunked = vp.concurrency === 10 ? at(CHUNKED, 10) : undefined;
    lines.push(
      `| ${vp.server} | ${vp.concurrency} | ${summary(vp)} | ${sdk ? summary(sdk) : ''} | ${sdk ? ratio(vp.good_per_s, sdk.good_per_s) : ''} | ${allValid(vp)} / ${sdk ? allValid(sdk) : ''} | ${done(vp)} / ${sdk ? done(sdk) : ''} | ${sdk ? ratio(vp.completed_per_s, sdk.completed_per_s) : ''} | ${chunked ? summary(chunked) : ''} |`,
    );
  }
  const trios = [...(results.redis ? [results.redis] : []), ...(results.processes ?? [])];
  if (trios.length) {
    lines.push(
      '',
      '| three processes (concurrency 20 each) | client | of ceiling / refused / valid ok / good/s |',
      '|---|---|---|',
    );
    for (const p of trios) lines.push(`| ${p.server} | ${p.client} | ${summary(p)} |`);
  }
  return lines.join('\n');
}

/** README text with the part between the flow-table markers replaced by `table`. */
export function withFlowTables(readme: string, table: string): string {
  const start = readme.indexOf(FLOW_TABLE_START);
  const end = readme.indexOf(FLOW_TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md lacks ${FLOW_TABLE_START} … ${FLOW_TABLE_END}`);
  return `${readme.slice(0, start + FLOW_TABLE_START.length)}\n${table}\n${readme.slice(end)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = path.resolve(import.meta.dirname, '..');
  const results = JSON.parse(readFileSync(path.join(root, 'bench/results/flow.json'), 'utf8')) as FlowResults;
  const table = renderFlowTables(results);
  if (process.argv.includes('--write')) {
    const file = path.join(root, 'README.md');
    writeFileSync(file, withFlowTables(readFileSync(file, 'utf8'), table));
    console.log(`README.md: flow tables from ${results.commit.slice(0, 7)} (${results.date})`);
  } else console.log(table);
}
