/**
 * The string formats a normalised schema may carry, checked by ajv. Written here rather
 * than pulling in ajv-formats: ten small checks (the set OpenAI's and Anthropic's
 * structured outputs name, see request-schema.ts). `date-time` accepts a missing UTC
 * offset and a space for `T`: photos of receipts and parking tickets show local times,
 * and a model cannot invent the timezone.
 */
import { isIPv4, isIPv6 } from 'node:net';
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

/** ISO 8601 duration as RFC 3339 appendix A writes it: `P3D`, `PT1H30M`, `P2W`. */
export function isDuration(value: string): boolean {
  return /^P(?!$)((\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?|(\d+W)?)$/.test(value);
}

/** An RFC 1123 host name: labels of letters, digits and inner hyphens, 253 characters at most. */
export function isHostname(value: string): boolean {
  return /^(?=.{1,253}\.?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[-0-9a-z]{0,61}[0-9a-z])?)*\.?$/i.test(
    value,
  );
}

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

/** Human descriptions used in validation messages. */
export const FORMAT_DESCRIPTIONS: Record<string, string> = {
  date: 'a date (YYYY-MM-DD)',
  'date-time': 'a date and time (YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM])',
  time: 'a time (HH:MM[:SS])',
  email: 'an email address',
  uri: 'a URI with a scheme (https://…)',
  duration: 'an ISO 8601 duration (P3D, PT1H30M)',
  hostname: 'a host name (example.com)',
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
  uuid: 'a UUID (8-4-4-4-12 hex digits)',
};

export function addFormats(ajv: Ajv): Ajv {
  return ajv
    .addFormat('date', isDate)
    .addFormat('date-time', isDateTime)
    .addFormat('time', isTime)
    .addFormat('email', isEmail)
    .addFormat('uri', isUri)
    .addFormat('duration', isDuration)
    .addFormat('hostname', isHostname)
    .addFormat('ipv4', (value: string) => isIPv4(value))
    .addFormat('ipv6', (value: string) => isIPv6(value))
    .addFormat('uuid', isUuid);
}
