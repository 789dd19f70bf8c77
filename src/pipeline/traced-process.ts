/**
 * One input in its trace span (`visionpipe.image`: status, cache outcome, attempts,
 * model; the span failed with the first error record's code), each of its records
 * published (observe/events) and streamed once, as soon as it is finished. A record an
 * earlier run handed back (resume) is streamed but not published again.
 */
import type { PagesMode } from '../documents/pages-mode.js';
import type { ImageSource } from '../image/source.js';
import { publish } from '../observe/events.js';
import { failSpan, inSpan } from '../observe/spans.js';
import { labelOf } from './input-source.js';
import type { RunRecord } from './record.js';
import { earlierRecords, type ProcessOptions, type RecordStream } from './spec.js';

/** Reads one input to its records (one, or a document's pages), untraced. */
export type ReadInput = (
  source: ImageSource,
  call: ProcessOptions,
  mode: PagesMode,
  stream: RecordStream,
) => Promise<RunRecord[]>;

/** `readInput` wrapped in its span, its records published and streamed once each. */
export function tracedProcess(patternName: string, readInput: ReadInput): ReadInput {
  return (source, call, mode, stream = {}) => {
    let handedBack: ReadonlySet<RunRecord> = new Set();
    const emitted = new Set<RunRecord>();
    /** Each record once, as soon as it is finished: published (unless handed back) and streamed. */
    const emit = (one: RunRecord) => {
      if (emitted.has(one)) return;
      emitted.add(one);
      if (!handedBack.has(one)) publish('image', { record: one });
      stream.onRecord?.(one);
    };
    const earlier = call.earlier;
    const label = call.label ?? labelOf(source);
    return inSpan(
      'visionpipe.image',
      { 'visionpipe.input': label, 'visionpipe.pattern': patternName },
      async (span) => {
        const all = await readInput(
          source,
          earlier
            ? {
                ...call,
                earlier: (sha256) => {
                  const given = earlier(sha256);
                  handedBack = new Set(earlierRecords(given));
                  return given;
                },
              }
            : call,
          mode,
          { ...(stream.slots ? { slots: stream.slots } : {}), onRecord: emit },
        );
        const record = all[0]!;
        span.setAttributes({
          'visionpipe.status': record.status,
          'visionpipe.cache': record.cache ?? 'none',
          'visionpipe.attempts': all.reduce((sum, r) => sum + r.attempts, 0),
          'gen_ai.request.model': record.model,
        });
        const failed = all.find((r) => r.error);
        if (failed?.error) failSpan(span, failed.error.code, failed.error.message);
        for (const one of all) emit(one);
        return all;
      },
    );
  };
}
