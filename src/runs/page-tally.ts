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
  /**
   * Documents read page by page (`--pages each`), by input label: the pages the document has
   * and its page records seen, so that pages left without a record (outside --page-range)
   * are counted skipped as `--pages document` counts them.
   */
  private readonly each = new Map<string, { pages: number; records: number }>();
  /** Page records of `--pages each` seen in all. */
  private eachRecords = 0;
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
    this.eachRecords++;
    const doc = this.each.get(record.input);
    if (doc) doc.records++;
    else {
      this.each.set(record.input, { pages: record.pages, records: 1 });
      t.documents++;
    }
    if (record.status === 'ok') t.read++;
    else if (record.status === 'skipped' && record.reason?.startsWith('blank page')) t.blank++;
    else t.skipped++;
  }

  /**
   * How many inputs `records` records (every record added here among them) stand for: a
   * document read page by page is one input however many page records it gave.
   */
  inputsOf(records: number): number {
    return records - (this.eachRecords - this.each.size);
  }

  /**
   * Undefined when no document was seen, so image-only summaries keep their shape. With
   * `--pages each`, a document's pages that have no record (not selected by --page-range)
   * are skipped, as with `--pages document`.
   */
  toJSON(): PageTotals | undefined {
    if (this.totals.documents === 0) return undefined;
    let unselected = 0;
    for (const doc of this.each.values()) unselected += Math.max(0, doc.pages - doc.records);
    return { ...this.totals, skipped: this.totals.skipped + unselected };
  }
}
