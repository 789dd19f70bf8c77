/**
 * ImgGo's API key scopes. A key holds a list; `admin:all` holds every scope and
 * `area:*` every scope of that area (`webhooks:*`).
 */
import { VisionpipeError } from '../errors.js';

export const SCOPES = {
  'patterns:read': 'list and read patterns and their versions',
  'patterns:write': 'create and change patterns, publish and switch versions',
  'patterns:ingest': 'submit images',
  'patterns:delete': 'delete patterns',
  'jobs:read': 'read jobs and their results',
  'webhooks:read': 'list webhooks and deliveries',
  'webhooks:write': 'register webhooks, replay deliveries',
  'webhooks:delete': 'delete webhooks',
  'admin:all': 'everything',
} as const;

export type Scope = keyof typeof SCOPES;

/** What `keys create` grants when no --scopes is given: ImgGo's defaults. */
export const DEFAULT_SCOPES: Scope[] = ['patterns:read', 'patterns:ingest', 'jobs:read'];

export function hasScope(granted: readonly string[], required: Scope): boolean {
  const area = required.split(':')[0];
  return granted.some((scope) => scope === required || scope === 'admin:all' || scope === `${area}:*`);
}

/**
 * `patterns:read,jobs:read` (commas or spaces) → the scopes, each known or an `area:*`
 * of a known area. Throws INVALID_OPTION naming the unknown one.
 */
export function parseScopes(text: string): string[] {
  const scopes = [...new Set(text.split(/[\s,]+/).filter(Boolean))];
  const areas = new Set(Object.keys(SCOPES).map((s) => s.split(':')[0]));
  for (const scope of scopes) {
    const wildcard = scope.endsWith(':*') && areas.has(scope.slice(0, -2));
    if (!(scope in SCOPES) && !wildcard) {
      throw new VisionpipeError(
        'INVALID_OPTION',
        `--scopes: "${scope}" is not a scope; choose from ${Object.keys(SCOPES).join(', ')} (or area:*)`,
        { option: 'scopes' },
      );
    }
  }
  if (scopes.length === 0)
    throw new VisionpipeError('INVALID_OPTION', '--scopes: give at least one scope', { option: 'scopes' });
  return scopes;
}
