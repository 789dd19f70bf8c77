/**
 * OpenTelemetry traces from a real run, received by an OTLP/HTTP endpoint on 127.0.0.1:
 * one `visionpipe.image` span per image, stage spans and one CLIENT span per provider
 * attempt under it, with the GenAI semantic-convention attributes, and `error.type` on
 * the attempt the simulator answered 429 and on the image that failed.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/pipeline/record.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { runCli } from '../support/cli.js';
import { corpus, tempDir } from '../support/images.js';

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: OtlpValue }>;
  status?: { code?: number };
}
interface OtlpBody {
  resourceSpans: Array<{
    resource: { attributes: Array<{ key: string; value: OtlpValue }> };
    scopeSpans: Array<{ spans: OtlpSpan[] }>;
  }>;
}

const attr = (span: OtlpSpan, key: string): string | number | boolean | undefined => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  if (!value) return undefined;
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.stringValue ?? value.doubleValue ?? value.boolValue;
};

let simulator: Simulator;
let collector: Server;
let endpoint: string;
const bodies: OtlpBody[] = [];
let work: string;

beforeAll(async () => {
  simulator = await startSimulator({
    latency: { minMs: 20, maxMs: 60 },
    answer: () => ({ title: 'T', total: 2 }),
  });
  collector = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.headers['content-type']?.includes('json'))
        bodies.push(JSON.parse(body) as OtlpBody);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  work = await tempDir('visionpipe-traces-');
  await mkdir(path.join(work, 'in'));
  await copyFile(corpus('invoice1.jpg'), path.join(work, 'in', 'a.jpg'));
  await copyFile(corpus('invoice2.jpg'), path.join(work, 'in', 'b.jpg'));
  await writeFile(path.join(work, 'in', 'bad.jpg'), 'not an image');
  await writeFile(
    path.join(work, 'p.json'),
    JSON.stringify({
      name: 'doc',
      format: 'json',
      instructions: 'Read.',
      json_schema: { title: 'string', total: 'number' },
    }),
  );
});

afterAll(async () => {
  await simulator?.close();
  await new Promise((resolve) => collector?.close(resolve));
});

describe('OpenTelemetry traces', () => {
  it('one span per image, stage and provider attempt, with GenAI attributes, over OTLP/HTTP', async () => {
    simulator.inject('rate-limit', 1);
    const run = await runCli(
      [
        'run',
        'in',
        '-p',
        'p.json',
        '--provider',
        'openai',
        '--model',
        'gpt-4o-mini',
        '--base-url',
        simulator.baseUrls.openai,
        '--concurrency',
        '1',
        '--no-progress',
        '--json',
        '--cache',
        'off',
      ],
      {
        cwd: work,
        env: {
          OPENAI_API_KEY: 'sk-sim-traces',
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_SERVICE_NAME: 'vp-test',
        },
      },
    );
    expect(run.code).toBe(0);
    const records = (await readFile(path.join(work, 'results.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as RunRecord);
    const spans = bodies.flatMap((b) => b.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
    expect(
      bodies[0]?.resourceSpans[0]?.resource.attributes.find((a) => a.key === 'service.name')?.value
        .stringValue,
    ).toBe('vp-test');
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const imageOf = (span: OtlpSpan): OtlpSpan | undefined => {
      let at: OtlpSpan | undefined = span;
      while (at && at.name !== 'visionpipe.image')
        at = at.parentSpanId ? byId.get(at.parentSpanId) : undefined;
      return at;
    };
    const images = spans.filter((s) => s.name === 'visionpipe.image');
    expect(images.map((s) => attr(s, 'visionpipe.input')).sort()).toEqual(records.map((r) => r.input).sort());
    const failed = images.find((s) => String(attr(s, 'visionpipe.input')).endsWith('bad.jpg'));
    expect(attr(failed!, 'error.type')).toBe(records.find((r) => r.input.endsWith('bad.jpg'))?.error?.code);
    expect(failed?.status?.code).toBe(2);

    const attempts = spans.filter((s) => s.name === 'chat gpt-4o-mini');
    // Every call sent: the answered ones (attempts) and the refused ones (rate_limited.count).
    expect(attempts).toHaveLength(records.reduce((n, r) => n + r.attempts + r.rate_limited.count, 0));
    for (const span of attempts) {
      expect(span.kind).toBe(3); // CLIENT
      expect(attr(span, 'gen_ai.operation.name')).toBe('chat');
      expect(attr(span, 'gen_ai.provider.name')).toBe('openai');
      expect(attr(span, 'gen_ai.request.model')).toBe('gpt-4o-mini');
      expect(imageOf(span), 'an attempt belongs to an image').toBeDefined();
    }
    const limited = attempts.filter((s) => attr(s, 'error.type') === 'RATE_LIMITED');
    expect(limited).toHaveLength(1);
    const answered = attempts.filter((s) => attr(s, 'error.type') === undefined);
    expect(answered).toHaveLength(2);
    for (const span of answered) {
      const record = records.find((r) => r.input === attr(imageOf(span)!, 'visionpipe.input'));
      expect(attr(span, 'gen_ai.usage.input_tokens')).toBe(record?.usage.input_tokens);
      expect(attr(span, 'gen_ai.usage.output_tokens')).toBe(record?.usage.output_tokens);
    }
    for (const stage of ['visionpipe.load', 'visionpipe.preprocess', 'visionpipe.validate']) {
      const stageSpans = spans.filter((s) => s.name === stage);
      expect(stageSpans.length, stage).toBeGreaterThanOrEqual(2);
      for (const span of stageSpans) expect(imageOf(span), stage).toBeDefined();
    }
    // All of an image's spans share its trace.
    for (const span of spans) expect(span.traceId).toBe(imageOf(span)?.traceId);
  }, 120_000);
});
