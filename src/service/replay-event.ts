/**
 * Replaying a webhook event, as `POST /webhooks/{id}/deliveries/{delivery}/replay` and
 * `POST /jobs/{id}/deliveries/{delivery}/replay` do: the event is sent again now with the
 * same `webhook-id` (Standard Webhooks: the id names the message, not the attempt; a new
 * `webhook-timestamp` and signature are made for each attempt) and a fresh retry
 * schedule; its attempts are logged under the replay's number.
 *
 * Refused: an event of a disabled endpoint (409 `webhook_disabled`) or of a deleted one
 * (409 `webhook_disabled`: nothing to sign it with, and its URL is no longer anyone's),
 * and a URL the address guard refuses now (400 `invalid_webhook_url`: it is checked
 * again, as at registration, and once more at connect time by the delivery agent).
 */
import type { OutboxRow, Store } from '../store/index.js';
import { ApiError } from './api-error.js';
import { acceptWebhookUrl } from './webhook-url.js';

/** The replayed event, or ApiError 409 / 400 / 404 as above. */
export async function replayEvent(store: Store, event: OutboxRow, allowPrivate: boolean): Promise<OutboxRow> {
  if (event.source === 'endpoint') {
    const endpoint = event.endpoint_id ? await store.webhooks.endpoint(event.endpoint_id) : undefined;
    if (!endpoint)
      throw new ApiError(
        409,
        'webhook_disabled',
        `Delivery '${event.id}' went to a webhook that was deleted; register it again to get new events`,
      );
    if (!endpoint.is_active)
      throw new ApiError(
        409,
        'webhook_disabled',
        `Webhook '${endpoint.id}' is disabled: ${endpoint.disabled_reason ?? 'inactive'}`,
      );
  }
  await acceptWebhookUrl(event.url, 'url', allowPrivate);
  const replayed = await store.webhooks.replay(event.id);
  if (!replayed) throw new ApiError(404, 'delivery_not_found', `Delivery '${event.id}' does not exist`);
  return replayed;
}
