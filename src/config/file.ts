/**
 * The config file: defaults for `run`, `estimate` and `bench`, so a team writes its
 * provider, limits and cache once. `visionpipe.config.yaml` (or .yml/.json) in the
 * working directory, or `--config FILE`. Precedence: command-line flag > config file >
 * built-in default. Secrets never go here: API keys come from the environment only.
 *
 *   provider: openai
 *   model: gpt-4.1-mini
 *   rpm: 500
 *   tpm: 2000000
 *   limiter: redis://cache.internal:6379
 *   cache: redis://cache.internal:6379
 *   cacheTtl: 7d
 *   concurrency: 20
 *   alertWebhook: [https://hooks.slack.com/services/…]   # alerts (run)
 *   maxCostUsd: 25
 *   prices:                      # override the bundled price table
 *     openai:
 *       models:
 *         gpt-4.1-mini: { input: 0.4, output: 1.6 }
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseDuration } from './durations.js';
import { readStructuredFile } from './read-structured.js';
import { parseOptions } from './validate.js';

const duration = z.union([z.number().int().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  try {
    return parseDuration(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration (e.g. 30s, 90m, 24h, 7d)` });
    return z.NEVER;
  }
});

export const configSchema = z
  .object({
    provider: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
    baseUrl: z.string().url().optional(),
    detail: z.enum(['low', 'high', 'auto']).optional(),
    imggoPattern: z.string().min(1).optional(),
    concurrency: z.number().int().min(1).max(1024).optional(),
    rpm: z.number().int().positive().optional(),
    tpm: z.number().int().positive().optional(),
    limiter: z.string().min(1).optional(),
    maxAttempts: z.number().int().min(1).max(20).optional(),
    maxRetryWait: duration.optional(),
    timeout: duration.refine((ms) => ms > 0, 'must be above 0').optional(),
    cache: z.string().min(1).optional(),
    cacheTtl: duration.optional(),
    stateDir: z.string().min(1).optional(),
    maxImageTokens: z.number().int().positive().optional(),
    maxPages: z.number().int().positive().optional(),
    triage: z.string().min(1).optional(),
    escalateTo: z.string().min(1).optional(),
    escalateBelow: z.number().min(0).max(1).optional(),
    route: z.string().min(1).optional(),
    // The service (serve, worker, keys, migrate).
    databaseUrl: z.string().min(1).optional(),
    redisUrl: z.string().min(1).optional(),
    queuePrefix: z.string().min(1).optional(),
    host: z.string().min(1).optional(),
    port: z.number().int().min(0).max(65_535).optional(),
    workers: z.number().int().min(0).max(64).optional(),
    maxUploadBytes: z.number().int().positive().optional(),
    rateLimit: z.string().min(1).optional(),
    publicUrl: z.string().url().optional(),
    /** serve: named model profiles, name → {id, model, baseUrl} (checked at start: service/model-profiles.ts). */
    modelProfiles: z.record(z.string(), z.unknown()).optional(),
    lockDuration: duration.optional(),
    stalledInterval: duration.optional(),
    // Watching a run (run): metrics, logs, alerts, budget.
    metricsPort: z.number().int().min(0).max(65_535).optional(),
    metricsHost: z.string().min(1).optional(),
    logFile: z.string().min(1).optional(),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional(),
    alertWebhook: z.array(z.string().url()).optional(),
    alertSuccessRate: z.number().gt(0).max(1).optional(),
    alertP95: duration.optional(),
    alertWindow: duration.optional(),
    alertInterval: duration.optional(),
    alertMinSamples: z.number().int().min(1).optional(),
    maxCostUsd: z.number().positive().optional(),
    /** Waits between webhook attempts, e.g. `5s,5m,30m` (checked when the service starts). */
    webhookRetries: z.string().min(1).optional(),
    webhookTimeout: duration.optional(),
    /** Price table overrides: `{provider: {batchDiscount?, models: {model: {input, output} | {perImage}}}}`. */
    prices: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type VisionpipeConfig = z.output<typeof configSchema>;

export const DEFAULT_CONFIG_FILES = [
  'visionpipe.config.yaml',
  'visionpipe.config.yml',
  'visionpipe.config.json',
];

/** The config file in force: `--config FILE`, else the first default file in `cwd`, else none. */
export function configFileFor(explicit: string | undefined, cwd = process.cwd()): string | undefined {
  return (
    explicit ??
    DEFAULT_CONFIG_FILES.map((name) => path.join(cwd, name)).find((candidate) => existsSync(candidate))
  );
}

/** The config in force: `--config FILE`, else the first default file in `cwd`, else none. */
export async function loadConfig(
  explicit: string | undefined,
  cwd = process.cwd(),
): Promise<{ config: VisionpipeConfig; file: string | undefined }> {
  const file = configFileFor(explicit, cwd);
  if (!file) return { config: {}, file: undefined };
  const raw = await readStructuredFile(file, 'config', 'config');
  // Relative paths in the file are relative to the file, not to where the command runs.
  const config = parseOptions(configSchema, raw ?? {}, `config ${file}:`);
  const base = path.dirname(path.resolve(file));
  if (config.route) config.route = path.resolve(base, config.route);
  if (config.stateDir) config.stateDir = path.resolve(base, config.stateDir);
  return { config, file };
}
