/**
 * Webhook signatures, two schemes on every delivery so any receiver can check it:
 *
 * - ImgGo's: `X-ImgGo-Signature: sha256=<hex>`, HMAC-SHA256 of the raw body keyed with the
 *   secret's UTF-8 bytes, exactly the string the receiver was given (ImgGo's receiver
 *   example, `../shared/imggo-api/examples/webhooks`).
 * - Standard Webhooks (standardwebhooks.com): `webhook-id` (the event id, the same on every
 *   retry), `webhook-timestamp` (unix seconds of this attempt) and `webhook-signature:
 *   v1,<base64>`, HMAC-SHA256 of `id.timestamp.body`. The key is the base64 after
 *   `whsec_` for secrets of that form (the ones visionpipe generates); for any other
 *   secret it is the secret's bytes (`new Webhook(secret, {format: 'raw'})`). Receivers
 *   reject timestamps older than their tolerance (5 min), so a captured request cannot
 *   be replayed later.
 */
import { createHmac, randomBytes } from 'node:crypto';

const WHSEC = /^whsec_([A-Za-z0-9+/]+={0,2})$/;

/** Key sizes Standard Webhooks allows for a `whsec_` secret, bytes. */
export const WHSEC_BYTES = { min: 24, max: 64 } as const;

/**
 * What is wrong with a `whsec_` secret (undefined when fine, or when it is not of that
 * form): after the prefix it must be base64 (standard alphabet, padded) of a 24–64 byte
 * key, as Standard Webhooks asks and as `new Webhook(secret)` reads it.
 */
export function whsecProblem(secret: string): string | undefined {
  if (!secret.startsWith('whsec_')) return undefined;
  const match = WHSEC.exec(secret);
  const key = match ? Buffer.from(match[1]!, 'base64') : undefined;
  if (!key || key.toString('base64') !== match![1])
    return 'a whsec_ secret must be whsec_ followed by the base64 of its key';
  if (key.length < WHSEC_BYTES.min || key.length > WHSEC_BYTES.max)
    return `a whsec_ secret's key must be ${WHSEC_BYTES.min}-${WHSEC_BYTES.max} bytes (got ${key.length})`;
  return undefined;
}

/** A new secret: `whsec_` + base64 of 32 random bytes. */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The Standard Webhooks HMAC key of a secret (see the module comment). */
export function standardKey(secret: string): Buffer {
  const match = WHSEC.exec(secret);
  return match ? Buffer.from(match[1]!, 'base64') : Buffer.from(secret, 'utf8');
}

/** `sha256=<hex>`: ImgGo's `X-ImgGo-Signature`. */
export function imggoSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** `v1,<base64>`: the Standard Webhooks `webhook-signature` of one attempt. */
export function standardSignature(secret: string, id: string, timestampS: number, body: string): string {
  const mac = createHmac('sha256', standardKey(secret))
    .update(`${id}.${timestampS}.${body}`)
    .digest('base64');
  return `v1,${mac}`;
}

/**
 * Every header of one delivery attempt. Without a secret (a per-ingest `webhook_url` on a
 * service started without `--webhook-secret`) only the id and timestamp are sent.
 */
export function deliveryHeaders(
  secret: string | undefined,
  id: string,
  body: string,
  nowMs: number = Date.now(),
): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'visionpipe-webhooks/1',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
  };
  if (secret !== undefined) {
    headers['webhook-signature'] = standardSignature(secret, id, timestamp, body);
    headers['x-imggo-signature'] = imggoSignature(secret, body);
  }
  return headers;
}
