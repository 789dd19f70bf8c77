/**
 * Webhook URLs as the API takes them (registered endpoints, a pattern's `webhook_url`,
 * an ingest's `webhook_url`): through the address guard of webhooks/url-guard.ts, a
 * refusal answered as 400 `invalid_webhook_url` naming the field and the reason.
 */
import { checkWebhookUrl, WebhookUrlError } from '../webhooks/url-guard.js';
import { ApiError } from './api-error.js';

/** The URL normalised (null and undefined pass through), or ApiError 400 `invalid_webhook_url`. */
export async function acceptWebhookUrl<T extends string | null | undefined>(
  url: T,
  field: string,
  allowPrivate: boolean,
): Promise<T | string> {
  if (url === null || url === undefined) return url;
  try {
    return await checkWebhookUrl(url, field, allowPrivate);
  } catch (error) {
    if (error instanceof WebhookUrlError)
      throw new ApiError(400, 'invalid_webhook_url', error.message, { field });
    throw error;
  }
}
