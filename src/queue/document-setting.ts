/**
 * How a queue job reads a document (PDF, multi-page TIFF, HEIC): `visionpipe run --queue`
 * carries its `--pages`, `--page-range` and `--max-pages` in each job. In `document` mode
 * one job is the whole document (its selected pages read together, one record); in
 * `each` mode the coordinator sends one job per selected page (`pageRange` is that page),
 * so every page is its own work key: paid once, resumed and reused page by page.
 */
import { z } from 'zod';
import { parsePageRange } from '../documents/page-range.js';
import { PAGES_MODES } from '../documents/pages-mode.js';

export const documentSetting = z
  .object({
    pages: z.enum(PAGES_MODES as ['document', 'each']),
    /** `1-3,7` as `--page-range` takes it; in `each` mode the one page of this job. */
    pageRange: z
      .string()
      .max(1000)
      .refine((text) => {
        try {
          parsePageRange(text);
          return true;
        } catch {
          return false;
        }
      }, 'must be a page range like 1-3,7')
      .optional(),
    maxPages: z.number().int().positive().max(100_000).optional(),
  })
  .strict();
export type DocumentSetting = z.infer<typeof documentSetting>;

/** One string per distinct setting (key order fixed): what pipelines and work keys are keyed by. */
export function documentKey(setting: DocumentSetting): string {
  return JSON.stringify([setting.pages, setting.pageRange ?? null, setting.maxPages ?? null]);
}
