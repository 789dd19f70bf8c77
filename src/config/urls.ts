/** Service URLs from flags, env or the config file: checked at start-up, shown without passwords. */
import { VisionpipeError } from '../errors.js';

/** The URL without its password, for messages and logs. */
export function redactCredentials(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

export interface UrlSetting {
  /** The option it comes from, e.g. `databaseUrl`. */
  option: string;
  /** How to name it in messages, e.g. `database URL`. */
  what: string;
  /** The environment variable and flag that set it, e.g. `DATABASE_URL or --database-url`. */
  setBy: string;
  protocols: readonly string[];
  /** The URL's form, e.g. `postgres://user@host:port/database`. */
  form: string;
}

/** Returns the URL, or throws INVALID_OPTION naming the setting when it is missing or of the wrong form. */
export function checkUrl(url: string | undefined, setting: UrlSetting): string {
  let parsed: URL | undefined;
  try {
    parsed = url ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (url && parsed && setting.protocols.includes(parsed.protocol)) return url;
  throw new VisionpipeError(
    'INVALID_OPTION',
    url
      ? `${setting.what} "${redactCredentials(url)}" is not a ${setting.form} URL`
      : `no ${setting.what}: set ${setting.setBy} (${setting.form})`,
    { option: setting.option },
  );
}

/** DATABASE_URL: throws INVALID_OPTION naming it when missing or not a postgres:// URL. */
export function checkDatabaseUrl(url: string | undefined): string {
  return checkUrl(url, {
    option: 'databaseUrl',
    what: 'database URL',
    setBy: 'DATABASE_URL or --database-url',
    protocols: ['postgres:', 'postgresql:'],
    form: 'postgres://user@host:port/database',
  });
}

/** REDIS_URL: throws INVALID_OPTION naming it when missing or not a redis:// URL. */
export function checkRedisUrl(url: string | undefined): string {
  return checkUrl(url, {
    option: 'redisUrl',
    what: 'Redis URL',
    setBy: 'REDIS_URL or --redis-url',
    protocols: ['redis:', 'rediss:'],
    form: 'redis://host:port[/db]',
  });
}
