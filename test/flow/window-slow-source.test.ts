/** A source that is slow to give its next item (a watched folder, a pipe) never holds back ready results. */
import { describe, expect, it } from 'vitest';
import { mapWindow } from '../../src/flow/window.js';

describe('mapWindow over a slow source', () => {
  it('hands out a finished result while the source is still waiting for its next item', async () => {
    let release: (() => void) | undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const pulled: number[] = [];
    async function* source() {
      pulled.push(1);
      yield 1;
      await gate; // nothing arrives until the first result has been seen
      pulled.push(2);
      yield 2;
    }
    const out: number[] = [];
    for await (const value of mapWindow(source(), 4, async (n) => n * 10)) {
      out.push(value);
      if (value === 10) {
        expect(pulled).toEqual([1]);
        release!();
      }
    }
    expect(out).toEqual([10, 20]);
  });

  it('a source that fails while items run ends the stream with its error, after them', async () => {
    async function* source() {
      yield 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new Error('source broke');
    }
    const out: number[] = [];
    await expect(
      (async () => {
        for await (const value of mapWindow(source(), 2, async (n) => n)) out.push(value);
      })(),
    ).rejects.toThrow('source broke');
    expect(out).toEqual([1]);
  });
});
