/**
 * Option values for watching runs, light to import (the CLI's flag declarations load
 * this at start-up, before any command runs): log levels, alert rules and their
 * defaults, and the alert webhook URL check.
 */
import { VisionpipeError } from '../errors.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface AlertRules {
  /** Fire below this success rate, 0–1 (default 0.95). */
  minSuccessRate: number;
  /** Fire above this p95 latency, ms (default 15 000). */
  maxP95Ms: number;
  /** The sliding window, ms (default 300 000). */
  windowMs: number;
  /** Attempted images needed in the window before rates count (default 10). */
  minSamples: number;
  /** At most one message per condition per this, ms (default 300 000). */
  intervalMs: number;
  /** USD budget, when there is one. */
  budgetUsd?: number;
  /** Warn when the projected cost reaches this share of the budget (default 0.8). */
  budgetWarnFraction: number;
}

export const ALERT_DEFAULTS: AlertRules = {
  minSuccessRate: 0.95,
  maxP95Ms: 15_000,
  windowMs: 300_000,
  minSamples: 10,
  intervalMs: 300_000,
  budgetWarnFraction: 0.8,
};

/** Checks a webhook URL (http or https); a typed error names the flag and the value. */
export function parseAlertWebhook(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new VisionpipeError('INVALID_OPTION', `--alert-webhook "${value}" is not a URL`, {
      option: 'alertWebhook',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new VisionpipeError('INVALID_OPTION', `--alert-webhook "${value}" must be http(s)`, {
      option: 'alertWebhook',
    });
  return url.toString();
}
