/**
 * The keys a pipeline keeps its answers under: the result-cache key of a content hash
 * (content + pattern + provider + model + preprocessing + every other setting that changes
 * answers: answer-settings.ts), the extraction-only key when triage runs (so adding or
 * dropping triage reuses extractions already paid for), and the resume signature
 * (`Pipeline.settings`: the answer settings plus the document pages mode, the page range
 * in document mode, where a record is the answer for the pages selected, and the
 * near-duplicate distance when there is one, where a record may be another image's answer).
 */
import { resultKey } from '../cache/keys.js';
import { preprocessFingerprint } from '../image/options.js';
import type { Pattern } from '../patterns/types.js';
import {
  type AnswerSettingsInput,
  answerOptions,
  answerSettings,
  extractionOptions,
} from './answer-settings.js';
import type { DocumentSettings } from './document-stage.js';
import { type LoadedInput, resultKeyFor } from './stages.js';

export interface AnswerKeysOptions {
  pattern: Pattern;
  /** The cascade's models and the per-image token budget. */
  answers: AnswerSettingsInput;
  /** The run's document settings (pages mode, page range). */
  documents: DocumentSettings;
  /**
   * `--near-dup` bits, when on: a record borrowed from a near-duplicate is not this image's
   * own answer, so a run without it (or with another distance) must not resume it.
   */
  nearDuplicateDistance?: number | undefined;
}

export interface AnswerKeys {
  /** The resume signature: equal only for runs whose records are interchangeable. */
  settings: string;
  /** The result-cache key of a content hash (sha256, hex) under this pipeline. */
  keyFor: (sha256: string) => string;
  /** With triage: the key the extraction alone is also kept under; undefined without triage. */
  extractionKey: ((loaded: LoadedInput) => string) | undefined;
}

export function answerKeys({
  pattern,
  answers,
  documents,
  nearDuplicateDistance,
}: AnswerKeysOptions): AnswerKeys {
  const documentSignature =
    documents.pages === 'document' && documents.pageRange
      ? [documents.pages, documents.pageRange]
      : [documents.pages];
  const { primary } = answers;
  const preprocess = preprocessFingerprint(primary.preprocess);
  const keyWith = (options: string) => (sha256: string) =>
    resultKey({
      sha256,
      patternFingerprint: pattern.fingerprint,
      provider: primary.provider.id,
      model: primary.model,
      preprocess,
      options,
    });
  const extractionKeyFor = keyWith(extractionOptions(answers));
  return {
    // Absent when off, so the signatures of runs without it stay as they were.
    settings: JSON.stringify([
      answerSettings(answers),
      ...documentSignature,
      ...(nearDuplicateDistance === undefined ? [] : [{ nearDuplicates: nearDuplicateDistance }]),
    ]),
    keyFor: keyWith(answerOptions(answers)),
    extractionKey: answers.triage
      ? (loaded) => resultKeyFor(extractionKeyFor(loaded.sha256), loaded)
      : undefined,
  };
}
