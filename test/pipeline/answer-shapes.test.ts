/**
 * Answers as OpenAI-compatible servers and local models really send them (issue 11 trial):
 * tool-call `arguments` as a JSON object (some Ollama/vLLM versions) rather than a string,
 * and JSON with comments or trailing commas. Each is read with one call, no repair call
 * and no repeat with the image; a lenient read is said in the record. Real providers
 * through the real pipeline against loopback servers.
 */
import { describe, expect, it } from 'vitest';
import { vendorTotalPattern } from '../support/patterns.js';
import { answerServers, geminiBody, type Kind, openaiBody, toolUse } from '../support/provider-answers.js';

const pattern = vendorTotalPattern('simple');
const ANSWER = { vendor_name: 'ACME', total: 12.5 };
const LOOSE = '{"vendor_name":"ACME", // vendor\n "total":12.5,}';

const toolCall = (args: unknown) =>
  openaiBody({
    content: null,
    tool_calls: [{ id: 'c1', type: 'function', function: { name: 'simple', arguments: args } }],
  });

const { recordFor } = answerServers(pattern);

describe('tool-call arguments in either shape are the answer, one call', () => {
  it.each<[string, Kind, unknown]>([
    ['openai tool_calls arguments as a JSON object (Ollama/vLLM)', 'openai', toolCall(ANSWER)],
    ['openai tool_calls arguments as a JSON string', 'openai', toolCall(JSON.stringify(ANSWER))],
    ['anthropic tool_use.input as an object', 'anthropic', toolUse(ANSWER)],
    ['anthropic tool_use.input as a JSON string', 'anthropic', toolUse(JSON.stringify(ANSWER))],
  ])('%s', async (_name, kind, body) => {
    const { record, calls } = await recordFor(kind, body);
    expect(record.error).toBeNull();
    expect(record).toMatchObject({ status: 'ok', output: ANSWER, attempts: 1 });
    expect(record.cascade.repair).toBeNull();
    expect(calls).toBe(1);
  });
});

describe('comments and trailing commas are read leniently, one call, said in the record', () => {
  it.each<[string, Kind, unknown]>([
    ['openai content', 'openai', openaiBody({ content: LOOSE })],
    ['openai tool_calls arguments', 'openai', toolCall(LOOSE)],
    ['anthropic tool_use.input as a string', 'anthropic', toolUse(LOOSE)],
    ['gemini text', 'gemini', geminiBody(`\`\`\`json\n${LOOSE}\n\`\`\``)],
  ])('%s', async (_name, kind, body) => {
    const { record, calls } = await recordFor(kind, body);
    expect(record.error).toBeNull();
    expect(record).toMatchObject({ status: 'ok', output: ANSWER, attempts: 1 });
    expect(record.cascade.repair).toMatch(/not strict JSON.*JSON5, no repair call/);
    expect(calls).toBe(1);
  });
});
