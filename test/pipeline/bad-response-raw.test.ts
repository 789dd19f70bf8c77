/**
 * A BAD_RESPONSE record keeps what the server answered (issue 13 trial): a 200 whose body
 * is not JSON, or JSON of the wrong shape, is the failure, so it goes in `raw_output`
 * (redacted, cut) rather than only a 60-character excerpt in the message. Real providers
 * through the real pipeline against loopback servers.
 */
import { describe, expect, it } from 'vitest';
import { vendorTotalPattern } from '../support/patterns.js';
import { answerServers, RawBody } from '../support/provider-answers.js';

const { recordFor } = answerServers(vendorTotalPattern('simple'));
const SECRET = 'sk-proj-SECRETSECRETSECRET123456';

describe('BAD_RESPONSE keeps the body that failed', () => {
  it('a body that is not JSON (cut off), secrets redacted', async () => {
    const text = `{"choices":[{"message":{"content":"not json at all ${SECRET}"}}]`;
    const { record } = await recordFor('openai', new RawBody(text));
    expect(record.error?.code).toBe('BAD_RESPONSE');
    expect(record.raw_output).toContain('"content":"not json at all');
    expect(record.raw_output).not.toContain(SECRET);
  });

  it('JSON of a shape no provider sends', async () => {
    const { record } = await recordFor('anthropic', { type: 'message', surprise: { answer: 42 } });
    expect(record.error?.code).toBe('BAD_RESPONSE');
    expect(record.raw_output).toBe('{"type":"message","surprise":{"answer":42}}');
  });
});
