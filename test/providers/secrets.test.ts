/**
 * API keys never reach an error, a result or the terminal: every error path of every
 * provider is triggered with a recognisable key, and everything observable is searched.
 */
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AnthropicProvider } from '../../src/providers/anthropic.js';
import { GeminiProvider } from '../../src/providers/gemini.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { ImgGoProvider } from '../../src/providers/imggo.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import type { Provider, ProviderImage } from '../../src/providers/spec.js';
import { type FaultKind, type Simulator, startSimulator } from '../../src/simulator/index.js';
import { asProviderImage, invoicePattern, solidJpeg } from '../support/simulator-fixtures.js';

const SECRET = 'sk-VISIONPIPE-SECRET-do-not-leak-4242';

let sim: Simulator;
let strict: Simulator;
let image: ProviderImage;
let written: string[];

function providers(target: Simulator, timeoutMs = 5000): Provider[] {
  return [
    new OpenAIProvider({ baseUrl: target.baseUrls.openai, apiKey: SECRET, timeoutMs }),
    new AnthropicProvider({ baseUrl: target.baseUrls.anthropic, apiKey: SECRET, timeoutMs }),
    new GeminiProvider({ baseUrl: target.baseUrls.gemini, apiKey: SECRET, timeoutMs }),
    new ImgGoProvider({
      baseUrl: target.baseUrls.imggo,
      apiKey: SECRET,
      imggoPatternId: 'p-1',
      pollIntervalMs: 5,
      timeoutMs,
    }),
  ];
}

beforeAll(async () => {
  sim = await startSimulator({ apiKeys: [SECRET], slowBodyMs: 2000 });
  strict = await startSimulator({ apiKeys: ['a-different-key-entirely'] });
  image = await asProviderImage(await solidJpeg(320, 240));
});

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(async () => {
  await sim.close();
  await strict.close();
  await closeAllAgents();
});

function observable(value: unknown): string[] {
  const views = [inspect(value, { depth: 10, showHidden: true }), String(value)];
  try {
    views.push(JSON.stringify(value) ?? '');
  } catch {
    // circular structures (sockets in causes) are covered by inspect
  }
  if (value instanceof Error) views.push(value.message, value.stack ?? '');
  return views;
}

describe('secrets', () => {
  it('never appear in errors, results, providers or anything printed, on any path', async () => {
    written = [];
    // Everything written to the terminal in this process is captured (and kept off the test output).
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array) => {
        written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        return true;
      }) as typeof stream.write);
    }
    const seen: unknown[] = [];
    const faults: FaultKind[] = [
      'bad-request',
      'rate-limit',
      'quota',
      '529',
      '5xx',
      'malformed',
      'reset',
      'slow-body',
    ];
    const run = async (p: Provider) => {
      try {
        seen.push(
          await p.extract(
            { image, pattern: invoicePattern, model: p.defaultModel },
            AbortSignal.timeout(10_000),
          ),
        );
      } catch (error) {
        seen.push(error);
      }
    };
    const all = [...providers(sim, 500), ...providers(strict)];
    for (const p of providers(strict)) await run(p); // 401s
    for (const p of providers(sim, 500)) {
      await run(p); // success
      for (const fault of faults) {
        sim.inject(fault);
        await run(p);
      }
    }
    const codes = seen.map((s) => (s instanceof Error ? (s as { code?: string }).code : 'ok'));
    for (const code of [
      'ok',
      'AUTH_FAILED',
      'BAD_REQUEST',
      'RATE_LIMITED',
      'QUOTA_EXCEEDED',
      'PROVIDER_UNAVAILABLE',
      'BAD_RESPONSE',
      'CONNECTION_FAILED',
      'PROVIDER_TIMEOUT',
    ]) {
      expect(codes).toContain(code);
    }
    for (const value of [...seen, ...all]) {
      for (const view of observable(value)) expect(view).not.toContain(SECRET);
    }
    // What a CLI would print about these failures.
    const errors = seen.filter((s) => s instanceof Error);
    process.stdout.write(`${errors.map((e) => e.message).join('\n')}\n`);
    process.stderr.write(`${inspect(errors, { depth: 10 })}\n`);
    expect(written.join('')).not.toContain(SECRET);
    expect(written.join('')).toContain('HTTP 401');
    await Promise.all(all.map((p) => p.close()));
  });
});
