/**
 * Go-style duration strings as OpenAI sends them in `x-ratelimit-reset-*`: `12ms`,
 * `1s`, `17.28s`, `6m0s`, `1m30s`, `2h3m4.5s`, also `us`/`µs`/`ns` and `d`. A bare
 * number is seconds.
 */

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const PART = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)/y;

/** Milliseconds, or undefined when the string is not a duration. */
export function parseDuration(text: string): number | undefined {
  const value = text.trim();
  if (value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (;;) {
    const match = PART.exec(value);
    if (match === null) break;
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
    consumed = PART.lastIndex;
  }
  return consumed === value.length ? total : undefined;
}
