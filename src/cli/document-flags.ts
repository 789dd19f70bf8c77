/**
 * Document flags of `run`: how PDFs, multi-page TIFFs and HEICs are read
 * (docs/documents.md). `--page-range` is parsed here, so a bad range is a usage error
 * (exit 2) before any input is read.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { parsePageRange } from '../documents/page-range.js';
import { PAGES_MODES, type PagesMode } from '../documents/pages-mode.js';
import { isVisionpipeError } from '../errors.js';
import type { DocumentOptions } from '../pipeline/create-pipeline.js';
import type { PageSelection } from '../runs/optimize-pages.js';
import { integer, oneOf } from './parsers.js';

export interface DocumentFlags {
  pages?: PagesMode;
  pageRange?: string;
  maxPages?: number;
}

function pageRange(value: string): string {
  try {
    parsePageRange(value);
  } catch (error) {
    throw new InvalidArgumentError(isVisionpipeError(error) ? error.message : String(error));
  }
  return value;
}

export function addDocumentOptions(command: Command): Command {
  return addPageSelectionOptions(
    command.option(
      '--pages <mode>',
      'documents (PDF, multi-page TIFF, HEIC): document = one record per document, each = one per page (default: document)',
      oneOf(PAGES_MODES),
    ),
  );
}

/** `--page-range` and `--max-pages`: which pages of a document are read (run, optimize, estimate). */
export function addPageSelectionOptions(command: Command): Command {
  return command
    .option(
      '--page-range <pages>',
      'pages of each document to read, e.g. 1-3,7 (before rendering)',
      pageRange,
    )
    .option(
      '--max-pages <n>',
      'most pages read from one document (after --page-range); default 50',
      integer(1),
    );
}

/** The pages chosen by `--page-range` and `--max-pages`, parsed (checked when the flags were read). */
export function pageSelectionFrom(flags: Pick<DocumentFlags, 'pageRange' | 'maxPages'>): PageSelection {
  return {
    ...(flags.pageRange ? { pageRange: parsePageRange(flags.pageRange) } : {}),
    ...(flags.maxPages === undefined ? {} : { maxPages: flags.maxPages }),
  };
}

/** The pipeline's document options from the flags (undefined when none was given). */
export function documentOptionsFrom(flags: DocumentFlags): DocumentOptions | undefined {
  if (flags.pages === undefined && flags.pageRange === undefined && flags.maxPages === undefined)
    return undefined;
  return {
    ...(flags.pages ? { pages: flags.pages } : {}),
    ...(flags.pageRange ? { pageRange: flags.pageRange } : {}),
    ...(flags.maxPages === undefined ? {} : { maxPages: flags.maxPages }),
  };
}
