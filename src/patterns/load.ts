/**
 * Reading a pattern file: `.json` (JSON) or `.yaml`/`.yml` (YAML 1.2), then
 * parsePattern. A missing file is NOT_FOUND, an unreadable one READ_FAILED; everything
 * wrong inside the file is INVALID_PATTERN naming the file. What the pattern asks for
 * that visionpipe cannot enforce (Pattern.warnings) is reported once per process and
 * pattern, however often the file is loaded (a run, its routes, its pipelines).
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { VisionpipeError } from '../errors.js';
import { yaml } from '../on-first-use.js';
import { PATTERN_LIMITS } from './budget.js';
import { firstLine } from './from-yaml.js';
import { invalidPattern } from './invalid.js';
import { parsePattern } from './parse.js';
import type { Pattern } from './types.js';

const EXTENSIONS = ['.json', '.yaml', '.yml'];

/** Parses a pattern file's text by its extension (exported for callers that hold the text). */
export function parsePatternText(text: string, file: string): unknown {
  if (text.length > PATTERN_LIMITS.fileBytes)
    throw invalidPattern(
      file,
      `pattern limit fileBytes (${PATTERN_LIMITS.fileBytes}) exceeded: the pattern is ${text.length} characters long`,
    );
  const extension = path.extname(file).toLowerCase();
  const body = text.replace(/^\uFEFF/, '');
  if (extension === '.json') {
    try {
      return JSON.parse(body);
    } catch (error) {
      throw invalidPattern(file, `not valid JSON: ${(error as Error).message}`, error);
    }
  }
  try {
    return yaml().parse(body, { logLevel: 'error' });
  } catch (error) {
    if (error instanceof RangeError)
      throw invalidPattern(
        file,
        `pattern limit sourceDepth (${PATTERN_LIMITS.sourceDepth}) exceeded: the YAML nests too deep to read`,
        error,
      );
    throw invalidPattern(file, `not valid YAML: ${firstLine((error as Error).message)}`, error);
  }
}

export interface LoadPatternOptions {
  /** Where warnings go (default: process.emitWarning with code VISIONPIPE_PATTERN). */
  onWarning?: (message: string) => void;
}

const reported = new Set<string>();

function reportWarnings(pattern: Pattern, sink: (message: string) => void): void {
  for (const warning of pattern.warnings) {
    const key = `${pattern.origin}\0${pattern.fingerprint}\0${warning}`;
    if (reported.has(key)) continue;
    reported.add(key);
    sink(`${pattern.origin}: ${warning}`);
  }
}

const emitWarning = (message: string) => process.emitWarning(message, { code: 'VISIONPIPE_PATTERN' });

export async function loadPattern(file: string, options: LoadPatternOptions = {}): Promise<Pattern> {
  const extension = path.extname(file).toLowerCase();
  if (!EXTENSIONS.includes(extension))
    throw invalidPattern(
      file,
      `a pattern file must be .json, .yaml or .yml (got ${extension === '' ? 'no extension' : `"${extension}"`})`,
    );
  let text: string;
  try {
    const { size } = await stat(file);
    if (size > PATTERN_LIMITS.fileBytes)
      throw invalidPattern(
        file,
        `pattern limit fileBytes (${PATTERN_LIMITS.fileBytes}) exceeded: the file is ${size} bytes`,
      );
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof VisionpipeError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new VisionpipeError('NOT_FOUND', `${file}: pattern file not found`, {
        input: file,
        cause: error,
      });
    throw new VisionpipeError(
      'READ_FAILED',
      `${file}: cannot read the pattern file (${(error as Error).message})`,
      {
        input: file,
        cause: error,
      },
    );
  }
  const pattern = parsePattern(parsePatternText(text, file), file);
  reportWarnings(pattern, options.onWarning ?? emitWarning);
  return pattern;
}
