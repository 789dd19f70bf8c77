/** Byte counts as people read them, shared by the HTML report and the terminal output. */

/**
 * Bytes in decimal units (1 kB = 1000 B): "512 B", "48.2 kB", "312 MB" (whole numbers from
 * 100 up, one decimal below).
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

/** USD to the micro-dollar, as the run summary rounds it: no 0.30000000000000004 in a figure. */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
