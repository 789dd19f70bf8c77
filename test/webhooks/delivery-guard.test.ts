/**
 * Every delivery passes the address policy of registration, for every spelling of the
 * address: an IP-literal URL (which never goes through DNS) is checked as such, so a URL
 * stored while private addresses were allowed is not delivered by a process without
 * `--allow-private-urls`. The receiver is real (127.0.0.1, free port); a refused attempt
 * never reaches it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptDelivery } from '../../src/webhooks/deliver.js';
import { type Receiver, startReceiver } from '../support/webhook-receiver.js';

let receiver: Receiver;
let port: string;

beforeAll(async () => {
  receiver = await startReceiver();
  port = new URL(receiver.url).port;
});
afterAll(() => receiver.close());

const attempt = (url: string, allowPrivate: boolean) =>
  attemptDelivery({ url, id: 'msg_guard', body: '{}', secret: undefined, timeoutMs: 5_000, allowPrivate });

describe('delivery-time address guard', () => {
  it('refuses every spelling of a loopback address without allowPrivate, and sends nothing', async () => {
    const spellings = [
      `http://127.0.0.1:${port}/c`,
      `http://localhost:${port}/c`,
      `http://2130706433:${port}/c`,
      `http://0x7f.0.0.1:${port}/c`,
      `http://127.1:${port}/c`,
      `http://[::ffff:127.0.0.1]:${port}/c`,
    ];
    for (const url of spellings) {
      const result = await attempt(url, false);
      expect(result.status, url).toBeNull();
      expect(result.error, url).toMatch(/EADDRBLOCKED/);
    }
    expect(receiver.received).toHaveLength(0);
  });

  it('still delivers to the same literal when private addresses are allowed', async () => {
    const result = await attempt(`http://127.0.0.1:${port}/c`, true);
    expect(result.status).toBe(200);
    expect(receiver.received).toHaveLength(1);
  });
});
