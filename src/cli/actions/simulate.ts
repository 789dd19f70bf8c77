/**
 * What `visionpipe simulate` does (flags and help: ../simulate.ts): starts the simulator,
 * prints where each wire format listens, and on SIGINT/SIGTERM stops it and prints its stats.
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { parseDuration } from '../../config/durations.js';
import { VisionpipeError } from '../../errors.js';
import { loadPattern } from '../../patterns/index.js';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../simulator/index.js';
import type { RequestLogEntry } from '../../simulator/request-log.js';
import type { SimulateFlags } from '../simulate.js';

function latencyRange(text: string): { minMs: number; maxMs: number } {
  const [min, max = min] = text.split('-');
  const range = {
    minMs: parseDuration(min ?? '', '--latency'),
    maxMs: parseDuration(max ?? '', '--latency'),
  };
  if (range.maxMs < range.minMs)
    throw new VisionpipeError('INVALID_OPTION', `--latency "${text}": the maximum is below the minimum`, {
      option: 'latency',
    });
  return range;
}

/** `id=file` or `file` → [id, file]. */
function patternRegistration(spec: string): [string, string] {
  const at = spec.indexOf('=');
  if (at > 0) return [spec.slice(0, at), spec.slice(at + 1)];
  return [path.basename(spec).replace(/\.[^.]+$/, ''), spec];
}

/** The ImgGo patterns to serve, loaded and normalised like `run --pattern` does (a bad file stops here). */
async function imggoPatterns(specs: readonly string[]): Promise<SimulatorOptions['imggoPatterns']> {
  if (specs.length === 0) return undefined;
  const patterns: NonNullable<SimulatorOptions['imggoPatterns']> = {};
  for (const spec of specs) {
    const [id, file] = patternRegistration(spec);
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(id) || file === '')
      throw new VisionpipeError(
        'INVALID_OPTION',
        `--imggo-pattern "${spec}": expected ID=FILE (an id of letters, digits, _ or -) or a pattern file`,
        { option: 'imggo-pattern' },
      );
    const pattern = await loadPattern(file);
    patterns[id] = { schema: pattern.schema, instructions: pattern.instructions };
  }
  return patterns;
}

/** Starts the simulator; a taken port is a one-line usage error naming it and --port. */
async function start(options: SimulatorOptions, port: number): Promise<Simulator> {
  try {
    return await startSimulator(options);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'EADDRINUSE' || code === 'EACCES')
      throw new VisionpipeError(
        'INVALID_OPTION',
        code === 'EADDRINUSE'
          ? `port ${port} on 127.0.0.1 is already in use (another simulator or service?): choose another with --port N, or --port 0 for any free port`
          : `port ${port} on 127.0.0.1 cannot be opened by this user: choose another with --port N (above 1023), or --port 0 for any free port`,
        { option: 'port' },
      );
    throw error;
  }
}

export async function runSimulator(flags: SimulateFlags): Promise<void> {
  const patterns = await imggoPatterns(flags.imggoPattern ?? []);
  const log = flags.log ? createWriteStream(flags.log, { flags: 'a' }) : undefined;
  if (log) await once(log, 'open');
  const simulator = await start(
    {
      port: flags.port,
      latency: latencyRange(flags.latency),
      timeScale: flags.timeScale,
      ...(flags.rpm === undefined ? {} : { rpm: flags.rpm }),
      ...(flags.tpm === undefined ? {} : { tpm: flags.tpm }),
      faults: {
        rate5xx: flags.faults5xx,
        rate529: flags.faults529,
        rateReset: flags.faultsReset,
        rateMalformed: flags.faultsMalformed,
      },
      answer: flags.answer,
      seed: flags.seed,
      ...(flags.limiter === undefined
        ? {}
        : {
            limiter: {
              shape: flags.limiter,
              rps: flags.rps,
              windowMs: flags.window,
              maxInFlight: flags.maxInFlight,
              queue: flags.queue,
              burst: flags.burst,
              ...(flags.retryAfter === undefined ? {} : { retryAfterS: flags.retryAfter }),
            },
          }),
      ...(flags.quotaExceeded ? { quotaExceeded: true } : {}),
      ...(patterns ? { imggoPatterns: patterns } : {}),
      ...(log ? { onRequest: (entry: RequestLogEntry) => log.write(`${JSON.stringify(entry)}\n`) } : {}),
    },
    flags.port,
  );
  const gate = simulator.gate;
  process.stdout.write(
    `visionpipe simulator on ${simulator.url} (any API key is accepted)${gate ? `, limiter ${gate.shape}` : ''}\n${Object.entries(
      simulator.baseUrls,
    )
      .map(([api, url]) => `  --provider ${api.padEnd(9)} --base-url ${url}`)
      .join('\n')}${
      patterns ? `\n  ImgGo patterns: ${Object.keys(patterns).join(', ')}` : ''
    }${log ? `\n  request log: ${flags.log}` : ''}\nCtrl-C to stop.\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await simulator.close();
  if (log) await new Promise<void>((resolve) => log.end(resolve));
  process.stdout.write(`\n${JSON.stringify(simulator.stats, null, 2)}\n`);
}
