/**
 * The library's document options (`documents` of createPipeline: `pages`, `pageRange`,
 * `maxPages`) checked at the edge with zod, as the CLI checks its flags: INVALID_OPTION
 * naming the option and the bad value (`documents option "maxPages": … (got 2.5)`), before
 * any input is read. A `pageRange` string is parsed here (parsePageRange's own message).
 */
import { z } from 'zod';
import { parseOptions } from '../config/validate.js';
import { DEFAULT_MAX_PAGES } from './document.js';
import { type PageSpan, parsePageRange } from './page-range.js';
import { PAGES_MODES, type PagesMode } from './pages-mode.js';

const spanSchema = z
  .object({
    from: z.number().int().min(1),
    to: z.number().int().min(1).optional(),
  })
  .strict()
  .refine((span) => span.to === undefined || span.to >= span.from, { message: 'a span runs backwards' });

const documentOptionsSchema = z
  .object({
    pages: z.enum(PAGES_MODES as readonly [PagesMode, ...PagesMode[]]).optional(),
    pageRange: z.union([z.string(), z.array(spanSchema).min(1)]).optional(),
    maxPages: z.number().int().min(1).optional(),
    maxRequestTokens: z.number().int().min(1).optional(),
  })
  .strict()
  .optional();

/** Document options with every default filled in, trusted downstream. */
export interface ResolvedDocumentOptions {
  pages: PagesMode;
  pageRange: readonly PageSpan[] | undefined;
  maxPages: number;
}

/**
 * Checks and resolves the library's `documents` option (`maxRequestTokens` is checked, then read by the pipeline). Throws INVALID_OPTION (option
 * `pages`, `pageRange`, `maxPages`, or the unknown key) for `pages: 'sideways'`,
 * `maxPages: 2.5` or `0`, a malformed or reversed `pageRange`, an unknown key.
 */
export function resolveDocumentOptions(options: unknown): ResolvedDocumentOptions {
  const parsed = parseOptions(documentOptionsSchema, options, 'documents');
  const range = parsed?.pageRange;
  return {
    pages: parsed?.pages ?? 'document',
    pageRange:
      typeof range === 'string'
        ? parsePageRange(range)
        : range?.map((span) => ({ from: span.from, to: span.to })),
    maxPages: parsed?.maxPages ?? DEFAULT_MAX_PAGES,
  };
}
