/**
 * What `visionpipe simulate` does (flags and help: ../simulate.ts): starts the simulator,
 * prints where each wire format listens, and on SIGINT/SIGTERM stops it and prints its stats.
 */
import { parseDuration } from '../../config/durations.js';
import { VisionpipeError } from '../../errors.js';
import { startSimulator } from '../../simulator/index.js';
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

export async function runSimulator(flags: SimulateFlags): Promise<void> {
  const simulator = await startSimulator({
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
            windowMs: parseDuration(flags.window, '--window'),
            maxInFlight: flags.maxInFlight,
            queue: flags.queue,
          },
        }),
    ...(flags.quotaExceeded ? { quotaExceeded: true } : {}),
  });
  const gate = simulator.gate;
  process.stdout.write(
    `visionpipe simulator on ${simulator.url} (any API key is accepted)${gate ? `, limiter ${gate.shape}` : ''}\n${Object.entries(
      simulator.baseUrls,
    )
      .map(([api, url]) => `  --provider ${api.padEnd(9)} --base-url ${url}`)
      .join('\n')}\nCtrl-C to stop.\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await simulator.close();
  process.stdout.write(`\n${JSON.stringify(simulator.stats, null, 2)}\n`);
}
