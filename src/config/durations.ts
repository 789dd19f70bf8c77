/** Durations as people write them: `24h`, `7d`, `90m`, `30s`, `1500ms`, or plain milliseconds. */
import { VisionpipeError } from '../errors.js';

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

export function parseDuration(text: string, option = 'duration'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/i.exec(text);
  if (!match) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `${option} "${text}" is not a duration (e.g. 30s, 90m, 24h, 7d)`,
      {
        option,
      },
    );
  }
  return Math.round(Number(match[1]) * UNITS[(match[2] ?? 'ms').toLowerCase()]!);
}
