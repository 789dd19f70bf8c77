/**
 * One `run --batch-api` through the library, as tests need it: the inputs go to a
 * provider batch backend (the simulator's) with one pipeline, polled every 20 ms; the
 * records come back in the order they were finished. Both the backend and the pipeline
 * are closed afterwards.
 */

import type { RunRecord } from '../../src/pipeline/record.js';
import type { Pipeline } from '../../src/pipeline/spec.js';
import type { BatchBackend } from '../../src/providers/batch/index.js';
import { runWithBatchApi } from '../../src/runs/batch-api-run.js';
import type { InputItem } from '../../src/runs/inputs.js';

export async function batchRecords(
  inputs: AsyncIterable<InputItem>,
  options: { backend: BatchBackend; pipeline: Pipeline; stateDir: string; jobKey: string },
): Promise<RunRecord[]> {
  const { backend, pipeline, stateDir, jobKey } = options;
  const records: RunRecord[] = [];
  try {
    await runWithBatchApi(inputs, {
      backend,
      pipelineFor: async () => pipeline,
      stateDir,
      jobKey,
      concurrency: 2,
      pollIntervalMs: 20,
      onResult: ({ record }) => {
        records.push(record);
      },
    });
  } finally {
    await backend.close();
    await pipeline.close();
  }
  return records;
}
