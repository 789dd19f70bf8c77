/**
 * The README's flow-control tables (issue 10's measured section) are the rendering of the
 * committed bench/results/flow.json, and the paragraph above them names that run's commit:
 * editing a figure by hand, or rerunning the bench without `tsx bench/flow-readme-table.ts
 * --write`, fails here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FLOW_TABLE_END,
  FLOW_TABLE_START,
  type FlowResults,
  renderFlowTables,
  withFlowTables,
} from '../../bench/flow-readme-table.js';
import { ROOT } from '../support/cli.js';

const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const results = JSON.parse(readFileSync(path.join(ROOT, 'bench/results/flow.json'), 'utf8')) as FlowResults;

describe('README: flow-control figures from bench/results/flow.json', () => {
  it('holds the tables rendered from the committed results, between the markers', () => {
    const table = renderFlowTables(results);
    expect(README).toContain(`${FLOW_TABLE_START}\n${table}\n${FLOW_TABLE_END}`);
    // Every zoo cell of visionpipe has its row.
    const rows = README.split('\n').filter((line) => /^\| [a-z]/.test(line));
    for (const cell of results.cells.filter((c) => c.client === 'visionpipe'))
      expect(rows.some((row) => row.startsWith(`| ${cell.server} | ${cell.concurrency} |`))).toBe(true);
  });

  it("names the run's commit, from a clean tree", () => {
    expect(results.dirty).toBe(false);
    const intro = README.slice(README.indexOf('**Flow control on servers'), README.indexOf(FLOW_TABLE_START));
    expect(intro).toContain(results.commit.slice(0, 7));
  });

  it('a changed figure no longer matches (the guard is not vacuous)', () => {
    const first = results.cells[0]!;
    const edited = {
      ...results,
      cells: [{ ...first, valid_ok: first.valid_ok - 1 }, ...results.cells.slice(1)],
    };
    expect(README).not.toContain(renderFlowTables(edited));
    expect(withFlowTables(README, 'x')).toContain(`${FLOW_TABLE_START}\nx\n${FLOW_TABLE_END}`);
  });
});
