/**
 * Sends alerts to webhooks (`--alert-webhook URL`, repeatable): one JSON POST per alert
 * and URL, in order, each with a 5 s timeout and up to 3 tries. The body works for Slack
 * incoming webhooks (and Slack-compatible ones: Mattermost, Discord's /slack) through
 * `text`, and for generic receivers through the other fields; hooks.slack.com URLs get
 * `text` alone, as Slack asks. A receiver that fails never stops the run: the failure
 * is reported through `onError`.
 */

import { undici } from '../on-first-use.js';
import type { Alert } from './alerts.js';

export interface AlertPayload {
  text: string;
  source: 'visionpipe';
  condition: string;
  state: 'firing' | 'resolved';
  message: string;
  value: number;
  threshold: number;
  /** ISO 8601. */
  at: string;
  /** What is alerting: e.g. the run's results file or the service URL. */
  subject?: string;
}

export function alertPayload(alert: Alert, subject?: string): AlertPayload {
  const icon = alert.state === 'firing' ? ':rotating_light:' : ':white_check_mark:';
  const what = alert.state === 'firing' ? 'FIRING' : 'RESOLVED';
  return {
    text: `${icon} visionpipe ${what} ${alert.condition}: ${alert.message}${subject ? ` (${subject})` : ''}`,
    source: 'visionpipe',
    condition: alert.condition,
    state: alert.state,
    message: alert.message,
    value: alert.value,
    threshold: alert.threshold,
    at: new Date(alert.at).toISOString(),
    ...(subject ? { subject } : {}),
  };
}

function isSlack(url: string): boolean {
  return new URL(url).hostname === 'hooks.slack.com';
}

export { parseAlertWebhook } from './options.js';

export class AlertSender {
  private chain: Promise<void> = Promise.resolve();

  /** The receivers, each once: a URL given twice (flag and config file) gets one POST per alert. */
  private readonly urls: readonly string[];

  constructor(
    urls: readonly string[],
    private readonly options: {
      subject?: string;
      onError?: (message: string) => void;
      timeoutMs?: number;
    } = {},
  ) {
    this.urls = [...new Set(urls.map((url) => new URL(url).href))];
  }

  send(alert: Alert): void {
    const payload = alertPayload(alert, this.options.subject);
    this.chain = this.chain.then(() =>
      Promise.all(this.urls.map((url) => this.post(url, payload))).then(() => {}),
    );
  }

  /** Resolves when everything sent so far was delivered or given up. */
  flush(): Promise<void> {
    return this.chain;
  }

  private async post(url: string, payload: AlertPayload): Promise<void> {
    const body = JSON.stringify(isSlack(url) ? { text: payload.text } : payload);
    let last = '';
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const response = await undici().request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'visionpipe-alerts' },
          body,
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
        });
        await response.body.dump();
        if (response.statusCode < 300) return;
        last = `HTTP ${response.statusCode}`;
        if (response.statusCode < 500 && response.statusCode !== 429) break;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
    const { origin } = new URL(url); // never the path: webhook paths are secrets (Slack's are)
    this.options.onError?.(`alert ${payload.condition} ${payload.state} not delivered to ${origin}: ${last}`);
  }
}
