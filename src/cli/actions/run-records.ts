/**
 * Where each result of `visionpipe run` goes: the progress line, the results journal (with
 * resume bookkeeping), the --format-dir files, the --combine file, the summary and the
 * --failures log. Resumed records are counted apart and written again only when this run's
 * --min-confidence judges them otherwise (no call is made for them); --failures lists them
 * as it lists this run's.
 */

import type { RunRecord } from '../../pipeline/record.js';
import type { CombinedWriter } from '../../runs/combine.js';
import type { FailureLog } from '../../runs/failures.js';
import { formatRelativePath } from '../../runs/format-paths.js';
import type { InputItem } from '../../runs/inputs.js';
import type { PipelineSet } from '../../runs/pipeline-set.js';
import { type ConfidencePolicy, enforceConfidence, isAborted, withQuality } from '../../runs/quality.js';
import type { RenderOutputs } from '../../runs/render-outputs.js';
import type { ResumePlan } from '../../runs/resume.js';
import type { BatchResult } from '../../runs/run.js';
import type { RunSummary } from '../../runs/summary.js';
import type { Progress } from '../progress.js';

export interface RecordSinks {
  progress: Progress;
  plan: ResumePlan;
  pipelines: PipelineSet;
  summary: RunSummary;
  failures: FailureLog;
  confidence: ConfidencePolicy | undefined;
  renders: RenderOutputs | undefined;
  combined: CombinedWriter | undefined;
  /** The common root of the inputs: --format-dir keeps their folders below it (format-paths.ts). */
  formatRoot: string | undefined;
  /**
   * `run --watch`: a path's later record replaces its earlier one in the summary and the
   * failures (a file read half written, then again once complete, counts once, as it ended).
   */
  latestPerPath?: boolean;
}

/** The handler of every result of the run, resumed ones included. */
export function recordHandler(sinks: RecordSinks): (result: BatchResult) => Promise<void> {
  const { progress, plan, pipelines, summary, failures, confidence, renders, combined } = sinks;
  const placed = (item: InputItem): InputItem =>
    item.kind === 'error' ? item : { ...item, rel: formatRelativePath(item, sinks.formatRoot) };
  // This run's last record per path (watch runs only; bounded by the files in the folder).
  const latest = sinks.latestPerPath ? new Map<string, RunRecord>() : undefined;
  return async ({ item, record: raw, resumed }: BatchResult) => {
    // Judged once, here: the record, the summary and --failures read the same `quality`.
    // A resumed record is judged again by this run's threshold (its field_confidence is
    // kept): nothing is paid again, and the results file says what the summary counts.
    const enforced = enforceConfidence(raw, confidence);
    const produced = withQuality(enforced, confidence?.min);
    progress.tick(produced.status === 'error', isAborted(produced));
    if (combined && produced.status === 'ok' && item.kind !== 'error') {
      await combined.add(produced.input, (await pipelines.pipelineFor(item)).pattern, produced.output);
    }
    if (resumed) {
      if (enforced !== raw || produced.quality !== raw.quality) {
        plan.writer.write(produced); // the earlier line, judged again, replaces it
        plan.processed(produced);
      } else plan.kept(produced);
      summary.addResumed(produced);
      failures.add(produced); // a kept empty or low-confidence record is still a failure, as --combine keeps it
      await renders?.restore(placed(item), produced); // its file may be missing after a kill
      return;
    }
    // Rendered first, so the record names the file it was rendered to.
    const record = renders ? await renders.render(placed(item), produced) : produced;
    plan.writer.write(record);
    plan.processed(record);
    summary.add(record);
    failures.add(record);
    // A document's pages are several records of one path: never one replacing another.
    if (!latest || record.page !== undefined) return;
    const earlier = latest.get(record.input);
    if (earlier) {
      summary.supersede(earlier);
      failures.supersede(earlier, record);
    }
    latest.set(record.input, record);
  };
}
