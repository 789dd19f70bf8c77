/**
 * Model answers as real models and OpenAI-compatible servers write them (issue 11 §2):
 * every way one JSON value can be wrapped is read; none or two different values are a
 * BAD_RESPONSE that is not retried blindly.
 */
import { describe, expect, it } from 'vitest';
import { findModelJson, lenientlyRead, parseModelJson } from '../../src/providers/model-json.js';

const VALUE = { vendor_name: 'ACME', total: 12.5, note: 'a } and a { in a string', tags: ['x'] };
const JSON_TEXT = JSON.stringify(VALUE);
const PRETTY = JSON.stringify(VALUE, null, 2);

describe('one JSON value, however it is wrapped, is the answer', () => {
  it.each([
    ['bare', JSON_TEXT, 'bare'],
    ['bare, pretty, surrounded by blank lines', `\n\n${PRETTY}\n`, 'bare'],
    ['a ```json fence around the whole answer', `\`\`\`json\n${JSON_TEXT}\n\`\`\``, 'fenced'],
    ['a bare ``` fence', `\`\`\`\n${PRETTY}\n\`\`\``, 'fenced'],
    ['a fence without a newline before the closing ticks', `\`\`\`json\n${JSON_TEXT}\`\`\``, 'fenced'],
    ['the JSON followed by a sentence', `${JSON_TEXT}\nI hope this helps!`, 'embedded'],
    ['a sentence, then the JSON', `Here is the extracted data: ${JSON_TEXT}`, 'embedded'],
    ['prose around a fenced value', `Sure.\n\`\`\`json\n${PRETTY}\n\`\`\`\nLet me know.`, 'embedded'],
    [
      'a <think> block first (reasoning models on Ollama/vLLM)',
      `<think>The total {maybe} is 12.5</think>\n${JSON_TEXT}`,
      'bare',
    ],
    ['prose quoting a footnote array beside the object', `${JSON_TEXT}\nSee [1].`, 'embedded'],
    ['the same object twice (an echo)', `${JSON_TEXT}\nTo repeat: ${JSON_TEXT}`, 'embedded'],
    ['a fence after blank lines', `\n\n\`\`\`json\n${JSON_TEXT}\n\`\`\`\n`, 'fenced'],
  ])('%s', (_name, text, found) => {
    expect(findModelJson(text)).toEqual({ value: VALUE, found });
    expect(parseModelJson('test', text)).toEqual(VALUE);
  });

  it('quotes and brackets inside strings do not end the value', () => {
    const tricky = { note: 'he said "}" and \\ then "{["', total: 1 };
    expect(parseModelJson('test', `Result: ${JSON.stringify(tricky)} — done.`)).toEqual(tricky);
  });

  it('a bare array is an answer too', () => {
    expect(parseModelJson('test', 'Result: [1, 2, 3]')).toEqual([1, 2, 3]);
  });
});

describe('comments and trailing commas (local models) are read leniently, and marked so', () => {
  const ANSWER = { vendor_name: 'ACME', total: 12.5 };
  it.each([
    ['a // comment and a trailing comma', '{"vendor_name":"ACME", // vendor\n "total":12.5,}', 'bare'],
    ['a /* */ comment', '{"vendor_name": /* as printed */ "ACME", "total": 12.5}', 'bare'],
    ['a trailing comma inside a fence', '```json\n{"vendor_name":"ACME","total":12.5,}\n```', 'fenced'],
    [
      'a commented value in prose',
      'Here you go: {"vendor_name":"ACME", // {not a brace}\n"total":12.5,} Done.',
      'embedded',
    ],
    ['single quotes', "{'vendor_name': 'ACME', 'total': 12.5}", 'bare'],
  ])('%s', (_name, text, found) => {
    const read = findModelJson(text);
    expect(read).toEqual({ value: ANSWER, found });
    expect(lenientlyRead(read?.value)).toBe(true);
    expect(parseModelJson('test', text, '', true)).toEqual(ANSWER);
  });

  it('strict JSON is read strictly first: not marked lenient', () => {
    expect(lenientlyRead(findModelJson(JSON.stringify(ANSWER))?.value)).toBe(false);
  });

  it('NaN and Infinity (JSON5 numbers, not JSON) are not accepted', () => {
    expect(findModelJson('{"total": NaN}')).toBeUndefined();
    expect(findModelJson('{"total": Infinity,}')).toBeUndefined();
  });
});

describe('no JSON, or two different values, is BAD_RESPONSE and not retryable', () => {
  it.each([
    ['plain prose', 'I cannot read this receipt.'],
    ['an empty answer', ''],
    ['JSON cut off', '{"vendor_name": "ACME", "total": 1'],
    ['two different objects', '{"total": 1} or maybe {"total": 2}'],
    ['a fence around something that is not JSON', '```json\nvendor: ACME\n```'],
    ['two fences with different values', '```json\n{"total": 1}\n```\n```json\n{"total": 2}\n```'],
  ])('%s', (_name, text) => {
    expect(findModelJson(text)).toBeUndefined();
    expect(() => parseModelJson('openai', text, ' (cut off)')).toThrow(
      expect.objectContaining({
        code: 'BAD_RESPONSE',
        retryable: false,
        message: expect.stringContaining(
          'openai: the model’s output is not valid JSON (cut off)'.replace('’', "'"),
        ),
      }),
    );
  });
});

describe('the error says what was found', () => {
  const messageOf = (text: string, why?: string) => {
    try {
      parseModelJson('openai', text, why);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('expected a failure');
  };

  it('no JSON value, with the start of the answer only', () => {
    const long = `I could not read it. ${'x'.repeat(200)}`;
    const message = messageOf(long);
    expect(message).toBe(
      `openai: the model's output is not valid JSON: no JSON value in ${long.length} chars (${JSON.stringify(long.slice(0, 60))}…)`,
    );
    expect(message).not.toContain('x'.repeat(100));
  });

  it('two different values, counted', () => {
    expect(messageOf('{"total": 1} or {"total": 2}', ' (cut off)')).toContain(
      'not valid JSON (cut off): 2 different JSON values in',
    );
  });
});
