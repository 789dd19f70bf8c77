/**
 * `visionpipe eval`: accuracy of a results file against ground truth. The command's flags
 * and help; what it does is actions/eval.ts, loaded when it runs.
 */
import { Command } from 'commander';

export interface EvalFlags {
  truth: string;
  json?: boolean;
}

const EXAMPLES = `
Examples:
  $ visionpipe run 'samples/images/invoice-*' --pattern samples/patterns/invoice.json --out invoices.jsonl
  $ visionpipe eval --truth samples/truth.jsonl invoices.jsonl
  $ visionpipe eval --truth samples/truth.jsonl invoices.jsonl --json

Truth lines: {"input": "...", "sha256": "...", "truth": {...} | null, "relevant": true|false}.
Results are matched to truth by sha256, else by input path. Text compares ignoring case
and spacing, numbers within 0.005. A failed image counts every one of its fields as wrong.`;

export function evalCommand(): Command {
  return new Command('eval')
    .description('Measure field accuracy of a results file against ground truth')
    .argument('<results>', 'results file written by visionpipe run (JSONL)')
    .requiredOption('-t, --truth <file>', 'ground truth (JSONL)')
    .option('--json', 'print the evaluation as JSON')
    .addHelpText('after', EXAMPLES)
    .action(async (results: string, flags: EvalFlags) => {
      const { runEval } = await import('./actions/eval.js');
      await runEval(results, flags);
    });
}
