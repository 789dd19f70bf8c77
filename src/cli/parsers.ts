/** Flag value parsers: commander reports their errors naming the flag, and exits with code 2. */
import { InvalidArgumentError } from 'commander';
import { didYouMean } from '../config/did-you-mean.js';

export function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim()))
      throw new InvalidArgumentError(`expected a whole number, got "${value}".`);
    const parsed = Number(value);
    if (parsed < min || parsed > max) {
      throw new InvalidArgumentError(
        max === Number.MAX_SAFE_INTEGER ? `must be at least ${min}.` : `must be between ${min} and ${max}.`,
      );
    }
    return parsed;
  };
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9 };

/** Byte sizes like `50MB`, `500k`, `1048576`. */
export function byteSize(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const factor = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || factor === undefined)
    throw new InvalidArgumentError(`expected a size like 50MB, got "${value}".`);
  return Math.round(Number(match[1]) * factor);
}

/** Pixel counts like `100MP`, `24000000`. */
export function pixelCount(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(mp)?$/i.exec(value.trim());
  if (!match) throw new InvalidArgumentError(`expected pixels like 100MP or 24000000, got "${value}".`);
  return Math.round(Number(match[1]) * (match[2] ? 1e6 : 1));
}

export function oneOf<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(
        `expected one of ${choices.join(', ')}, got "${value}".${didYouMean(value, choices)}`,
      );
    }
    return value as T;
  };
}
