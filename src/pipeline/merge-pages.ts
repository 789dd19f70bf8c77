/**
 * Merging the outputs of a document read page by page (when its pages do not fit one
 * request), the way the pattern's schema allows: arrays are concatenated in page order,
 * objects are merged field by field, and any other value is taken from the first page
 * that has it (not null, not an empty string). A later page with a different value is
 * reported as a conflict, never silently dropped. The pages' records merge into the
 * document's one record: usage, cost and attempts summed, the first failed page's error
 * naming it, a skipped record when no page was relevant, and the merged output checked
 * against the schema.
 */
import { schemaMismatch, validateOutput } from '../patterns/index.js';
import type { SchemaNode } from '../patterns/types.js';
import type { DocumentContext, StartedRead } from './document-stage.js';
import { type documentFields, documentKey, namingPage, type Page, skippedRecord } from './page-records.js';
import { runPageWorkers } from './page-workers.js';
import { addCost } from './paid-calls.js';
import { addImageInfo } from './prepared-images.js';
import { EMPTY_USAGE, errorRecord, type PageConflict, type RunRecord } from './record.js';
import { addUsage } from './stages.js';

export interface PageOutput {
  page: number;
  output: unknown;
}

function isEmpty(value: unknown): boolean {
  return value === null || value === undefined || value === '';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typesOf(node: SchemaNode | undefined): string[] {
  if (!node) return [];
  return Array.isArray(node.type) ? node.type : [node.type];
}

function mergeNode(
  node: SchemaNode | undefined,
  values: readonly PageOutput[],
  pointer: string,
  conflicts: PageConflict[],
): unknown {
  const types = typesOf(node);
  const present = values.filter((v) => !isEmpty(v.output));
  if (present.length === 0) return values[0]?.output ?? null;
  if (types.includes('array') && present.every((v) => Array.isArray(v.output))) {
    return present.flatMap((v) => v.output as unknown[]);
  }
  if (types.includes('object') && node?.properties && present.every((v) => isPlainObject(v.output))) {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(node.properties)) {
      out[key] = mergeNode(
        child,
        present.map((v) => ({ page: v.page, output: (v.output as Record<string, unknown>)[key] ?? null })),
        `${pointer}/${key}`,
        conflicts,
      );
    }
    return out;
  }
  const first = present[0]!;
  for (const other of present.slice(1)) {
    if (JSON.stringify(other.output) !== JSON.stringify(first.output)) {
      conflicts.push({
        field: pointer || '/',
        kept: { page: first.page, value: first.output },
        other: { page: other.page, value: other.output },
      });
    }
  }
  return first.output;
}

/** One output for the document from its pages' outputs (page order), and the conflicts found. */
export function mergePageOutputs(
  schema: SchemaNode,
  pages: readonly PageOutput[],
): { output: unknown; conflicts: PageConflict[] } {
  const conflicts: PageConflict[] = [];
  const output = mergeNode(
    schema,
    [...pages].sort((a, b) => a.page - b.page),
    '',
    conflicts,
  );
  return { output, conflicts };
}

/**
 * Pages read one by one, then merged: one record, or the first page's error naming the
 * page. Resolves once every page is started, with the merged record to come.
 */
export async function mergedRecord(
  label: string,
  pages: readonly Page[],
  fields: ReturnType<typeof documentFields> & { pages_split?: string },
  context: DocumentContext,
  started: number,
): Promise<StartedRead> {
  const reads: Array<Promise<{ page: number; record: RunRecord }>> = [];
  // Side by side within the run's slots, as `each` mode reads pages.
  const queue = [...pages];
  await runPageWorkers(
    async () => queue.shift(),
    async ({ page, loaded }) => {
      const read = await context.start(loaded, loaded.label);
      reads.push(read.record.then((record) => ({ page, record })));
    },
    context.slots,
  );
  return {
    // Pages finish in any order; they merge in page order (scalars from the first page).
    record: Promise.all(reads).then((records) =>
      mergeRecords(
        label,
        records.sort((a, b) => a.page - b.page),
        pages,
        fields,
        context,
        started,
      ),
    ),
  };
}

function mergeRecords(
  label: string,
  records: ReadonlyArray<{ page: number; record: RunRecord }>,
  pages: readonly Page[],
  fields: ReturnType<typeof documentFields> & { pages_split?: string },
  context: DocumentContext,
  started: number,
): RunRecord {
  let usage = { ...EMPTY_USAGE };
  let cost: number | null = 0;
  let attempts = 0;
  for (const { record } of records) {
    usage = addUsage(usage, record.usage);
    cost = addCost(cost, record.cost_usd);
    attempts += record.attempts;
  }
  const first = records[0]!.record;
  // The image as sent: the pages this run's calls sent (bytes and tokens summed, as for pages
  // sent together); every page's when all came from the cache. Not only the first page's.
  const sentPages = records.filter(({ record }) => record.attempts > 0 && record.image);
  const image = (sentPages.length > 0 ? sentPages : records)
    .map(({ record }) => record.image)
    .reduce<RunRecord['image']>((sum, one) => (sum && one ? addImageInfo(sum, one) : (sum ?? one)), null);
  const common: Partial<RunRecord> = {
    sha256: documentKey(pages),
    latency_ms: Math.round(performance.now() - started),
    attempts,
    usage,
    cost_usd: cost,
    profile: first.profile,
    cache: records.every(({ record }) => record.cache === 'hit' || record.cache === 'dedup') ? 'hit' : 'miss',
    image,
    ...fields,
  };
  const broken = records.find(({ record }) => record.status === 'error');
  if (broken) {
    const error = broken.record.error ?? { code: 'INTERNAL', message: 'page failed without an error' };
    // The document's record names the input and the page that failed.
    return errorRecord(
      { input: label, ...context.base },
      { code: error.code, message: namingPage(error.message, label, broken.page) },
      { ...common, failed_page: broken.page },
    );
  }
  const read = records.filter(({ record }) => record.status === 'ok');
  if (read.length === 0) {
    return skippedRecord(label, context, {
      ...common,
      reason: `no page is relevant: ${firstReasons(records)}`,
    });
  }
  const merged = mergePageOutputs(
    context.pattern.schema,
    read.map(({ page, record }) => ({ page, output: record.output })),
  );
  const issues = validateOutput(context.pattern, merged.output);
  if (issues.length > 0) {
    const error = schemaMismatch(context.pattern, issues, label);
    // Not ok, but what the pages answered, merged, is kept to show what came back.
    return errorRecord({ input: label, ...context.base }, error.toJSON(), {
      ...common,
      output: merged.output,
    });
  }
  const confidences = read.map(({ record }) => record.confidence).filter((c): c is number => c !== null);
  return {
    ...first,
    ...common,
    input: label,
    status: 'ok',
    output: merged.output,
    error: null,
    model: first.model,
    confidence: confidences.length > 0 ? Math.min(...confidences) : null,
    ...mergedFieldConfidence(read.map(({ record }) => record.field_confidence)),
    reason: null,
    duplicate_of: null,
    conflicts: merged.conflicts,
  };
}

/**
 * The per-field confidence of a document read page by page: for each field, the best
 * page's (the merge keeps a field's value from a page that found it); nothing when no
 * page carried one.
 */
function mergedFieldConfidence(pages: ReadonlyArray<Record<string, number> | undefined>): {
  field_confidence?: Record<string, number>;
} {
  const out: Record<string, number> = {};
  let any = false;
  for (const page of pages) {
    if (!page) continue;
    any = true;
    for (const [field, value] of Object.entries(page)) out[field] = Math.max(out[field] ?? 0, value);
  }
  return any ? { field_confidence: out } : {};
}

/** How many pages' reasons a skipped document's `reason` names; the rest are counted. */
export const NAMED_PAGE_REASONS = 3;

/** `page 1: …; page 2: …; page 3: … (and 47 more pages)`: a long document's reason stays readable. */
export function firstReasons(
  records: ReadonlyArray<{ page: number; record: { reason: string | null } }>,
): string {
  const named = records
    .slice(0, NAMED_PAGE_REASONS)
    .map(({ page, record }) => `page ${page}: ${record.reason}`)
    .join('; ');
  const rest = records.length - NAMED_PAGE_REASONS;
  return rest > 0 ? `${named} (and ${rest} more ${rest === 1 ? 'page' : 'pages'})` : named;
}
