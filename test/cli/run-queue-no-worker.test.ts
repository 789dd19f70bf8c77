/**
 * A `run --queue` coordinator whose prefix no worker listens on says so, naming the
 * prefix: at once, and again as a warning when still none has come after a short wait
 * (a worker started with another prefix never sees these jobs).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/images.js';
import { startCli } from '../support/processes.js';
import { type QueueTestbed, queueRunArgs, queueTestbed } from '../support/queue-run.js';

const IMAGE = '/work/shared/corpus/imggo-test-images/car-plate2.jpg';

let testbed: QueueTestbed;

beforeAll(async () => {
  testbed = await queueTestbed('rq_noworker', 'rq-noworker', {
    name: 'Receipt',
    instructions: 'Read the receipt',
    schema: { merchant: 'string' },
  });
});
afterAll(() => testbed?.close());

describe('run --queue with no worker on its prefix', () => {
  it('warns, naming the prefix, when none has come after a short wait', async () => {
    const dir = await tempDir('rq-noworker');
    const coordinator = startCli(
      queueRunArgs([IMAGE], {
        pattern: testbed.pattern,
        out: path.join(dir, 'out.jsonl'),
        state: path.join(dir, 'state'),
      }),
      testbed.env,
    );
    try {
      await coordinator.waitFor(new RegExp(`No worker is connected yet on queue prefix '${testbed.prefix}'`));
      const [warning] = await coordinator.waitFor(/warning: no worker listens on queue prefix .*\n/, 60_000);
      expect(warning).toContain(`'${testbed.prefix}'`);
      expect(warning).toContain(`--queue-prefix ${testbed.prefix}`);
    } finally {
      await coordinator.stop('SIGKILL');
    }
  });
});
