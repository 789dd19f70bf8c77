/**
 * What tesseract prints, captured (ocr-worker.ts) and shown only at debug level:
 * `VISIONPIPE_DEBUG=ocr` (or `1`, `*`) writes each line to stderr as `debug ocr: …`.
 * Otherwise the lines are dropped; `OcrDiagnostics.count` says how many there were.
 */
import { BroadcastChannel } from 'node:worker_threads';

export const OCR_DIAGNOSTICS_CHANNEL = 'visionpipe:ocr-diagnostics';

export interface OcrDiagnostic {
  level: 'log' | 'warn' | 'error';
  text: string;
}

/** True when VISIONPIPE_DEBUG names `ocr`, `1` or `*` (comma-separated). */
export function ocrDebugEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const names = (env.VISIONPIPE_DEBUG ?? '').split(',').map((n) => n.trim());
  return names.some((n) => n === 'ocr' || n === '1' || n === '*');
}

/** Listens for the workers' lines while open; never keeps the process alive. */
export class OcrDiagnostics {
  count = 0;
  private readonly channel = new BroadcastChannel(OCR_DIAGNOSTICS_CHANNEL);

  constructor(
    onLine: (line: OcrDiagnostic) => void = (line) => {
      if (ocrDebugEnabled()) process.stderr.write(`debug ocr: ${line.text}\n`);
    },
  ) {
    this.channel.unref();
    this.channel.onmessage = (event) => {
      this.count++;
      onLine((event as { data: OcrDiagnostic }).data);
    };
  }

  close(): void {
    this.channel.close();
  }
}
