/**
 * A config file nobody named. `visionpipe.config.yaml` found in the working folder is
 * convenient for a team, and a trap in a folder someone else prepared (a cloned repo, a
 * shared drive): it could switch the provider and point it at any server, which would then
 * receive the API key from the environment and every image, or point the cache, the limiter,
 * the database, alerts or /metrics at a host that collects what visionpipe stores there
 * (results, cache keys, counters). So a config found implicitly
 *
 * - is announced on stderr before anything runs: the file, the provider, the endpoint, and
 *   the shared stores (cache, limiter, database, Redis) it points at, a `route` (whose rules
 *   replace -p and --model), and every setting that changes what is sent or paid (`model`,
 *   `maxCostUsd`, `maxAttempts`, `detail`, `concurrency`) the command line did not give;
 * - may not send data off this machine with a setting the command line did not confirm:
 *   an endpoint (`baseUrl` or a `modelProfiles` entry's, any host: the key goes there), or a
 *   Redis, PostgreSQL or webhook address, or a /metrics or service (`host`) listen address,
 *   that is not loopback. A setting is confirmed when the file is
 *   named (`--config FILE`, or `VISIONPIPE_CONFIG=FILE` in the environment) or the same
 *   setting is given by a flag or its environment variable (`--base-url`, `--cache`,
 *   `REDIS_URL`…), which then wins over the file's. Otherwise the command stops with
 *   INVALID_OPTION naming the file, the setting and the fix, before anything leaves;
 * - may not turn a run the command line left local (no `--provider`) into a cloud one: its
 *   `provider`, `triage`, `escalateTo` and the rules of the `route` file it names may only
 *   choose `local`, unless confirmed the same way (`--provider`, `--triage`, `--escalate-to`,
 *   `--route`, or the file named). `estimate` sends nothing and is exempt from this one.
 *
 * Prices are not a destination, but they steer the `--max-cost-usd` guard and every cost
 * figure: a planted `prices: {openai: {models: {gpt-4o: {input: 0, output: 0}}}}` would make
 * every call free, so the budget never trips. An implicit config's prices are therefore used
 * only where they cannot make any call cost less than the built-in table says (a model's
 * entry at or above the built-in input, output or per-image price, in the same pricing mode;
 * a batch discount at or below the built-in one). An entry that would lower a price, price
 * a model the built-in table does not know (its cost stays unknown, not a planted figure) or
 * make a known price unknown is not used, and is announced as such with the fix (name the
 * file). Entries that are used are announced too.
 *
 * A config named with `--config` is the user's own choice and is used silently, as before.
 */
import { parse as parseConnectionString } from 'pg-connection-string';
import { VisionpipeError } from '../errors.js';
import {
  defaultPriceTable,
  type ModelPrice,
  modelPrice,
  type PriceOverrides,
  parsePriceOverrides,
} from '../providers/pricing.js';
import { isLoopback } from '../providers/remote.js';
import { redactUrl } from '../secrets.js';
import type { VisionpipeConfig } from './file.js';

/** How a setting's value names a host: a URL, a store spec (`sqlite`, `redis://…`), a bare address. */
type HostForm = 'endpoint' | 'url' | 'store' | 'address';

/**
 * Settings of an implicit config that send data somewhere (each is announced), and how their
 * value names a host. `logFile`, `stateDir` and `publicUrl` stay on this machine or only
 * describe it: announced, never refused; `route` is checked by the providers its rules choose.
 */
const DESTINATIONS: ReadonlyArray<readonly [keyof VisionpipeConfig, HostForm | undefined]> = [
  ['baseUrl', 'endpoint'],
  ['cache', 'store'],
  ['limiter', 'store'],
  ['databaseUrl', 'url'],
  ['redisUrl', 'url'],
  ['publicUrl', undefined],
  ['route', undefined],
  // Where alerts are posted, which address serves /metrics, and where files are written.
  ['alertWebhook', 'url'],
  ['metricsHost', 'address'],
  // serve/worker: the address the service listens on (0.0.0.0 opens the API to the network).
  ['host', 'address'],
  ['logFile', undefined],
  ['stateDir', undefined],
];

/**
 * Settings of an implicit config that change what is sent or paid (issue 12): each one the
 * command line does not give is announced with its value, so a found file cannot quietly
 * pick another model, raise the spending cap or the attempts, or send larger images.
 */
const SPENDING: ReadonlyArray<keyof VisionpipeConfig> = [
  'model',
  'maxCostUsd',
  'maxAttempts',
  'detail',
  'concurrency',
];

/** Settings only the service commands have; another command ignores them. */
const SERVICE_ONLY: ReadonlySet<keyof VisionpipeConfig> = new Set(['host', 'modelProfiles']);

export interface ImplicitConfigCheck {
  /** The config in force and the file it came from. */
  config: VisionpipeConfig;
  file: string;
  /** The --base-url given on the command line, when one was. */
  baseUrlFlag: string | undefined;
  /** The provider the command line chose (`undefined` when left at its default). */
  providerFlag: string | undefined;
  /**
   * Whether the command line or the environment gave this setting (`--cache`, `REDIS_URL`…):
   * the file's value is then not used. Default: none was given.
   */
  given?: (key: keyof VisionpipeConfig) => boolean;
  /**
   * Whether the command has this setting at all (`host` and `modelProfiles` belong to
   * serve/worker: a `run` ignores them, so they do not stop it). Default: every setting.
   */
  uses?: (key: keyof VisionpipeConfig) => boolean;
  /**
   * Whether the command sends images to a provider (`run`, `bench`, `worker`; not
   * `estimate`, which only counts). Default: it does.
   */
  sends?: boolean;
  /**
   * The providers the file's `route` rules choose (read from the routes file it names), when
   * the file sets `route` and the command line did not give `--route`. Default: none.
   */
  routeProviders?: readonly string[];
}

/**
 * The host a setting sends data to, or `undefined` when it stays on this machine (a
 * loopback address, a Unix socket, a local store such as `sqlite`). A value that does not
 * parse is returned whole: it is not known to be local.
 */
export function remoteHostOf(form: HostForm, value: string): string | undefined {
  const text = value.trim();
  if (form === 'store' && !/^rediss?:/i.test(text)) return undefined;
  if (form === 'address') return isLocal(text) ? undefined : text;
  let url: URL;
  try {
    // An empty host (postgres://user@/db, a Unix socket) is this machine.
    url = new URL(text.replace(/^([a-z][a-z0-9+.-]*:\/\/(?:[^/@]*@)?)(?=[/?]|$)/i, '$1localhost'));
  } catch {
    return redactUrl(text);
  }
  // Clients read query hosts differently (node-postgres: the last `host=` overrides the
  // authority; ioredis: the authority wins, a query `host` fills in when it is empty), so
  // every host the URL names must be local, and a host given twice is not trusted at all.
  const queryHosts = ['host', 'hostaddr'].flatMap((key) => url.searchParams.getAll(key));
  if (['host', 'hostaddr'].some((key) => url.searchParams.getAll(key).length > 1))
    return `${queryHosts.join(', ')} (host given more than once)`;
  const candidates = [url.hostname, ...queryHosts];
  if (/^(postgres(ql)?|socket):/i.test(text)) candidates.push(postgresHost(text));
  // libpq lists several hosts with commas; a path (`/run/postgresql`) is a Unix socket.
  const remote = candidates
    .flatMap((host) => host.split(','))
    .map((host) => host.trim())
    .find((host) => host !== '' && !host.startsWith('/') && !/^%2f/i.test(host) && !isLocal(host));
  return remote;
}

/** The host node-postgres connects to for this URL, read by its own parser (pg-connection-string). */
function postgresHost(text: string): string {
  try {
    return parseConnectionString(text).host ?? '';
  } catch {
    return redactUrl(text);
  }
}

/** A host name or address (IPv6 with or without brackets) that is this machine's loopback. */
function isLocal(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  try {
    return isLoopback(new URL(`http://${bare.includes(':') ? `[${bare}]` : bare}`));
  } catch {
    return false;
  }
}

/**
 * The announcement line for an implicitly found config; throws INVALID_OPTION naming the
 * file, the setting and the fix when a setting the command line did not confirm would send
 * the key or data off this machine (implicit.ts header).
 */
export function checkImplicitConfig({
  config,
  file,
  baseUrlFlag,
  providerFlag,
  given = () => false,
  uses = () => true,
  sends = true,
  routeProviders = [],
}: ImplicitConfigCheck): string {
  const provider = providerFlag ?? config.provider ?? 'local';
  // A --base-url on the command line wins over the file: the file's endpoint is then not used.
  if (config.baseUrl !== undefined && baseUrlFlag === undefined) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `${file} was found in the working folder and sets the ${provider} endpoint to ${redactUrl(config.baseUrl)}: ` +
        'an API key and images would go there. Name the file to use it (--config FILE or VISIONPIPE_CONFIG=FILE), ' +
        'confirm the endpoint (--base-url URL), or remove baseUrl from it',
      { option: 'config' },
    );
  }
  // serve: a named model profile carries its own endpoint, which receives the workers' key.
  if (uses('modelProfiles') && !given('modelProfiles')) {
    for (const [name, profile] of Object.entries(config.modelProfiles ?? {})) {
      const baseUrl = (profile as { baseUrl?: unknown } | null)?.baseUrl;
      if (typeof baseUrl !== 'string') continue;
      throw new VisionpipeError(
        'INVALID_OPTION',
        `${file} was found in the working folder and sets modelProfiles.${name}.baseUrl to ${redactUrl(baseUrl)}: ` +
          'an API key and images would go there. Name the file to use it (--config FILE or VISIONPIPE_CONFIG=FILE), ' +
          'give the profiles yourself (--model-profiles), or remove baseUrl from it',
        { option: 'config' },
      );
    }
  }
  // A run the command line left local (no --provider, or --provider local) stays local: every
  // setting of the file that would send its images to a cloud provider (the provider itself,
  // triage, escalation, a routing rule) must be confirmed, like an endpoint.
  if (sends && (providerFlag ?? 'local') === 'local')
    refuseCloudSwitch(config, file, given, uses, routeProviders);
  for (const [key, form] of DESTINATIONS) {
    if (form === undefined || form === 'endpoint' || given(key)) continue;
    if (SERVICE_ONLY.has(key) && !uses(key)) continue;
    const value = config[key];
    const values = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
    for (const item of values) {
      const host = remoteHostOf(form, item);
      if (host === undefined) continue;
      throw new VisionpipeError(
        'INVALID_OPTION',
        `${file} was found in the working folder and sets ${key} to ${redactUrl(item)}: ` +
          `${form === 'address' ? 'it would serve data to other machines' : `data would go to ${host}`}, which is not this machine. ` +
          `Name the file to use it (--config FILE or VISIONPIPE_CONFIG=FILE), give ${key} yourself (${flagOf(key)}), ` +
          `or remove ${key} from it`,
        { option: 'config' },
      );
    }
  }
  const parts = [
    `provider ${provider}${providerFlag === undefined && config.provider ? ' (from the file)' : ''}`,
  ];
  parts.push(`endpoint ${baseUrlFlag ? `${redactUrl(baseUrlFlag)} (--base-url)` : 'default'}`);
  // Every provider the run may call: triage and escalation too, not only the main one.
  for (const key of ['triage', 'escalateTo'] as const) {
    const value = config[key];
    if (typeof value === 'string' && !given(key)) parts.push(`${key} ${redactUrl(value)}`);
  }
  for (const [key] of DESTINATIONS) {
    // The command line's value is used instead of the file's, so the file's is not announced.
    if (key === 'baseUrl' || given(key)) continue;
    const value = config[key];
    if (key === 'route' && typeof value === 'string') {
      // A routing rule chooses the pattern and the model, in place of -p and --model.
      parts.push(
        `route ${redactUrl(value)} (its rules choose the pattern and model, replacing -p and --model)`,
      );
      continue;
    }
    if (typeof value === 'string') parts.push(`${key} ${redactUrl(value)}`);
    if (Array.isArray(value)) parts.push(`${key} ${value.map((item) => redactUrl(String(item))).join(' ')}`);
  }
  for (const key of SPENDING) {
    const value = config[key];
    if (value !== undefined && !given(key) && uses(key))
      parts.push(`${key} ${redactUrl(String(value))} (from the file)`);
  }
  if (config.modelProfiles !== undefined && !given('modelProfiles'))
    parts.push(`modelProfiles ${Object.keys(config.modelProfiles).join(' ')}`);
  if (config.prices !== undefined) {
    const { used, ignored } = implicitPrices(config.prices);
    if (used.length > 0) parts.push(`prices ${used.join(' ')} (not below the built-in table)`);
    if (ignored.length > 0)
      parts.push(
        `prices NOT used: ${ignored.join(' ')} (below the built-in table or not in it; --max-cost-usd and cost figures use the built-in prices; name the file with --config to use them)`,
      );
  }
  return `note: using ${file}, found in the working folder (name a file with --config to choose): ${parts.join(', ')}`;
}

/**
 * Throws INVALID_OPTION when the file of a local run names a cloud provider nobody confirmed:
 * `provider`, `triage`, `escalateTo` (`provider:model`), or a rule of the `route` file it names.
 * Each would send the images (and that provider's key) off this machine while the command line
 * asked for the local engine. Confirmed: the same setting given by a flag (`--provider`,
 * `--triage`, `--escalate-to`, `--route`).
 */
function refuseCloudSwitch(
  config: VisionpipeConfig,
  file: string,
  given: (key: keyof VisionpipeConfig) => boolean,
  uses: (key: keyof VisionpipeConfig) => boolean,
  routeProviders: readonly string[],
): void {
  const settings: Array<[keyof VisionpipeConfig, string, string]> = [];
  for (const key of ['provider', 'triage', 'escalateTo'] as const) {
    const value = config[key];
    if (typeof value === 'string') settings.push([key, value, value.split(':')[0]?.trim() ?? '']);
  }
  if (typeof config.route === 'string')
    for (const target of routeProviders)
      settings.push(['route', `${config.route} (a rule uses provider ${target})`, target]);
  for (const [key, value, target] of settings) {
    if (target === 'local' || given(key) || !uses(key)) continue;
    throw new VisionpipeError(
      'INVALID_OPTION',
      `${file} was found in the working folder and sets ${key} to ${redactUrl(value)}: the run is local, but images would go to ${target}. ` +
        `Name the file to use it (--config FILE or VISIONPIPE_CONFIG=FILE), give ${key} yourself (${flagOf(key)}), or remove ${key} from it`,
      { option: 'config' },
    );
  }
}

/** `alertWebhook` → `--alert-webhook`. */
function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/** Whether `merged` can never price a call below `base`: same pricing mode, each figure at or above. */
function notCheaper(base: ModelPrice | undefined, merged: ModelPrice): boolean {
  if (base === undefined) return false;
  const same = (key: keyof ModelPrice) => merged[key] === base[key];
  if (same('perImage') && same('input') && same('output')) return true;
  const atLeast = (key: keyof ModelPrice) => {
    const was = base[key];
    const now = merged[key];
    return typeof was === 'number' && typeof now === 'number' && now >= was;
  };
  if (base.perImage !== undefined) return atLeast('perImage');
  return merged.perImage === undefined && atLeast('input') && atLeast('output');
}

export interface ImplicitPrices {
  /** The entries that may be used: none lowers a price of the built-in table. */
  overrides: PriceOverrides;
  /** `provider/model` (and `provider batchDiscount`) entries used, for the announcement. */
  used: string[];
  /** Entries not used: they would lower a built-in price, or price what it does not. */
  ignored: string[];
}

/**
 * The prices of a config found implicitly, cut to what cannot lower the built-in table
 * (implicit.ts header). Throws INVALID_OPTION for a table that is not a price table.
 */
export function implicitPrices(prices: unknown): ImplicitPrices {
  const base = defaultPriceTable();
  const overrides: PriceOverrides = {};
  const used: string[] = [];
  const ignored: string[] = [];
  for (const [provider, entry] of Object.entries(parsePriceOverrides(prices))) {
    const kept: PriceOverrides[string] = {};
    if (entry.source !== undefined) kept.source = entry.source;
    if (entry.batchDiscount !== undefined) {
      const builtIn = base[provider]?.batchDiscount ?? 0;
      (entry.batchDiscount <= builtIn ? used : ignored).push(`${provider} batchDiscount`);
      if (entry.batchDiscount <= builtIn) kept.batchDiscount = entry.batchDiscount;
    }
    for (const [model, price] of Object.entries(entry.models ?? {})) {
      const builtIn = modelPrice(provider, model, base);
      if (notCheaper(builtIn, { ...builtIn, ...price })) {
        kept.models = { ...kept.models, [model]: price };
        used.push(`${provider}/${model}`);
      } else ignored.push(`${provider}/${model}`);
    }
    overrides[provider] = kept;
  }
  return { overrides, used, ignored };
}
