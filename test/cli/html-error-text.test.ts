/**
 * The error text of an HTML page or any text/html body, as it reaches the record (trial of
 * issue 10): a title's entities decoded (`&amp;` was kept), a title longer than the body's
 * kept prefix cut, not dropped (a 3 000-character title left only "(an HTML page …)"), and
 * no control characters from a body that is not a page (NUL, BEL and a colour escape went
 * into the record). Real CLI, loopback server answering 400 (not retried: one call).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCompatibleServer } from '../support/openai-compatible.js';
import { runInFolder, stopWorkFolder } from '../support/stop-work.js';

let work: string;
const servers: Array<{ close(): Promise<void> }> = [];
beforeAll(async () => {
  work = await stopWorkFolder('visionpipe-html-error-text-', ['invoice1.jpg']);
});
afterAll(async () => {
  for (const s of servers.splice(0)) await s.close();
});

/** The record's error message for one image answered 400 with `body` as text/html. */
async function messageFor(name: string, body: string): Promise<string> {
  const server = await startCompatibleServer(() => ({
    status: 400,
    headers: { 'content-type': 'text/html' },
    errorBody: body,
  }));
  servers.push(server);
  const out = `${work}/${name}.jsonl`;
  const [record] = await runInFolder(work, server.baseUrl, out);
  return record?.error?.message ?? '';
}

describe('an error page or text/html body in the record', () => {
  it("decodes the title's named and numeric entities", async () => {
    const message = await messageFor(
      'entities',
      '<html><head><title>Tom &amp; Jerry &#8211; &quot;down&quot; &#x27;now&#x27; &lt;b&gt;</title></head></html>',
    );
    expect(message).toContain(`HTTP 400: Tom & Jerry – "down" 'now' <b> (an HTML page`);
  });

  it('cuts a 3 000-character title, keeping its start', async () => {
    const message = await messageFor(
      'long-title',
      `<!DOCTYPE html><html><head><title>${'Bad Gateway Error '.repeat(170)}</title></head><body></body></html>`,
    );
    expect(message).toMatch(/HTTP 400: Bad Gateway Error Bad Gateway Error .*… \(an HTML page/);
    expect(message.length).toBeLessThan(400);
  });

  it('keeps no control characters from a text/html body without <html>', async () => {
    const message = await messageFor(
      'controls',
      'busy\u0000\u0007\u001b[31m red\u001b[0m\r\n<p>try later</p>',
    );
    expect(message).toContain('busy red');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters that must not be there.
    expect(message).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  });
});
