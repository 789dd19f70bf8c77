/**
 * A config file nobody named. `visionpipe.config.yaml` found in the working folder is
 * convenient for a team, and a trap in a folder someone else prepared (a cloned repo, a
 * shared drive): it could switch the provider and point it at any server, which would then
 * receive the API key from the environment and every image. So a config found implicitly
 *
 * - is announced on stderr before anything runs: the file, the provider, the endpoint, and
 *   the shared stores (cache, limiter, database, Redis) it points at;
 * - may not set an endpoint (`baseUrl`) unless that endpoint is confirmed: the file is named
 *   (`--config FILE`) or the endpoint is given with `--base-url` (which then wins over the file's). Otherwise the command stops
 *   with INVALID_OPTION before any key or image leaves the machine.
 *
 * A config named with `--config` is the user's own choice and is used silently, as before.
 */
import { VisionpipeError } from '../errors.js';
import { redactUrl } from '../secrets.js';
import type { VisionpipeConfig } from './file.js';

/** Settings of an implicit config that send data somewhere; each is announced. */
const DESTINATIONS = [
  'baseUrl',
  'cache',
  'limiter',
  'databaseUrl',
  'redisUrl',
  'publicUrl',
  'route',
  // Where alerts are posted, which address serves /metrics, and where files are written.
  'alertWebhook',
  'metricsHost',
  'logFile',
  'stateDir',
] as const;

export interface ImplicitConfigCheck {
  /** The config in force and the file it came from. */
  config: VisionpipeConfig;
  file: string;
  /** The --base-url given on the command line, when one was. */
  baseUrlFlag: string | undefined;
  /** The provider the command line chose (`undefined` when left at its default). */
  providerFlag: string | undefined;
}

/**
 * The announcement line for an implicitly found config; throws INVALID_OPTION when it sets
 * an endpoint that the command line did not confirm.
 */
export function checkImplicitConfig({
  config,
  file,
  baseUrlFlag,
  providerFlag,
}: ImplicitConfigCheck): string {
  const provider = providerFlag ?? config.provider ?? 'local';
  // A --base-url on the command line wins over the file: the file's endpoint is then not used.
  if (config.baseUrl !== undefined && baseUrlFlag === undefined) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `${file} was found in the working folder and sets the ${provider} endpoint to ${redactUrl(config.baseUrl)}: ` +
        'an API key and images would go there. Name the file to use it (--config FILE), confirm the endpoint ' +
        '(--base-url URL), or remove baseUrl from it',
      { option: 'config' },
    );
  }
  const parts = [
    `provider ${provider}${providerFlag === undefined && config.provider ? ' (from the file)' : ''}`,
  ];
  parts.push(`endpoint ${baseUrlFlag ? `${redactUrl(baseUrlFlag)} (--base-url)` : 'default'}`);
  for (const key of DESTINATIONS) {
    if (key === 'baseUrl') continue;
    const value = config[key];
    if (typeof value === 'string') parts.push(`${key} ${redactUrl(value)}`);
    if (Array.isArray(value)) parts.push(`${key} ${value.map((item) => redactUrl(String(item))).join(' ')}`);
  }
  return `note: using ${file}, found in the working folder (name a file with --config to choose): ${parts.join(', ')}`;
}
