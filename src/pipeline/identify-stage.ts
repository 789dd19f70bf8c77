/**
 * Content identification, the step before any work: which content an input is and whether
 * its answer is already known. A local file the stat memo proves unchanged is not even
 * read; otherwise the bytes are read (size limits, URL policy) and hashed. An earlier
 * run's record for that content (resume) or a cached result ends the input here.
 */
import type { CacheSetup } from '../cache/open-cache.js';
import { StatMemo } from '../cache/stat-memo.js';
import type { ReadOptions } from '../cache/store.js';
import type { ImageSource, SourceLimits } from '../image/source.js';
import type { ResultCacheStage } from './cache-stage.js';
import type { EarlierPages } from './document-stage.js';
import { filePathOf } from './input-source.js';
import type { RunRecord } from './record.js';
import type { RecordAssembler } from './record-assembly.js';
import { type EarlierRecord, isRecordList } from './spec.js';
import { type LoadedInput, loadStage, resultKeyFor } from './stages.js';

export interface IdentifyOptions {
  cache: CacheSetup;
  results: ResultCacheStage;
  records: RecordAssembler;
  sourceLimits: SourceLimits;
  /** The result-cache key of a content hash under this pipeline. */
  keyFor: (sha256: string) => string;
  /** This pipeline's run: a hit it wrote itself is a `dedup`, not a `hit`. */
  runId: string;
}

/**
 * The finished record when the answer is known, else the loaded input and its cache key,
 * with the earlier run's page records of this file when it is a document read page by page.
 */
export type Identified =
  | { record: RunRecord }
  | { loaded: LoadedInput; key: string; earlierPages?: EarlierPages };

type Resumed = { record: RunRecord } | { earlierPages: EarlierPages };

/** What resume gave: one record handed back as it is, or a document's pages by number. */
function resumable(earlier: ReturnType<EarlierRecord> | undefined): Resumed | undefined {
  if (earlier === undefined) return undefined;
  if (!isRecordList(earlier)) return { record: earlier };
  const pages = new Map<number, RunRecord>();
  for (const record of earlier) if (record.page !== undefined) pages.set(record.page, record);
  return pages.size > 0 ? { earlierPages: pages } : undefined;
}

export class IdentifyStage {
  constructor(private readonly options: IdentifyOptions) {}

  async identify(
    source: ImageSource,
    label: string,
    started: number,
    signal: AbortSignal | undefined,
    earlier: EarlierRecord | undefined,
  ): Promise<Identified> {
    const { cache, sourceLimits, keyFor } = this.options;
    const filePath = filePathOf(source);
    const remembered = filePath && cache.memo ? cache.memo.lookup(filePath) : undefined;
    let kept: Resumed | undefined;
    let missed: string | undefined; // the key already looked up and missed (counted once)
    if (remembered) {
      kept = resumable(earlier?.(remembered));
      if (kept && 'record' in kept) return kept;
      const rememberedKey = keyFor(remembered);
      const hit = kept ? undefined : await this.fromCache(rememberedKey, label, started);
      if (hit) return { record: hit };
      if (!kept) missed = rememberedKey;
    }
    const identity = filePath && cache.memo ? StatMemo.identity(filePath) : undefined;
    const loaded = await loadStage(source, label, { ...sourceLimits, ...(signal ? { signal } : {}) });
    if (filePath && cache.memo) cache.memo.remember(filePath, loaded.sha256, identity);
    if (loaded.sha256 !== remembered) kept = resumable(earlier?.(loaded.sha256));
    if (kept && 'record' in kept) return kept;
    // A document's earlier pages: the document stage hands them back and reads the rest.
    const earlierPages = kept && 'earlierPages' in kept ? kept.earlierPages : undefined;
    const key = resultKeyFor(keyFor(loaded.sha256), loaded); // a forwarded URL's answer is keyed on the URL too
    // The memo's key read again (the content is unchanged): a re-check, not a second lookup.
    const hit = earlierPages
      ? undefined
      : await this.fromCache(key, label, started, key === missed ? { recheck: true } : undefined);
    if (hit) return { record: hit };
    return { loaded, key, ...(earlierPages ? { earlierPages } : {}) };
  }

  private async fromCache(
    key: string,
    label: string,
    started: number,
    read?: ReadOptions,
  ): Promise<RunRecord | undefined> {
    const hit = await this.options.results.lookup(key, read);
    if (!hit) return undefined;
    return this.options.records.hit(label, started, hit, hit.run_id === this.options.runId ? 'dedup' : 'hit');
  }
}
