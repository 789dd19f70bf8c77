/**
 * The string formats a normalised schema may carry, checked by ajv. Written here rather
 * than pulling in ajv-formats: five small checks. `date-time` accepts a missing UTC
 * offset and a space for `T`: photos of receipts and parking tickets show local times,
 * and a model cannot invent the timezone.
 */
import type { Ajv } from 'ajv';

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_RE =
  /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d|60)(?:\.\d+)?)?(?:z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?$/i;

export function isDate(value: string): boolean {
  const match = DATE_RE.exec(value);
  if (!match) return false;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return day <= days;
}

export function isTime(value: string): boolean {
  return TIME_RE.test(value);
}

export function isDateTime(value: string): boolean {
  const match = /^(\d{4}-\d{2}-\d{2})[T ](.+)$/i.exec(value);
  return match !== null && isDate(match[1]!) && isTime(match[2]!);
}

export function isEmail(value: string): boolean {
  return /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/.test(value);
}

export function isUri(value: string): boolean {
  if (!/^[a-z][a-z\d+.-]*:\S+$/i.test(value)) return false;
  return URL.canParse(value);
}

/** Human descriptions used in validation messages. */
export const FORMAT_DESCRIPTIONS: Record<string, string> = {
  date: 'a date (YYYY-MM-DD)',
  'date-time': 'a date and time (YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM])',
  time: 'a time (HH:MM[:SS])',
  email: 'an email address',
  uri: 'a URI with a scheme (https://…)',
};

export function addFormats(ajv: Ajv): Ajv {
  return ajv
    .addFormat('date', isDate)
    .addFormat('date-time', isDateTime)
    .addFormat('time', isTime)
    .addFormat('email', isEmail)
    .addFormat('uri', isUri);
}
