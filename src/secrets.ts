/**
 * Secrets never reach a message, a record, a cache entry, a log or a summary. Every string
 * visionpipe writes anywhere passes through `redactSecrets` (VisionpipeError messages do so
 * in their constructor; records and cache entries through `redactDeep`), which hides:
 *
 * - every known secret by value: the API keys in the environment (`*_API_KEY`, `*_TOKEN`,
 *   `*_SECRET`, `*_PASSWORD` variables, so an Azure-style 32-hex key is hidden though it has
 *   no recognisable shape) and every key given in code (`registerSecret`, done by each
 *   provider for the key it holds);
 * - anything shaped like a key: `Bearer …`, `Basic …`, OpenAI/Anthropic/OpenRouter `sk-…`,
 *   Google `AIza…`, ImgGo `imggo_live_…`, AWS `AKIA…`, GitHub `ghp_…`, JSON Web Tokens;
 * - header lines that carry credentials (`Authorization:`, `x-api-key:`, `api-key:`,
 *   `x-goog-api-key:`, `Cookie:`), in any case, with `:` or `=`;
 * - URL credentials: `user:password@` (also in a protocol-relative `//user:password@host`)
 *   and secret query parameters (`key`, `api_key`, `token`,
 *   `access_token`, `sig`, `signature`, `X-Amz-Signature`, `X-Goog-Credential`, `password`,
 *   `pwd`, `pass`, `ticket`, `hmac`, `jwt`, CloudFront's `Policy` and `Key-Pair-Id`, session
 *   ids: `PHPSESSID`, `JSESSIONID`, `ASP.NET_SessionId`, `connect.sid`, `sessid`, `sid`,
 *   `session`…; names compared in any case, percent-decoded and without `[]`), in the query
 *   or in the fragment (`#access_token=…`), and Servlet-style path parameters
 *   (`/i.png;jsessionid=…`, `;sessionid=…`, `;sid=…`, and any `;name=value` whose name is
 *   a secret query parameter's).
 *
 * What is hidden becomes `[redacted]`; the rest of the text is left as it was.
 */

export const REDACTED = '[redacted]';

/** Shortest value treated as a secret by value: shorter "keys" (placeholders like "x") would hide words. */
export const MIN_SECRET_LENGTH = 8;

const KEY_SHAPES: readonly RegExp[] = [
  /\b(?:Bearer|Basic)\s+[^\s"',;]+/gi,
  /\b(?:sk|rk|pk)-[A-Za-z0-9_*-]{4,}/g, // OpenAI (sk-proj-…), Anthropic (sk-ant-…), OpenRouter (sk-or-…)
  /\bAIza[0-9A-Za-z_-]{10,}/g, // Google API keys
  /\bimggo_(?:live|test)_[A-Za-z0-9_*-]+/g,
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, // AWS access key ids
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g, // GitHub tokens
  /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/g, // JSON Web Tokens
];

/** `Authorization: …`, `"x-api-key": "…"`, `api-key=…`: the value after the header name. */
const CREDENTIAL_HEADER =
  /((?:proxy-)?authorization|x-api-key|api-key|x-goog-api-key|cookie|set-cookie)("?\s*[:=]\s*"?)([^"\r\n,;]+)/gi;

/** Query parameters whose value is a credential (lower case; compared case-insensitively). */
export const SECRET_QUERY_PARAMETERS: ReadonlySet<string> = new Set([
  'key',
  'api_key',
  'apikey',
  'api-key',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'auth',
  'password',
  'passwd',
  'secret',
  'client_secret',
  'sig',
  'signature',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
  'x-goog-signature',
  'x-goog-credential',
  'code',
  'pass',
  'pwd',
  // Session ids: a session is a login, whoever holds its id holds the account.
  'phpsessid',
  'jsessionid',
  'asp.net_sessionid',
  'aspsessionid',
  'connect.sid',
  'sessid',
  'sid',
  'session',
  'sessionid',
  'session_id',
]);

/**
 * Names that hold a credential whatever their prefix: `private_token`, `auth_token`,
 * `access_key`, `secret_key`, `sessionid`, `X-Amz-Security-Token`, `db_pwd`,
 * `service_ticket`, `x-hmac`, `jwt`… (lower case, after `SECRET_QUERY_PARAMETERS`): a word
 * ending in token, secret, password/passwd/pwd, credential, signature, ticket, hmac, jwt
 * or policy (CloudFront's signed `Policy`), a `…key` after api/access/secret/private/auth/
 * session, a key pair id (CloudFront's `Key-Pair-Id`), or a session id.
 */
const SECRET_QUERY_NAME =
  /(?:token|secret|passw(?:or)?d|pwd|credentials?|signature|ticket|hmac|jwt|policy|key[_.-]?pair[_.-]?id|(?:api|access|secret|private|auth|session)[_.-]?key|^session(?:[_.-]?id)?|^sid)$/;

/**
 * A parameter name as compared: percent-decoded, lower case, without surrounding spaces and
 * without PHP's array suffix (`token[]`, `token%5B%5D`, `token[0]`).
 */
export function normaliseParameterName(name: string): string {
  return decodeName(name)
    .trim()
    .replace(/(?:\[[^\]]*\])+$/, '')
    .trim()
    .toLowerCase();
}

/**
 * Whether a query parameter holds a credential: its name, in any case, percent-encoded or not,
 * with or without `[]`, is a secret name (`PHPSESSID`, `ASP.NET_SessionId`, `connect.sid`,
 * `pass`, `token[]`, `token%20`…).
 */
export function isSecretQueryParameter(name: string): boolean {
  const lower = normaliseParameterName(name);
  return SECRET_QUERY_PARAMETERS.has(lower) || SECRET_QUERY_NAME.test(lower);
}

/** Session ids carried as path parameters (`;jsessionid=…`, PHP's `;PHPSESSID=…`, `;sid=…`), lower case. */
const SESSION_PATH_PARAMETERS: ReadonlySet<string> = new Set([
  'jsessionid',
  'phpsessid',
  'aspsessionid',
  'sessionid',
  'session_id',
  'sid',
]);

/** Whether a `;name=value` path parameter (its decoded name, any case) holds a credential. */
export function isSecretPathParameter(name: string): boolean {
  return SESSION_PATH_PARAMETERS.has(normaliseParameterName(name)) || isSecretQueryParameter(name);
}

/** `;name=value` in a URL path (Servlet-style path parameters), anywhere in a text. */
const PATH_PARAMETER = /(;)([^=;/?#&\s"']+)=([^;/?#&\s"']*)/g;

/** `scheme://user:password@` anywhere in a text. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"']*@/gi;
/**
 * `//user:password@host` without a scheme (a protocol-relative URL) at the start of a text or
 * after a space, quote, bracket or `=`.
 */
const PROTOCOL_RELATIVE_USERINFO = /(^|[\s"'(<=[])(\/\/)[^\s/?#@"']+@/g;
/**
 * `?name=value` / `&name=value` anywhere in a text, and `#name=value`: a fragment's
 * parameters (`#access_token=…`, OAuth's implicit flow) are read like the query's.
 */
const QUERY_PARAMETER = /([?&#])([^=&\s"'#]+)=([^&\s"'#]*)/g;

const ENV_SECRET_NAME = /(?:API_KEY|APIKEY|TOKEN|SECRET|PASSWORD)$/i;

const registered = new Set<string>();

/** Adds a secret held in code (a key given as an option, not in the environment) to what is hidden. */
export function registerSecret(secret: string | undefined): void {
  if (secret !== undefined && secret.length >= MIN_SECRET_LENGTH) registered.add(secret);
}

/**
 * How long the list of secret-named environment variables is reused, in ms. Listing
 * `process.env` costs ~50–150 µs (every name crosses into C++), and every string written
 * anywhere is redacted, so a record paid that many times over. The *values* of the listed
 * names are still read on every call (a few µs), so a key changed in place is hidden at
 * once; a variable added later is found within this interval, or at once after
 * `rescanEnvironmentSecrets()`. A key handed to a provider is registered when it is given.
 */
export const ENV_RESCAN_MS = 1000;

let envNames: { listedAt: number; names: string[] } | undefined;
let memo: { registeredSize: number; values: string; result: string[] } | undefined;

/** Forgets the listed environment names: the next redaction lists `process.env` again. */
export function rescanEnvironmentSecrets(): void {
  envNames = undefined;
}

function secretNames(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env).filter((name) => ENV_SECRET_NAME.test(name));
}

/**
 * Every secret known by value: registered ones and the environment's keys, tokens and
 * passwords, longest first. `env` other than `process.env` is read whole on each call.
 */
export function knownSecrets(env: NodeJS.ProcessEnv = process.env): string[] {
  let names: string[];
  if (env === process.env) {
    const now = Date.now();
    if (envNames === undefined || now - envNames.listedAt > ENV_RESCAN_MS)
      envNames = { listedAt: now, names: secretNames(env) };
    names = envNames.names;
  } else names = secretNames(env);
  const values: string[] = [];
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value.length >= MIN_SECRET_LENGTH) values.push(value);
  }
  const key = values.join('\u0000');
  if (env === process.env && memo?.registeredSize === registered.size && memo.values === key)
    return memo.result;
  // Longest first: a key that contains another is hidden whole.
  const result = [...new Set([...registered, ...values])].sort((a, b) => b.length - a.length);
  if (env === process.env) memo = { registeredSize: registered.size, values: key, result };
  return result;
}

/** `text` with every known and given secret and anything shaped like one replaced by `[redacted]`. */
export function redactSecrets(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
  return redactWith(text, withKnown(secrets));
}

/**
 * The first `max` characters of `text` after redaction, with `ellipsis` appended when it was
 * longer. Every cut of someone else's text (an error body, a model's answer, a value shown in
 * a message) goes through here: redacting after a cut would leave most of a key that straddles
 * it (a 32-hex key cut after 30 characters no longer matches the key it was).
 */
export function redactedPrefix(
  text: string,
  max: number,
  { secrets = [], ellipsis = '' }: { secrets?: ReadonlyArray<string | undefined>; ellipsis?: string } = {},
): string {
  const clean = redactSecrets(text, secrets);
  return clean.length > max ? `${clean.slice(0, max)}${ellipsis}` : clean;
}

function withKnown(secrets: ReadonlyArray<string | undefined>): readonly string[] {
  const given = secrets.filter((s): s is string => s !== undefined && s.length >= MIN_SECRET_LENGTH);
  if (given.length === 0) return knownSecrets();
  return [...given, ...knownSecrets()].sort((a, b) => b.length - a.length);
}

function redactWith(text: string, all: readonly string[]): string {
  let out = text;
  for (const secret of all) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  for (const shape of KEY_SHAPES) out = out.replace(shape, REDACTED);
  out = out.replace(
    CREDENTIAL_HEADER,
    (_match, name: string, separator: string) => `${name}${separator}${REDACTED}`,
  );
  out = out.replace(URL_USERINFO, (_match, scheme: string) => `${scheme}${REDACTED}@`);
  out = out.replace(
    PROTOCOL_RELATIVE_USERINFO,
    (_match, lead: string, slashes: string) => `${lead}${slashes}${REDACTED}@`,
  );
  out = out.replace(QUERY_PARAMETER, (match, lead: string, name: string, value: string) => {
    if (!isSecretQueryParameter(name)) return match;
    // Already redacted (a label inside a message): what follows it is text, kept as it was.
    const after = value.startsWith(REDACTED) ? value.slice(REDACTED.length) : '';
    return `${lead}${name}=${REDACTED}${after}`;
  });
  out = out.replace(PATH_PARAMETER, (match, lead: string, name: string, value: string) => {
    if (!isSecretPathParameter(name)) return match;
    const after = value.startsWith(REDACTED) ? value.slice(REDACTED.length) : '';
    return `${lead}${name}=${REDACTED}${after}`;
  });
  return out;
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/**
 * A URL as it may be stored or shown: userinfo and secret query parameters hidden (and any
 * known secret elsewhere in it). Text that is not a URL is redacted as text.
 */
export function redactUrl(url: string): string {
  return redactSecrets(url);
}

/**
 * Whether a URL carries credentials (userinfo, a secret query or fragment parameter, or a
 * session id or secret as a `;name=value` path parameter): such a URL is never forwarded.
 */
export function urlHasCredentials(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.username !== '' || parsed.password !== '') return true;
  for (const segment of parsed.pathname.split('/'))
    for (const parameter of segment.split(';').slice(1)) {
      const equals = parameter.indexOf('=');
      if (equals > 0 && isSecretPathParameter(parameter.slice(0, equals))) return true;
    }
  for (const name of parsed.searchParams.keys()) if (isSecretQueryParameter(name)) return true;
  // A fragment's parameters (`#access_token=…`, or `#/cb?token=…`) count like the query's.
  const fragment = parsed.hash.slice(1);
  for (const part of fragment.split('?'))
    for (const name of new URLSearchParams(part).keys()) if (isSecretQueryParameter(name)) return true;
  return false;
}

/**
 * A JSON value with every string in it (keys too) redacted: what records and cache entries
 * go through before they are written. Values without a secret come back unchanged (the
 * same object), so the common case costs one scan.
 */
export function redactDeep<T>(value: T, secrets: ReadonlyArray<string | undefined> = []): T {
  return walk(value, withKnown(secrets)) as T;
}

function walk(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') return redactWith(value, secrets);
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item) => {
      const next = walk(item, secrets);
      if (next !== item) changed = true;
      return next;
    });
    return changed ? out : value;
  }
  if (value !== null && typeof value === 'object') {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const name = redactWith(key, secrets);
      const next = walk(item, secrets);
      if (next !== item || name !== key) changed = true;
      out[name] = next;
    }
    return changed ? out : value;
  }
  return value;
}
