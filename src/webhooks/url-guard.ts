/**
 * Webhook URLs pass the same address guard as image URLs (image/address-policy.ts):
 * http(s) only, no credentials, and unless private addresses are allowed, an IP literal
 * or a name that resolves to a loopback, private, link-local (cloud metadata) or other
 * non-public address is refused. Checked when a URL is registered or given with an
 * ingest, and again at every delivery (deliver.ts: an IP literal checked as it is, a name
 * by the guarded DNS lookup of the delivery agent, so one that later resolves inside is
 * still refused).
 */
import dns from 'node:dns/promises';
import { isIP } from 'node:net';
import { withArticle } from '../article.js';
import { classifyAddress, unbracket } from '../image/address-policy.js';

export class WebhookUrlError extends Error {
  override readonly name = 'WebhookUrlError';
}

/** Longest URL accepted. */
export const MAX_WEBHOOK_URL = 2048;

/**
 * Returns the normalised URL, or throws WebhookUrlError saying what is wrong with it.
 * `label` names the input in the message (e.g. `url`, `webhook_url`).
 */
export async function checkWebhookUrl(raw: string, label: string, allowPrivate: boolean): Promise<string> {
  if (raw.length > MAX_WEBHOOK_URL)
    throw new WebhookUrlError(`${label} is longer than ${MAX_WEBHOOK_URL} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookUrlError(`${label} is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new WebhookUrlError(`${label} must be an http or https URL (got ${url.protocol})`);
  if (url.username || url.password) throw new WebhookUrlError(`${label} must not carry credentials`);
  if (allowPrivate) return url.href;
  const host = unbracket(url.hostname);
  const addresses = isIP(host)
    ? [host]
    : await dns.lookup(host, { all: true }).then(
        (found) => found.map((a) => a.address),
        () => {
          throw new WebhookUrlError(`${label}: ${host} does not resolve`);
        },
      );
  for (const address of addresses) {
    const verdict = classifyAddress(address);
    if (!verdict.allowed)
      throw new WebhookUrlError(
        `${label}: ${host} is ${withArticle(verdict.range)} address (${address}); webhooks go to public addresses only unless --allow-private-urls`,
      );
  }
  return url.href;
}
