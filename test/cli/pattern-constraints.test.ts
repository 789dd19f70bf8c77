/**
 * Issue 11 §3 as a user meets it: `visionpipe run` against an OpenAI-compatible server
 * that breaks every constraint of the pattern. The answer must not be `ok`, the record
 * must say which field broke which rule, and the server must have been sent the rules.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/pipeline/record.js';
import { runCli } from '../support/cli.js';
import { startServer } from '../support/http.js';
import { tempDir, textImage } from '../support/images.js';

const PATTERN = {
  name: 'Constrained',
  format: 'json',
  instructions: 'Read the invoice.',
  json_schema: {
    type: 'object',
    required: ['invoice_number', 'total', 'currency', 'tags'],
    properties: {
      invoice_number: { type: 'string', pattern: '^INV-[0-9]+$' },
      total: { type: 'number', minimum: 0 },
      currency: { type: 'string', minLength: 3, maxLength: 3 },
      tags: { type: 'array', items: { type: 'string' }, maxItems: 2, uniqueItems: true },
      memo: { type: 'string', not: { const: '' } },
    },
  },
};

/** An OpenAI-compatible server answering `answer`, keeping the schemas it was sent. */
async function server(answer: Record<string, unknown>) {
  const schemas: Array<Record<string, unknown>> = [];
  const srv = await startServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      schemas.push(JSON.parse(body).response_format.json_schema.schema);
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          model: 'gpt-4.1-mini',
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: JSON.stringify(answer) },
              finish_reason: 'stop',
            },
          ],
          usage: { prompt_tokens: 1000, completion_tokens: 20 },
        }),
      );
    });
  });
  return { ...srv, schemas };
}

async function run(answer: Record<string, unknown>) {
  const dir = await tempDir('visionpipe-constraints-');
  const image = path.join(dir, 'inv.png');
  await writeFile(image, await textImage(['INV-1001 Total: 12.50']));
  const patternFile = path.join(dir, 'constrained.json');
  await writeFile(patternFile, JSON.stringify(PATTERN));
  const srv = await server(answer);
  try {
    const out = path.join(dir, 'out.jsonl');
    const result = await runCli(
      [
        'run',
        image,
        '-p',
        patternFile,
        '--provider',
        'openai',
        '--base-url',
        `${srv.url}/v1`,
        '-o',
        out,
        '--cache',
        'off',
        '--no-progress',
      ],
      { cwd: dir, env: { OPENAI_API_KEY: 'sk-test' } },
    );
    const record = JSON.parse((await readFile(out, 'utf8')).trim()) as RunRecord;
    return { result, record, schemas: srv.schemas };
  } finally {
    await srv.close();
  }
}

describe('an error record keeps what helps to debug it', () => {
  it('has the raw answer (redacted, cut), the parsed output, usage, cost and the image sent', async () => {
    const answer = {
      invoice_number: 'hello',
      total: -5,
      currency: 'USD',
      tags: [],
      memo: `sk-proj-${'x'.repeat(30)} ${'y'.repeat(3000)}`,
    };
    const { record } = await run(answer);
    expect(record.error?.code).toBe('SCHEMA_MISMATCH');
    expect(record.output).toMatchObject({ invoice_number: 'hello', total: -5 }); // as parsed
    // The model's own content (not the HTTP envelope around it), as the model wrote it.
    expect(record.raw_output).toContain('"invoice_number"');
    expect(record.raw_output).not.toContain('"choices"');
    expect(record.raw_output).toContain('hello');
    expect(record.raw_output).not.toContain('sk-proj-');
    expect(record.raw_output).toMatch(/… \(\d+ more characters\)$/);
    expect(record.raw_output?.length).toBeLessThan(2100);
    expect(record.usage).toMatchObject({ input_tokens: 1000, output_tokens: 20 });
    expect(record.cost_usd).toBeGreaterThan(0);
    expect(record.image?.bytes).toBeGreaterThan(0);
  });
});

describe('visionpipe run keeps a pattern’s constraints', () => {
  it('refuses an answer that breaks them, naming each field and rule', async () => {
    const { result, record, schemas } = await run({
      invoice_number: 'hello world',
      total: -5,
      currency: 'DOLLARS',
      tags: ['a', 'a', 'b', 'c'],
      memo: null,
    });
    expect(record.status).toBe('error');
    expect(record.error?.code).toBe('SCHEMA_MISMATCH');
    for (const rule of [
      '/invoice_number must match the regular expression ^INV-[0-9]+$ (pattern',
      '/total must be >= 0 (minimum 0, got -5)',
      '/currency must be at most 3 characters long (maxLength 3',
    ])
      expect(record.error?.message).toContain(rule);
    expect(record.error?.message).toContain('(and 2 more)');
    // The server was sent the rules: as keywords where strict mode takes them, in words otherwise.
    const sent = schemas[0]!.properties as Record<string, Record<string, unknown>>;
    expect(sent.invoice_number).toMatchObject({ pattern: '^INV-[0-9]+$' });
    expect(sent.total).toMatchObject({ minimum: 0 });
    expect(sent.tags).toMatchObject({ maxItems: 2, description: 'Constraints: no item repeated.' });
    expect(sent.currency).toMatchObject({ description: 'Constraints: exactly 3 characters.' });
    expect(sent.currency).not.toHaveProperty('minLength');
    // What nobody can check is said once, at load.
    expect(result.stderr.match(/"not" is not supported/g)).toHaveLength(1);
    // A message for the user, not Node's developer warning ("(node:PID)", "--trace-warnings").
    expect(result.stderr).toMatch(/^warning \[PATTERN\]: .*"not" is not supported/m);
    expect(result.stderr).not.toMatch(/\(node:\d+\)|trace-warnings/);
  });

  it('passes an answer that keeps them', async () => {
    const output = { invoice_number: 'INV-1001', total: 12.5, currency: 'USD', tags: ['a'], memo: null };
    const { record } = await run(output);
    expect(record).toMatchObject({ status: 'ok', output });
  });
});
