/**
 * The `local` provider: offline extraction with tesseract OCR and schema-driven field
 * matching (providers/local/). No network, no API key, no cost. What it can and cannot
 * do is documented in docs/local-engine.md: it reads printed labels and values well; it
 * does not understand images, handwriting, or instructions.
 */
import { SIZE_PROFILES } from '../image/profiles.js';
import { LOCAL_ENGINE_VERSION } from './local/engine-version.js';
import { extractFields } from './local/field-extractor.js';
import { type OcrBackend, OcrEngine, type OcrPage } from './local/ocr-engine.js';
import { RecentPages } from './local/recent-pages.js';
import { judgeRelevance } from './local/relevance.js';
import { stackPages } from './local/stack-pages.js';
import {
  type AskRequest,
  type AskResult,
  type ExtractRequest,
  type ExtractResult,
  type Provider,
  requestImages,
  ZERO_USAGE,
} from './spec.js';

export const LOCAL_MODEL = 'tesseract-eng';

export interface LocalProviderOptions {
  /** OCR workers; default one per core. */
  workers?: number;
  /** Another OCR engine than tesseract (its `model` names it in records); `workers` is then ignored. */
  ocr?: OcrBackend;
}

/** The local provider's answer key for engine `version` reading with `ocr`. */
export function localAnswerKey(version: number, ocr: Pick<OcrBackend, 'model' | 'answerKey'>): string {
  return JSON.stringify({ engine: version, ocr: ocr.answerKey ?? ocr.model });
}

export class LocalProvider implements Provider {
  readonly id = 'local';
  readonly defaultModel: string;
  /**
   * The engine's version (a change to its code is a new model: engine-version.ts) and the
   * OCR's own identity (tesseract.js, its language data, its settings). `workers` is left
   * out: it changes speed, not answers.
   */
  readonly answerKey: string;
  private readonly engine: OcrBackend;
  /** Triage's readings, for the extraction of the same bytes that follows it (recent-pages.ts). */
  private readonly recent = new RecentPages();

  constructor(options: LocalProviderOptions = {}) {
    this.engine =
      options.ocr ?? new OcrEngine(options.workers === undefined ? {} : { workers: options.workers });
    this.defaultModel = this.engine.model;
    this.answerKey = localAnswerKey(LOCAL_ENGINE_VERSION, this.engine);
  }

  /** 2048 px: tesseract reads document text best with ~20–40 px high letters. */
  sizeProfile() {
    return SIZE_PROFILES.max2048;
  }

  estimateImageTokens(): number {
    return 0;
  }

  /** Runs on this machine: no tokens are billed. */
  estimateExtractTokens() {
    return { input_tokens: 0, output_tokens: 0, image_tokens: 0 };
  }

  /** Pages of a document are read in one extraction, as one page stacked top to bottom. */
  readonly limits = { maxImagesPerRequest: 1000 };

  async extract(request: ExtractRequest, signal: AbortSignal): Promise<ExtractResult> {
    const pages: OcrPage[] = [];
    for (const image of requestImages(request)) {
      pages.push(await this.recognize(image.data, image.sha256.slice(0, 12), signal));
    }
    const page = stackPages(pages);
    const extraction = extractFields(page, request.pattern.schema);
    return {
      output: extraction.output,
      usage: { ...ZERO_USAGE },
      model: request.model,
      confidence: extraction.confidence,
      fieldConfidence: extraction.fieldConfidence,
      raw: { text: page.text, ocrConfidence: page.confidence },
    };
  }

  async ask(request: AskRequest, signal: AbortSignal): Promise<AskResult> {
    const page = await this.recognize(request.image.data, request.image.sha256.slice(0, 12), signal);
    const verdict = judgeRelevance(page, request.pattern);
    return {
      answer: verdict.answer,
      confidence: verdict.confidence,
      reason: verdict.reason,
      usage: { ...ZERO_USAGE },
      model: request.model,
      raw: verdict,
    };
  }

  /** The engine's reading of `data`, once for triage and the extraction of the same bytes. */
  private recognize(data: Buffer, label: string, signal: AbortSignal): Promise<OcrPage> {
    signal.throwIfAborted();
    return this.recent.read(data, () => this.engine.recognize(data, label, signal));
  }

  close(): Promise<void> {
    this.recent.clear();
    return this.engine.close();
  }
}
