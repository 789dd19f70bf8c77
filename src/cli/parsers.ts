/** Flag value parsers: commander reports their errors naming the flag, and exits with code 2. */
import { InvalidArgumentError, Option } from 'commander';
import { didYouMean } from '../config/did-you-mean.js';
import { parseSize, SIZE_FORMS, sizeText } from '../config/sizes.js';

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

/** Byte sizes like `50MB`, `500k`, `50MiB`, `1048576` (config/sizes.ts). */
export function byteSize(value: string): number {
  const bytes = parseSize(value);
  if (bytes === undefined) throw new InvalidArgumentError(`expected ${SIZE_FORMS}, got "${value}".`);
  return bytes;
}

/** A `--flag <size>` option whose help names the accepted forms and shows the default as a size (`50MiB`). */
export function sizeOption(flags: string, description: string, defaultBytes: number): Option {
  return new Option(`${flags} <size>`, `${description} (${SIZE_FORMS})`)
    .argParser(byteSize)
    .default(defaultBytes, sizeText(defaultBytes));
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
