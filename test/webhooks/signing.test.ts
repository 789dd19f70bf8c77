/**
 * Signatures checked by an independent implementation (the `standardwebhooks` package)
 * for both kinds of secret; the retry schedule's jitter bounds, Retry-After and the end
 * of the schedule; the delivery's address guard at connect time and its timeout.
 */
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { attemptDelivery } from '../../src/webhooks/deliver.js';
import { outcomeOf } from '../../src/webhooks/dispatcher.js';
import { DEFAULT_RETRY_DELAYS_MS, nextDelayMs, parseSchedule } from '../../src/webhooks/schedule.js';
import { deliveryHeaders, generateSecret } from '../../src/webhooks/signing.js';
import { startReceiver } from '../support/webhook-receiver.js';

const body = JSON.stringify({ type: 'job.succeeded', data: { job_id: 'j1', result: { total: 1 } } });

describe('signing', () => {
  it('a generated whsec_ secret verifies with standardwebhooks and ImgGo’s HMAC of the whole string', () => {
    const secret = generateSecret();
    const headers = deliveryHeaders(secret, 'evt-1', body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(headers['x-imggo-signature']).toBe(
      `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    );
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow(/No matching signature/);
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'evt-2' })).toThrow();
  });

  it('any other secret is used as its bytes (standardwebhooks format raw)', () => {
    const secret = 'your-webhook-secret-key-min-16-chars';
    const headers = deliveryHeaders(secret, 'evt-1', body);
    expect(new Webhook(secret, { format: 'raw' }).verify(body, headers)).toBeTruthy();
  });

  it('without a secret only the id and timestamp go out', () => {
    const headers = deliveryHeaders(undefined, 'evt-1', body, 1_700_000_000_500);
    expect(headers).toMatchObject({ 'webhook-id': 'evt-1', 'webhook-timestamp': '1700000000' });
    expect(headers['webhook-signature']).toBeUndefined();
    expect(headers['x-imggo-signature']).toBeUndefined();
  });
});

describe('schedule', () => {
  const schedule = { delaysMs: DEFAULT_RETRY_DELAYS_MS, jitter: 0.2 };
  it('waits 5 s … 24 h ± 20 %, then stops after the eighth attempt', () => {
    expect(parseSchedule('5s,5m,30m,2h,5h,10h,24h')).toEqual([...DEFAULT_RETRY_DELAYS_MS]);
    expect(nextDelayMs(schedule, 1, undefined, () => 0)).toBe(4000);
    expect(nextDelayMs(schedule, 1, undefined, () => 1)).toBe(6000);
    expect(nextDelayMs(schedule, 2, undefined, () => 0.5)).toBe(300_000);
    expect(nextDelayMs(schedule, 7, undefined, () => 0.5)).toBe(86_400_000);
    expect(nextDelayMs(schedule, 8, undefined)).toBeUndefined();
    expect(() => parseSchedule('5s,,1m')).toThrow(/--webhook-retries/);
    expect(() => parseSchedule('soon')).toThrow(/--webhook-retries "soon" is not a duration/);
  });

  it('Retry-After wins on 429 and 503; 410 disables; 2xx delivers; the end of the schedule fails', () => {
    expect(outcomeOf({ schedule }, 1, 'u', { status: 429, retryAfterMs: 42_000 })).toEqual({
      kind: 'retry',
      inMs: 42_000,
    });
    expect(outcomeOf({ schedule }, 1, 'u', { status: 204, retryAfterMs: undefined })).toEqual({
      kind: 'delivered',
    });
    expect(outcomeOf({ schedule }, 1, 'u', { status: 410, retryAfterMs: undefined })).toMatchObject({
      kind: 'disabled',
    });
    expect(outcomeOf({ schedule }, 8, 'u', { status: 500, retryAfterMs: undefined })).toEqual({
      kind: 'failed',
    });
    expect(outcomeOf({ schedule }, 2, 'u', { status: null, retryAfterMs: undefined })).toMatchObject({
      kind: 'retry',
    });
  });
});

describe('one attempt', () => {
  const receivers: Array<{ close(): Promise<void> }> = [];
  afterAll(async () => {
    for (const r of receivers) await r.close();
  });

  it('refuses a loopback receiver at connect time unless private addresses are allowed', async () => {
    const r = await startReceiver();
    receivers.push(r);
    const url = r.url.replace('127.0.0.1', 'localhost');
    const refused = await attemptDelivery({ url, id: 'e', body, secret: undefined, allowPrivate: false });
    expect(refused.status).toBeNull();
    expect(refused.error).toMatch(/not a public address/);
    expect(r.received).toHaveLength(0);
    const allowed = await attemptDelivery({ url, id: 'e', body, secret: undefined, allowPrivate: true });
    expect(allowed.status).toBe(200);
    expect(r.received).toHaveLength(1);
  });

  it('gives up at the timeout and reads Retry-After on 503', async () => {
    const r = await startReceiver((_x, n) =>
      n === 1 ? 'hang' : { status: 503, headers: { 'retry-after': '7' } },
    );
    receivers.push(r);
    const hung = await attemptDelivery({
      url: r.url,
      id: 'e',
      body,
      secret: undefined,
      allowPrivate: true,
      timeoutMs: 200,
    });
    expect(hung).toMatchObject({ status: null, error: 'no answer within 200 ms' });
    expect(hung.durationMs).toBeLessThan(2000);
    const busy = await attemptDelivery({ url: r.url, id: 'e', body, secret: undefined, allowPrivate: true });
    expect(busy).toMatchObject({ status: 503, retryAfterMs: 7000 });
  });
});
