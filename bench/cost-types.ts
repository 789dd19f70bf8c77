/** The part of a result record the cost benchmark scores (naive runs write only these). */
export interface PipelineRecord {
  input: string;
  sha256: string | null;
  status: 'ok' | 'error' | 'skipped';
  output: unknown;
}
