/**
 * Byte sizes as people write them, one way for every flag and message: `20MB`, `500kB`,
 * `50MiB`, `1.5GB`, a bare number is bytes (decimal units are powers of 1000, binary ones
 * of 1024). `sizeText` writes a limit back in the shortest exact form the flags accept, so
 * a message's `50MiB` can be pasted into `--max-input-bytes`.
 */

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  ki: 1024,
  kib: 1024,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
};

/** The forms every size flag's help names. */
export const SIZE_FORMS = 'a size: 20MB, 500kB, 50MiB; a bare number is bytes';

/** Bytes of `text` (`20MB`, `50MiB`, `1048576`), undefined when it is not a size. */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const factor = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  return match && factor !== undefined ? Math.round(Number(match[1]) * factor) : undefined;
}

/** 52428800 → `50MiB`, 20000000 → `20MB`, 1500 → `1500B`: the shortest exact form. */
export function sizeText(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['GB', 1e9],
    ['MiB', 1024 ** 2],
    ['MB', 1e6],
    ['KiB', 1024],
    ['kB', 1e3],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}
