/**
 * `run --format-dir`: each ok record rendered in its pattern's format into a folder
 * (output-paths.ts writes it: atomic, contained, never over someone else's file), and the
 * record names the file (`rendered`, relative to the working folder). A resumed record whose
 * file is missing (a run killed between the record and its file, a file deleted since) is
 * rendered again, under the same name.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { toVisionpipeError } from '../errors.js';
import { render } from '../patterns/index.js';
import type { Pattern } from '../patterns/types.js';
import type { RunRecord } from '../pipeline/record.js';
import { redactDeep } from '../secrets.js';
import type { InputItem } from './inputs.js';
import { pageSuffix } from './optimize-pages.js';
import { OutputWriter } from './output-paths.js';

const EXTENSIONS = { json: '.json', yaml: '.yaml', xml: '.xml', csv: '.csv', text: '.txt' } as const;

/**
 * What follows a rendered file's stem: the format's extension, with the page before it for a
 * page's record (`--pages each`: `invoice.p002.csv`, the names `optimize` gives pages), so
 * the pages of one document never share, and overwrite, one file.
 */
function extensionFor(pattern: Pattern, record: RunRecord): string {
  const extension = EXTENSIONS[pattern.format];
  return record.page === undefined ? extension : `${pageSuffix(record.page)}${extension}`;
}

export interface RenderOptions {
  /** Replace same-named files visionpipe did not write (CLI `--overwrite`). */
  overwrite?: boolean;
  /** CSV cells that look like formulas: defused (default) or kept (CLI `--keep-csv-formulas`). */
  csvFormulas?: 'neutralize' | 'keep';
  /** The pattern an input was read with (routes may choose one per input). */
  patternFor(item: InputItem): Promise<Pattern>;
  /** Where a render that failed is reported (the record stays ok, `rendered` null). */
  warn(message: string): void;
}

/** A record with the file it was rendered to (null: not rendered). */
export type RenderedRecord = RunRecord & { rendered: string | null };

export class RenderOutputs {
  private constructor(
    private readonly writer: OutputWriter,
    private readonly options: RenderOptions,
  ) {}

  static async open(formatDir: string, options: RenderOptions): Promise<RenderOutputs> {
    return new RenderOutputs(
      await OutputWriter.create(formatDir, [], {
        overwrite: options.overwrite ?? false,
        onSidestep: (kept, written) =>
          options.warn(
            `${kept} exists and visionpipe did not write it: kept, the output went to ${path.basename(written)} instead (--overwrite replaces it)`,
          ),
      }),
      options,
    );
  }

  /** Renders a new record; returns it with `rendered` set. */
  async render(item: InputItem, record: RunRecord): Promise<RenderedRecord> {
    if (record.status !== 'ok' || item.kind === 'error') return { ...record, rendered: null };
    return { ...record, rendered: await this.write(item, record) };
  }

  /** A resumed record: rendered again when its file is missing. Returns the file. */
  async restore(item: InputItem, record: RunRecord): Promise<string | null> {
    if (record.status !== 'ok' || item.kind === 'error') return null;
    const pattern = await this.options.patternFor(item);
    const existing = this.writer.writtenFor(item.label, extensionFor(pattern, record));
    if (existing !== undefined && existsSync(existing)) return display(existing);
    return this.write(item, record);
  }

  private async write(
    item: Exclude<InputItem, { kind: 'error' }>,
    record: RunRecord,
  ): Promise<string | null> {
    try {
      const pattern = await this.options.patternFor(item);
      const file = await this.writer.write(
        { label: item.label, rel: item.rel, ...(item.kind === 'file' ? { path: item.path } : {}) },
        extensionFor(pattern, record),
        Buffer.from(
          render(
            pattern,
            // An answer may echo a key (a value in the output): hidden as in results.jsonl (secrets.ts).
            redactDeep(record.output),
            this.options.csvFormulas ? { csvFormulas: this.options.csvFormulas } : {},
          ),
        ),
      );
      return display(file);
    } catch (error) {
      const failure = toVisionpipeError(error, item.label);
      this.options.warn(`${failure.code}: ${failure.message} (the record is kept, not rendered)`);
      return null;
    }
  }
}

/** A path as records show it: relative to the working folder when inside it. */
function display(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}
