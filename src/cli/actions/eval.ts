/** What `visionpipe eval` does (flags and help: ../eval.ts): scores results against truth and prints the table. */
import { type Evaluation, evaluate } from '../../runs/evaluate.js';
import type { EvalFlags } from '../eval.js';
import { fixedWidth } from '../format.js';

const pct = (value: number) => `${(value * 100).toFixed(1)} %`;

function print(evaluation: Evaluation): void {
  const width = Math.max(24, ...evaluation.fields.map((f) => f.field.length + 2));
  const lines = [
    `${fixedWidth('field', width)} ${fixedWidth('accuracy', 9, 'right')} ${fixedWidth('n', 6, 'right')}`,
  ];
  for (const field of evaluation.fields) {
    lines.push(
      `${fixedWidth(field.field, width)} ${fixedWidth(pct(field.accuracy), 9, 'right')} ${fixedWidth(String(field.total), 6, 'right')}`,
    );
  }
  const o = evaluation.overall;
  lines.push(
    `${fixedWidth('overall', width)} ${fixedWidth(pct(o.accuracy), 9, 'right')} ${fixedWidth(String(o.total), 6, 'right')}`,
  );
  const n = evaluation.nulls;
  lines.push(
    `\nnulls: precision ${pct(n.precision)} (${n.agreed}/${n.predicted} predicted), recall ${pct(n.recall)} (${n.agreed}/${n.actual} actual)`,
  );
  const t = evaluation.triage;
  if (t.irrelevant > 0 || t.skipped > 0) {
    lines.push(
      `triage: precision ${pct(t.precision)} (${t.correct_skips}/${t.skipped} skips irrelevant), recall ${pct(t.recall)} (${t.correct_skips}/${t.irrelevant} irrelevant skipped)`,
    );
  }
  const r = evaluation.records;
  lines.push(
    `records: ${r.matched} of ${r.truth} truth records matched, ${r.failed} failed, ${r.missing_results} without a result, ${r.unmatched_results} results without truth`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

export async function runEval(results: string, flags: EvalFlags): Promise<void> {
  const evaluation = await evaluate(flags.truth, results);
  if (flags.json) process.stdout.write(`${JSON.stringify(evaluation)}\n`);
  else print(evaluation);
}
