/**
 * A Retry-After the flow doubts does not fail images at once (trial of issue 10, ra-long:
 * a leaky bucket of 8/s whose 429s say `Retry-After: 30`; with `--max-retry-wait 10s`, 11
 * of 60 images failed "the server asks to wait 30 s … fails now" after 1.1 s, 8.9 s of
 * budget left, while the probe testing the 30 s was answered). Only a believed wait fails
 * an image at once: the images wait for the probe's answer; refused too, the wait is
 * believed and they fail then. Real AdaptiveFlow and call policy; the calls are functions.
 */
import { describe, expect, it } from 'vitest';
import { VisionpipeError } from '../../src/errors.js';
import { AdaptiveFlow } from '../../src/flow/adaptive.js';
import { callWithPolicy } from '../../src/flow/call-policy.js';

const THIRTY_S = 30_000;
const refusal = () =>
  new VisionpipeError('RATE_LIMITED', 'HTTP 429 rate_limit_exceeded', {
    status: 429,
    retryAfterMs: THIRTY_S,
  });

/**
 * Two images, each refused at its first send with `Retry-After: 30` (doubted: over 10 s,
 * nothing believed yet), with a 5 s budget. The first call sent after the flow's short
 * pause is the probe; `probeRefused` says whether it is refused with 30 s again.
 */
async function twoImages(probeRefused: boolean) {
  const flow = new AdaptiveFlow({ maxConcurrency: 4 });
  let sends = 0;
  const image = () => {
    let mine = 0;
    return callWithPolicy(
      async () => {
        const n = ++sends;
        mine++;
        if (mine === 1) throw refusal();
        await new Promise((r) => setTimeout(r, 200));
        if (n === 3 && probeRefused) throw refusal();
        return 'read';
      },
      { flow, retry: { maxTotalWaitMs: 5000 }, tally: { count: 0, waitMs: 0 } },
    );
  };
  return Promise.allSettled([image(), image()]);
}

describe('a doubted Retry-After longer than what the budget leaves', () => {
  it('fails nobody while its probe is out: answered, both images are read', async () => {
    const [a, b] = await twoImages(false);
    expect(a).toMatchObject({ status: 'fulfilled', value: { value: 'read' } });
    expect(b).toMatchObject({ status: 'fulfilled', value: { value: 'read' } });
  });

  it('once the probe is refused too, the wait is believed: both images fail at once', async () => {
    const results = await twoImages(true);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const error = (r as PromiseRejectedResult).reason as VisionpipeError;
      expect(error.code).toBe('RATE_LIMITED');
      expect(error.message).toMatch(/the server asks to wait 30 s; --max-retry-wait leaves/);
      // Refused sends are not attempts (the record says 0 for the image refused once): the message says where they went.
      expect(error.message).toMatch(
        /over [12] refusals? \(the provider's pacing, not a quota; refused calls are in rate_limited, not attempts\)/,
      );
    }
  });
});
