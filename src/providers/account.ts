/**
 * The name of one provider account: what a shared (Redis) limiter is kept under, so runs and
 * workers against different servers or API keys never share a budget or what their adaptive
 * flows learned (trial 10c: under one name per provider, a 3/s server's refusals held a run
 * against a 20/s server at 2-8 requests/s), while every process on the same account does.
 */
import { createHash } from 'node:crypto';
import { API_KEY_ENV } from './ids.js';

/** What identifies an account: the provider id, its endpoint and its API key. */
export interface AccountParts {
  /** Provider id (`openai`, `anthropic`, …). */
  provider: string;
  /** The base URL calls go to; only its host[:port] counts. Absent: the provider's default. */
  baseUrl?: string | undefined;
  /** The API key; absent: the provider's environment variable, as the provider itself reads it. */
  apiKey?: string | undefined;
}

/**
 * `<provider>@<host[:port] of baseUrl, or "default">#<first 12 hex digits of the key's
 * SHA-256, or "-" without a key>`. The key itself never leaves the process.
 */
export function providerAccount(parts: AccountParts): string {
  let endpoint = 'default';
  if (parts.baseUrl) {
    try {
      endpoint = new URL(parts.baseUrl).host;
    } catch {
      endpoint = parts.baseUrl;
    }
  }
  const variable = (API_KEY_ENV as Readonly<Record<string, string>>)[parts.provider];
  const key = parts.apiKey ?? (variable === undefined ? undefined : process.env[variable]);
  const fingerprint = key ? createHash('sha256').update(key).digest('hex').slice(0, 12) : '-';
  return `${parts.provider}@${endpoint}#${fingerprint}`;
}
