import { describe, expect, it } from 'vitest';
import { VisionpipeError } from '../../src/errors.js';
import { itemReader } from '../../src/pipeline/item-reader.js';
import type { RunRecord } from '../../src/pipeline/record.js';
import { RecordAssembler } from '../../src/pipeline/record-assembly.js';
import type { ProcessOptions } from '../../src/pipeline/spec.js';

const records = new RecordAssembler({ pattern: 'receipt', provider: 'local', model: 'm', profile: 'p' });

describe('itemReader', () => {
  it('turns a listing error into its error record, streamed, without a read', async () => {
    let reads = 0;
    const read = itemReader(records, async () => {
      reads += 1;
      return [];
    });
    const streamed: RunRecord[] = [];
    const error = new VisionpipeError('NOT_FOUND', 'missing.jpg: no such file');
    const out = await read({ kind: 'error', label: 'missing.jpg', error }, undefined, undefined, 'document', {
      onRecord: (record) => streamed.push(record),
    });
    expect(reads).toBe(0);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      input: 'missing.jpg',
      status: 'error',
      error: { code: 'NOT_FOUND' },
    });
    expect(streamed).toEqual(out);
  });

  it('reads a source with its label, signal and earlier record, in the mode asked', async () => {
    const seen: Array<{ call: ProcessOptions; mode: string }> = [];
    const read = itemReader(records, async (_source, call, mode) => {
      seen.push({ call, mode });
      return [];
    });
    const signal = new AbortController().signal;
    const earlier = () => undefined;
    await read(
      { kind: 'data', label: 'a.png', bytes: Buffer.from('x'), rel: 'data/a.png' },
      signal,
      earlier,
      'each',
    );
    await read(
      { kind: 'data', label: 'b.png', bytes: Buffer.from('x'), rel: 'data/b.png' },
      undefined,
      undefined,
      'document',
    );
    expect(seen[0]).toEqual({ call: { label: 'a.png', signal, earlier }, mode: 'each' });
    // No signal or earlier record: the call carries neither key.
    expect(seen[1]).toEqual({ call: { label: 'b.png' }, mode: 'document' });
  });
});
