/**
 * The run log's terminal side: warnings (and worse) pretty-printed to the console writer,
 * info left out, secrets redacted; pino-pretty is loaded on this first use only
 * (src/on-first-use.ts), so a run without a terminal never loads it.
 */
import { describe, expect, it } from 'vitest';
import { createRunLog } from '../../src/metrics/log.js';

describe('run log on a terminal', () => {
  it('writes warnings as one pretty line each, not info, and hides keys', () => {
    const lines: string[] = [];
    const log = createRunLog({ console: (line) => lines.push(line) });
    log.logger.info('routine detail');
    log.logger.warn({ event: 'alert', apiKey: 'sk-secret-000' }, 'success rate fell to 80 %');
    log.close();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/WARN.*success rate fell to 80 %/);
    expect(lines[0]).not.toContain('{"level"');
    expect(lines.join('\n')).not.toContain('sk-secret-000');
  });
});
