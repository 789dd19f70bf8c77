/**
 * results.jsonl: one JSON line per input, written with one synchronous write() per
 * record as it finishes. The OS has every finished line the moment it is written, so a
 * crash, SIGKILL or Ctrl-C loses nothing already reported and never leaves half a line
 * (a single small write to a file opened for appending is not interleaved).
 * Each line also gets `finished_at`, the ISO time it was written (the report's
 * throughput over time comes from it).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { RunRecord } from '../pipeline/record.js';
import { redactDeep } from '../secrets.js';

export class ResultsWriter {
  private fd: number | undefined;
  private written = 0;

  private constructor(
    readonly file: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  /** Opens `file` for appending (resume) or truncates it (a fresh run). */
  static open(file: string, mode: 'append' | 'truncate'): ResultsWriter {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    return new ResultsWriter(file, openSync(file, mode === 'append' ? 'a' : 'w'));
  }

  get count(): number {
    return this.written;
  }

  write(record: RunRecord): void {
    if (this.fd === undefined) throw new Error(`${this.file} is closed`);
    // An answer may echo a key (a refusal, a gateway's error text, a value): never written (secrets.ts).
    writeSync(
      this.fd,
      `${JSON.stringify(redactDeep({ ...record, finished_at: new Date().toISOString() }))}\n`,
    );
    this.written++;
  }

  close(): void {
    if (this.fd === undefined) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
  }
}
