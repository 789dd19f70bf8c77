/**
 * Page totals of a run's documents (PDF, multi-page TIFF, HEIC) for the summary: how many
 * pages were read by a model, found blank (never sent) or left out (not selected by
 * --page-range, or judged irrelevant by triage). Images are not counted here.
 */
import type { RunRecord } from '../pipeline/record.js';

export interface PageTotals {
  /** Documents seen (each counted once, in either --pages mode). */
  documents: number;
  /** Pages read by a model (or served from the cache or a duplicate). */
  read: number;
  /** Pages found blank before any call: never sent. */
  blank: number;
  /** Pages not read for another reason: outside --page-range, triage, a failed page. */
  skipped: number;
}

/** The fields of a record (a run's, or one read back from a results file) the tally reads. */
export type PageRecord = Pick<
  RunRecord,
  'input' | 'status' | 'page' | 'pages' | 'pages_sent' | 'blank_pages'
> & {
  reason?: string | null | undefined;
};

/**
 * Adds records up into PageTotals; memory grows only with the documents of `--pages each`.
 * The run summary and `report` (from the results file) share it: the same definitions.
 */
export class PageTally {
  private readonly totals: PageTotals = { documents: 0, read: 0, blank: 0, skipped: 0 };
  /** Documents read page by page already counted (their input label). */
  private readonly seenEach = new Set<string>();
  add(record: PageRecord): void {
    if (record.pages === undefined) return;
    const t = this.totals;
    if (record.page === undefined) {
      // --pages document: one record holds the whole document.
      t.documents++;
      const sent = record.status === 'ok' ? (record.pages_sent ?? 0) : 0;
      const blank = record.blank_pages?.length ?? 0;
      t.read += sent;
      t.blank += blank;
      t.skipped += Math.max(0, record.pages - sent - blank);
      return;
    }
    if (!this.seenEach.has(record.input)) {
      this.seenEach.add(record.input);
      t.documents++;
    }
    if (record.status === 'ok') t.read++;
    else if (record.status === 'skipped' && record.reason?.startsWith('blank page')) t.blank++;
    else t.skipped++;
  }

  /** Undefined when no document was seen, so image-only summaries keep their shape. */
  toJSON(): PageTotals | undefined {
    return this.totals.documents === 0 ? undefined : { ...this.totals };
  }
}
