/**
 * Reusing a results file written with another pattern or provider never overwrites the
 * records paid for: exit 2, naming -o and --fresh. Real CLI processes.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';

describe('a results file of another run', () => {
  it('is refused with exit 2 naming -o and --fresh, left untouched, and replaced with --fresh', async () => {
    const work = await tempDir('visionpipe-reuse-');
    await writeFile(path.join(work, 'empty.jpg'), Buffer.alloc(0)); // fails fast: no OCR needed
    const receipt = ['run', 'empty.jpg', '-p', path.join(ROOT, 'samples/patterns/receipt.yaml')];
    expect((await runCli(receipt, { cwd: work })).code).toBe(0);
    const before = await readFile(path.join(work, 'results.jsonl'), 'utf8');
    const invoice = ['run', 'empty.jpg', '-p', path.join(ROOT, 'samples/patterns/invoice.json')];
    const refused = await runCli(invoice, { cwd: work });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/results\.jsonl holds results of a run with a different pattern/);
    expect(refused.stderr).toContain('-o/--out');
    expect(refused.stderr).toContain('--fresh');
    expect(await readFile(path.join(work, 'results.jsonl'), 'utf8')).toBe(before);
    const fresh = await runCli([...invoice, '--fresh'], { cwd: work });
    expect(fresh.code).toBe(0);
    expect(await readFile(path.join(work, 'results.jsonl'), 'utf8')).toContain('"pattern":"Invoice"');
  });

  it('names only what changed: the model, not "pattern or settings"', async () => {
    const work = await tempDir('visionpipe-reuse-');
    await writeFile(path.join(work, 'empty.jpg'), Buffer.alloc(0)); // fails fast: no call made
    const receipt = path.join(ROOT, 'samples/patterns/receipt.yaml');
    const run = (model: string) =>
      runCli(
        [
          'run',
          'empty.jpg',
          '-p',
          receipt,
          '--provider',
          'openai',
          '--base-url',
          'http://127.0.0.1:9/v1',
          '--model',
          model,
        ],
        {
          cwd: work,
          env: { OPENAI_API_KEY: 'sk-test' },
        },
      );
    expect((await run('gpt-4o')).code).toBe(0);
    const refused = await run('gpt-4o-mini');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/a different model \(gpt-4o, now gpt-4o-mini\);/);
    expect(refused.stderr).not.toMatch(/pattern or settings|settings \(/);
  });
});
