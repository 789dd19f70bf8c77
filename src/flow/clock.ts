/** Epoch milliseconds from the monotonic clock: immune to wall-clock steps (NTP), comparable to Date.now(). */
export const monotonicNow = (): number => performance.timeOrigin + performance.now();
