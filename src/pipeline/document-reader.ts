/**
 * Documents inside a pipeline: a PDF's or multi-page TIFF's pages rendered at the size the
 * primary model keeps (blank ones set aside) and each handed to a reader, with the records
 * to come (document-stage does the work; this module gives it the pipeline's pattern,
 * model, rendering and request-token estimate). Direct calls and provider batch APIs share
 * `start`: only the reader of one page differs. Bytes that are an image after all give
 * undefined (or, with a page range, the range's verdict on a one-page input).
 */
import { documentKind } from '../documents/kinds.js';
import type { PagesMode } from '../documents/pages-mode.js';
import type { Pattern } from '../patterns/types.js';
import type { ModelChoice } from './cascade-config.js';
import {
  type DocumentSettings,
  type EarlierPages,
  type StartedDocument,
  type StartedRead,
  singlePageRange,
  startDocument,
} from './document-stage.js';
import type { RunRecord } from './record.js';
import { estimateExtract } from './sizing.js';
import type { PageRendering, RecordStream } from './spec.js';
import type { LoadedInput } from './stages.js';

export interface DocumentReaderOptions {
  pattern: Pattern;
  /** The model pages are rendered and sized for. */
  primary: ModelChoice;
  documents: DocumentSettings;
  pageRendering: PageRendering;
  /** The most estimated tokens one request of pages may carry (the `documents` option), if any. */
  maxRequestTokens: number | undefined;
  /** Reads one page (an image) to its record, as the pipeline reads an image. */
  readPage: (page: LoadedInput, label: string, signal: AbortSignal | undefined) => Promise<RunRecord>;
}

export class DocumentReader {
  constructor(private readonly options: DocumentReaderOptions) {}

  /** Estimated tokens (input + output) of one extraction request carrying these pages (as extractStage counts them). */
  private requestTokens(pages: ReadonlyArray<{ width: number; height: number }>): number {
    const { pattern, primary } = this.options;
    const [first, ...rest] = pages;
    if (!first) return 0;
    const estimate = estimateExtract(primary.provider, first.width, first.height, pattern, primary.model);
    let tokens = estimate.input_tokens + estimate.output_tokens;
    for (const page of rest)
      tokens += primary.provider.estimateImageTokens(page.width, page.height, primary.model);
    return tokens;
  }

  /** The document's pages each handed to `start`; undefined when the bytes are an image. */
  start(
    loaded: LoadedInput,
    label: string,
    mode: PagesMode,
    start: (page: LoadedInput, pageLabel: string) => Promise<StartedRead>,
    earlierPages: EarlierPages | undefined,
    stream: RecordStream,
  ): Promise<StartedDocument | undefined> {
    const { pattern, primary, documents, pageRendering } = this.options;
    const base = { pattern: pattern.name, provider: primary.provider.id, model: primary.model };
    const kind = documentKind(loaded.bytes);
    if (!kind) {
      return Promise.resolve(
        singlePageRange(loaded.bytes, label, documents, { base, profile: primary.profileName }),
      );
    }
    const { maxRequestTokens } = this.options;
    return startDocument(
      loaded.bytes,
      kind,
      label,
      { ...documents, pages: mode },
      {
        pattern,
        base,
        profile: primary.profileName,
        ...pageRendering,
        providerLimits: primary.provider.limits,
        start,
        requestTokens: (pages) => this.requestTokens(pages),
        ...(maxRequestTokens === undefined ? {} : { maxRequestTokens }),
        ...(stream.slots ? { slots: stream.slots } : {}),
        ...(stream.onRecord ? { onRecord: stream.onRecord } : {}),
      },
      earlierPages,
    );
  }

  /**
   * The records of a document, undefined for an image. Pages are read side by side on the
   * free slots of `stream`, else one after another; each page record of `each` mode goes to
   * `stream.onRecord` as it is finished.
   */
  async read(
    loaded: LoadedInput,
    label: string,
    signal: AbortSignal | undefined,
    mode: PagesMode,
    earlierPages: EarlierPages | undefined,
    stream: RecordStream,
  ): Promise<RunRecord[] | undefined> {
    const started = await this.start(
      loaded,
      label,
      mode,
      async (page, pageLabel) => ({
        record: Promise.resolve(await this.options.readPage(page, pageLabel, signal)),
      }),
      earlierPages,
      stream,
    );
    return started?.records;
  }
}
