/**
 * `--pages each`: one record per selected page, `input` plus `page`, each page read through
 * the image flow on its own (triage per page), several side by side while the run's slots
 * allow. Pages that need no read are done on the way: a page an earlier run read for this
 * very file is handed back as it was, a blank page gets its blank record, a page whose
 * rendered content an earlier run read (at any page number, in any version of the file) is
 * reused unpaid, and a page that cannot be rendered is that page's error. Records stream out
 * (`context.onRecord`) as they finish and come back sorted by page.
 */
import type { OpenedDocument } from '../documents/document.js';
import type { DocumentContext, EarlierPages, StartedDocument, StartedRead } from './document-stage.js';
import { blankRecord, namingPageError, pageInput, pageLabel, reusedPage } from './page-records.js';
import { runPageWorkers } from './page-workers.js';
import type { RunRecord } from './record.js';
import type { LoadedInput } from './stages.js';

/** The one document's facts and helpers that `each` mode shares with the document stage. */
export interface EachPageDocument {
  doc: OpenedDocument;
  label: string;
  /** The file's sha256: an earlier page record made for it is kept as it was. */
  documentSha: string;
  /** A page record as it is streamed and returned (the document's facts added). */
  finalize: (record: RunRecord) => RunRecord;
  /** An error record for a page (`extra.page`), its latency counted from `since`. */
  failed: (error: unknown, extra: Partial<RunRecord>, since: number) => RunRecord;
}

/**
 * Reads every selected page of `doc`; resolves once each is rendered and handed to
 * `context.start` (a direct read has read it by then), with the records to come.
 */
export async function startEachPage(
  { doc, label, documentSha, finalize, failed }: EachPageDocument,
  context: DocumentContext,
  earlier: EarlierPages,
): Promise<StartedDocument> {
  const pageCount = doc.pageCount;
  const records: RunRecord[] = [];
  const done = (record: RunRecord) => {
    records.push(record);
    context.onRecord?.(finalize(record));
  };
  // Earlier page records by the rendered content they were made for (sha256).
  const byContent = new Map<string, RunRecord>();
  for (const record of earlier.values()) if (record.sha256) byContent.set(record.sha256, record);
  const selected = [...doc.pages];
  /** The next page that needs a read, rendered; kept, blank and reused pages are done on the way. */
  const produce = async (): Promise<{ page: number; loaded: LoadedInput } | undefined> => {
    for (let page = selected.shift(); page !== undefined; page = selected.shift()) {
      const pageStarted = performance.now();
      const kept = earlier.get(page);
      if (kept && kept.document_sha256 === documentSha) {
        done(kept);
        continue;
      }
      let rendered: Awaited<ReturnType<typeof doc.render>>;
      try {
        rendered = await doc.render(page);
      } catch (error) {
        // One page that cannot be rendered is that page's error; the others are read.
        done(failed(error, { page, pages: pageCount, pages_sent: 0 }, pageStarted));
        continue;
      }
      const loaded = pageInput(label, rendered.page, rendered.data);
      if (rendered.blank) {
        done(blankRecord(label, context, loaded, rendered.page, pageCount, rendered.ink));
        continue;
      }
      const same = byContent.get(loaded.sha256);
      if (same) {
        done(reusedPage(same, rendered.page, pageCount, pageStarted));
        continue;
      }
      return { page: rendered.page, loaded };
    }
    return undefined;
  };
  const waiting: Array<Promise<void>> = [];
  await runPageWorkers(
    produce,
    async ({ page, loaded }) => {
      const pageStarted = performance.now();
      const facts = { page, pages: pageCount, pages_sent: 1 };
      let read: StartedRead;
      try {
        read = await context.start(loaded, pageLabel(label, page));
      } catch (error) {
        return done(failed(error, facts, pageStarted));
      }
      // A direct read is finished here; a provider batch API's record comes later.
      waiting.push(
        read.record.then(
          (record) => done(namingPageError({ ...record, input: label, ...facts }, label, page)),
          (error: unknown) => done(failed(error, facts, pageStarted)),
        ),
      );
    },
    context.slots,
  );
  return { records: Promise.all(waiting).then(() => records.sort((a, b) => (a.page ?? 0) - (b.page ?? 0))) };
}
