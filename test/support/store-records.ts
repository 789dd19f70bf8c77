/**
 * Store fixtures shared by the store's tests: a JSON receipt pattern's fields and a
 * finished run record (ok, paid: usage and cost) as a worker hands it to the store.
 */

import { randomUUID } from 'node:crypto';
import type { RunRecord } from '../../src/pipeline/record.js';
import type { NewIngest, PatternFields } from '../../src/store/index.js';

export const receipt: PatternFields = {
  name: 'Receipt',
  format: 'json',
  instructions: 'Read the receipt',
  json_schema: { merchant: 'string', total: 'number' },
  yaml_schema: null,
  xml_schema: null,
  csv_schema: null,
  csv_delimiter: 'comma',
  plain_text_schema: null,
  model_profile: 'managed-default',
};

export function okRecord(output: Record<string, unknown>): RunRecord {
  return {
    input: 'x',
    pattern: 'Receipt',
    sha256: 'a'.repeat(64),
    status: 'ok',
    output,
    error: null,
    cache: 'miss',
    provider: 'openai',
    model: 'gpt-4.1-mini',
    latency_ms: 1200,
    attempts: 1,
    rate_limited: { count: 0, wait_ms: 0 },
    image: null,
    usage: { input_tokens: 900, output_tokens: 20, image_tokens: 765, estimated: false },
    cost_usd: 0.0004,
    profile: 'openai-high',
    confidence: null,
    reason: null,
    duplicate_of: null,
    cascade: { triage: null, escalated_from: null, escalation_reason: null, repair: null },
    raw_output: null,
  };
}

/** An ingest of `imageSha256` under pattern `patternId` v1 (a fresh job id), with `overrides`. */
export function newIngest(
  patternId: string,
  workKey: string,
  imageSha256: string,
  overrides: Partial<NewIngest> = {},
): NewIngest {
  return {
    id: randomUUID(),
    patternId,
    patternVersion: 1,
    patternFingerprint: 'f'.repeat(64),
    workKey,
    imageSha256,
    imageUrl: 'https://example.com/r.jpg',
    idempotencyKey: null,
    requestedBy: null,
    extras: null,
    webhookUrl: null,
    ...overrides,
  };
}
