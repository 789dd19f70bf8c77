/**
 * Tool arguments wrapped in one extra key (issue 11 trial): some models and proxies send
 * Claude's `tool_use.input` as `{"parameter": {…}}`, or an OpenAI-compatible answer (its
 * content or `tool_calls` arguments) and a Gemini answer as `{"arguments": {…}}`. One level
 * is read inside when the value conforms and the key is not a pattern field; anything
 * else stays SCHEMA_MISMATCH. A model calling another tool is told apart by name. Real
 * providers through the real pipeline against loopback servers answering those shapes.
 */
import { describe, expect, it } from 'vitest';
import { vendorTotalPattern } from '../support/patterns.js';
import { answerServers, geminiBody, type Kind, openaiBody, toolUse } from '../support/provider-answers.js';

const pattern = vendorTotalPattern('simple');
const ANSWER = { vendor_name: 'ACME', total: 12.5 };

const { recordFor } = answerServers(pattern);

describe('one wrapping key around the answer is read inside', () => {
  it.each<[string, Kind, unknown]>([
    ['anthropic tool_use.input {"parameter": {…}}', 'anthropic', toolUse({ parameter: ANSWER })],
    [
      'anthropic tool_use.input {"input": {…}} as a JSON string',
      'anthropic',
      toolUse(JSON.stringify({ input: ANSWER })),
    ],
    [
      'openai content {"arguments": {…}}',
      'openai',
      openaiBody({ content: JSON.stringify({ arguments: ANSWER }) }),
    ],
    [
      'openai tool_calls arguments {"parameter": {…}}',
      'openai',
      openaiBody({
        content: null,
        tool_calls: [
          {
            id: 'c1',
            type: 'function',
            function: { name: 'simple', arguments: JSON.stringify({ parameter: ANSWER }) },
          },
        ],
      }),
    ],
    ['gemini text {"arguments": {…}}', 'gemini', geminiBody(JSON.stringify({ arguments: ANSWER }))],
  ])('%s: ok, the inner value is the output, one call', async (_name, kind, body) => {
    const { record, calls } = await recordFor(kind, body);
    expect(record.error).toBeNull();
    expect(record).toMatchObject({ status: 'ok', output: ANSWER, attempts: 1 });
    expect(calls).toBe(1);
  });
});

describe('what is not one conforming wrapper stays a SCHEMA_MISMATCH', () => {
  it.each<[string, unknown]>([
    ['the wrapper key is a field of the pattern', { vendor_name: ANSWER }],
    ['the wrapped value does not conform', { parameter: { vendor_name: 'ACME', total: 'twelve' } }],
    ['two levels of wrapping', { parameter: { input: ANSWER } }],
    ['a wrapper beside another key', { parameter: ANSWER, note: 'x' }],
  ])('%s', async (_name, input) => {
    const { record } = await recordFor('anthropic', toolUse(input));
    expect(record).toMatchObject({ status: 'error', error: { code: 'SCHEMA_MISMATCH' } });
  });
});

describe('a model that calls another tool', () => {
  it('the error names the tool expected and the tool called, not "not JSON"', async () => {
    const { record } = await recordFor('anthropic', toolUse(ANSWER, 'record_answer'));
    expect(record).toMatchObject({ status: 'error', error: { code: 'BAD_RESPONSE' } });
    expect(record.error?.message).toContain('expected "simple", received "record_answer"');
    expect(record.error?.message).not.toContain('not JSON');
  });
});
