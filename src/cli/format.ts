/** Human-readable figures for terminal output. */
import { redactSecrets } from '../secrets.js';

// One byte formatter for the terminal and the HTML report.
export { formatBytes } from '../report/units.js';

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

export function formatRate(perSecond: number): string {
  return perSecond >= 10 ? perSecond.toFixed(0) : perSecond.toFixed(1);
}

export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** Left-pads or truncates to a fixed width so streamed rows line up without buffering. */
export function fixedWidth(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const shown = redactSecrets(text); // cut after redaction, never before (secrets.ts redactedPrefix)
  if (shown.length > width) return `${shown.slice(0, width - 1)}…`;
  return align === 'left' ? shown.padEnd(width) : shown.padStart(width);
}
