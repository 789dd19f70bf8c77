/**
 * The names of the limiter zoo's shapes (zoo.ts), on their own so the CLI can list them
 * in --help without loading the simulator.
 */
export const LIMITER_SHAPES = [
  'token-bucket',
  'fixed-window',
  'sliding-log',
  'concurrency',
  'concurrency-529',
  'no-headers',
  'lying-headers',
  'retry-after-date',
  'retry-info',
  'queue-503',
  'leaky-bucket',
] as const;

export type LimiterShape = (typeof LIMITER_SHAPES)[number];
