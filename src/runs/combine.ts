/**
 * `run --combine FILE`: every `ok` output of the run in one file, in the format its
 * extension names, written as records arrive (a 100 000-image run never holds them):
 *
 * - `.csv`: one header (an `input` column, then the pattern's columns) and the pattern's
 *   rows per image (one per list item for list patterns). One pattern per CSV: outputs of
 *   another pattern (routed runs) are left out, with one warning.
 * - `.json`: an array of `{input, pattern, output}`.
 * - `.yaml` / `.yml`: a list of `{input, pattern, output}`.
 * - `.xml`: one document, `<results>`, holding each output under its pattern's own root
 *   element with an `input` attribute.
 *
 * Written to `FILE.tmp` and renamed at the end: an interrupted run leaves the previous
 * file, never half a document.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { VisionpipeError } from '../errors.js';
import { orderBySchema } from '../patterns/order.js';
import { renderAs } from '../patterns/render.js';
import { csvRecords, neutralizeFormula, stringifyCsv } from '../patterns/render-csv.js';
import { escapeXmlText } from '../patterns/render-xml.js';
import { renderYaml } from '../patterns/render-yaml.js';
import type { Pattern } from '../patterns/types.js';
import { redactDeep, redactSecrets } from '../secrets.js';

export type CombineFormat = 'csv' | 'json' | 'yaml' | 'xml';

/** The format of a --combine file from its extension; INVALID_OPTION for others. */
export function combineFormat(file: string): CombineFormat {
  const ext = path.extname(file).toLowerCase().slice(1);
  if (ext === 'yml') return 'yaml';
  if (ext === 'csv' || ext === 'json' || ext === 'yaml' || ext === 'xml') return ext;
  throw new VisionpipeError(
    'INVALID_OPTION',
    `--combine ${file}: name a .csv, .json, .yaml or .xml file (the extension picks the format)`,
    { option: 'combine' },
  );
}

export class CombinedWriter {
  private count = 0;
  private csvPattern: string | undefined;
  private skipped = 0;

  private constructor(
    readonly file: string,
    readonly format: CombineFormat,
    private readonly temporary: string,
    private readonly stream: WriteStream,
    private readonly warn: (message: string) => void,
  ) {}

  static async open(file: string, warn: (message: string) => void): Promise<CombinedWriter> {
    const format = combineFormat(file);
    await mkdir(path.dirname(path.resolve(file)), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    const writer = new CombinedWriter(file, format, temporary, createWriteStream(temporary), warn);
    if (format === 'json') await writer.put('[');
    if (format === 'xml') await writer.put('<?xml version="1.0" encoding="UTF-8"?>\n<results>\n');
    return writer;
  }

  /** Appends one image's output (already validated by the pipeline). */
  async add(rawInput: string, pattern: Pattern, rawOutput: unknown): Promise<void> {
    // An answer may echo a key (a value in the output): hidden as in results.jsonl (secrets.ts).
    const input = redactSecrets(rawInput);
    const output = redactDeep(rawOutput);
    switch (this.format) {
      case 'csv': {
        if (this.csvPattern !== undefined && this.csvPattern !== pattern.fingerprint) {
          if (this.skipped++ === 0)
            this.warn(
              `--combine ${this.file}: one CSV holds one pattern; outputs of "${pattern.name}" are left out (use .json)`,
            );
          return;
        }
        const [header, ...rows] = csvRecords(
          pattern,
          orderBySchema(pattern.schema, output) as Record<string, unknown>,
        );
        // The input column is a file name or URL: someone else's text too (`=cmd|…`.png).
        const records = rows.map((row) => [neutralizeFormula(input), ...row]);
        if (this.csvPattern === undefined) records.unshift(['input', ...(header ?? [])]);
        this.csvPattern = pattern.fingerprint;
        await this.put(stringifyCsv(records, pattern.hints.csvDelimiter ?? ','));
        break;
      }
      case 'json': {
        const item = JSON.stringify(
          { input, pattern: pattern.name, output: orderBySchema(pattern.schema, output) },
          null,
          2,
        );
        await this.put(`${this.count > 0 ? ',' : ''}\n${item.replace(/^/gm, '  ')}`);
        break;
      }
      case 'yaml':
        await this.put(
          // Quoted as the per-image files are: `2025-10-26`, `yes`, `007` stay strings for YAML 1.1 readers.
          renderYaml([{ input, pattern: pattern.name, output: orderBySchema(pattern.schema, output) }]),
        );
        break;
      case 'xml': {
        const document = renderAs('xml', pattern, output).replace(/^<\?xml[^>]*\?>\n/, '');
        // The pattern's root element, with the input as an attribute, under <results>. Not
        // re-indented: a value holding newlines would gain the indentation (changing it).
        const tagged = document.replace(
          /^<([^\s/>]+)/,
          (_, root: string) => `<${root} input="${escapeXmlText(input)}"`,
        );
        await this.put(`${tagged.trimEnd()}\n`);
        break;
      }
    }
    this.count++;
  }

  /** Closes the document and moves it into place. */
  async close(): Promise<{ file: string; outputs: number }> {
    if (this.format === 'json') await this.put(this.count > 0 ? '\n]\n' : ']\n');
    if (this.format === 'xml') await this.put('</results>\n');
    if (this.format === 'yaml' && this.count === 0) await this.put('[]\n');
    await new Promise<void>((resolve, reject) =>
      this.stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    await rename(this.temporary, this.file);
    return { file: this.file, outputs: this.count };
  }

  /** Writes with back-pressure: waits for 'drain' when the stream's buffer is full. */
  private put(text: string): Promise<void> {
    if (this.stream.write(text)) return Promise.resolve();
    return new Promise((resolve) => this.stream.once('drain', () => resolve()));
  }
}
