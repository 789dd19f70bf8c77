/**
 * Replaying a webhook event, the one function behind both
 * `POST /webhooks/{id}/deliveries/{delivery}/replay` and
 * `POST /jobs/{id}/deliveries/{delivery}/replay` (the routes only find the owner, an
 * endpoint or a job, and answer 202 with the delivery): the event is sent again now with the
 * same `webhook-id` (Standard Webhooks: the id names the message, not the attempt; a new
 * `webhook-timestamp` and signature are made for each attempt) and a fresh retry
 * schedule; its attempts are logged under the replay's number.
 *
 * Refused: an event of a disabled endpoint (409 `webhook_disabled`) or of a deleted one
 * (409 `webhook_disabled`: nothing to sign it with, and its URL is no longer anyone's),
 * and a URL the address guard refuses now (400 `invalid_webhook_url`: it is checked
 * again, as at registration, and once more at connect time by the delivery agent), and a
 * delivery that is not the owner's, or not a UUID (404 `delivery_not_found`, naming both).
 */
import { isUuid } from '../patterns/formats.js';
import { ApiError } from '../service/api-error.js';
import { acceptWebhookUrl } from '../service/webhook-url.js';
import type { OutboxRow, Store } from '../store/index.js';

/** Whose delivery log a replayed delivery must be in: a registered endpoint's or a job's. */
export type DeliveryOwner = { endpointId: string } | { jobId: string };

/** `webhook 'id'` or `job 'id'`: the owner as error messages name it. */
function ownerName(owner: DeliveryOwner): string {
  return 'endpointId' in owner ? `webhook '${owner.endpointId}'` : `job '${owner.jobId}'`;
}

/**
 * Replays `delivery` of `owner` (found by the route: its own 404 comes first). Returns the
 * replayed event, or throws ApiError 404 / 409 / 400 as above.
 */
export async function replayDelivery(
  store: Store,
  owner: DeliveryOwner,
  delivery: string,
  allowPrivate: boolean,
): Promise<OutboxRow> {
  const event = isUuid(delivery) ? await store.webhooks.event(delivery, owner) : undefined;
  if (!event)
    throw new ApiError(
      404,
      'delivery_not_found',
      `Delivery '${delivery}' of ${ownerName(owner)} does not exist`,
    );
  return replayEvent(store, event, allowPrivate);
}

async function replayEvent(store: Store, event: OutboxRow, allowPrivate: boolean): Promise<OutboxRow> {
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
