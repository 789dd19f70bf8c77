/**
 * PDF bombs through the real CLI (issue 12): a page whose render size and a page whose image
 * XObject's declared size exceed the pixel limit each become a PIXEL_LIMIT record naming the
 * input and the page, with no provider call; the rest of the batch is processed. The library
 * side is test/security/pdf-bombs.test.ts.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecords, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import {
  type CompatibleServer,
  startCompatibleServer,
  writeSimplePattern,
} from '../support/openai-compatible.js';
import { imagePdf, pagePdf } from '../support/pdf-bombs.js';

describe('PDF bombs given to `visionpipe run`', () => {
  let server: CompatibleServer;
  let dir: string;
  beforeAll(async () => {
    server = await startCompatibleServer('{"vendor_name": "X", "total": 1}');
    dir = await tempDir('vp-pdf-bombs-');
    // A 200 000 pt square page: 833 333 px square at 300 dpi-equivalent, unbounded by --profile none.
    await writeFile(path.join(dir, 'huge-page.pdf'), await pagePdf(200_000, 200_000));
    // A Letter page drawing an image that declares 60 000 × 60 000 px over a 10 000-byte stream.
    await writeFile(path.join(dir, 'declared-image.pdf'), await imagePdf(60_000, 100));
    await sharp({ create: { width: 32, height: 32, channels: 3, background: '#345' } })
      .png()
      .toFile(path.join(dir, 'fine.png'));
  });
  afterAll(() => server.close());

  it('each is PIXEL_LIMIT naming the input and the page, unpaid; the image beside them is processed', async () => {
    const pattern = await writeSimplePattern(dir);
    const out = path.join(dir, 'out.jsonl');
    const result = await runCli(
      [
        'run',
        path.join(dir, 'huge-page.pdf'),
        path.join(dir, 'declared-image.pdf'),
        path.join(dir, 'fine.png'),
        '-p',
        pattern,
        '-o',
        out,
        '--state-dir',
        path.join(dir, 'state'),
        '--provider',
        'openai',
        '--base-url',
        server.baseUrl,
        '--profile',
        'none',
        '--no-progress',
      ],
      { env: { OPENAI_API_KEY: 'sk-test-pdf-bombs-0000' }, timeoutMs: 90_000 },
    );
    expect(result.signal, result.stderr).toBeNull();
    const records = await readRecords(out);
    const byName = new Map(records.map((r) => [path.basename(r.input), r]));
    expect(byName.get('huge-page.pdf')).toMatchObject({
      status: 'error',
      attempts: 0,
      error: {
        code: 'PIXEL_LIMIT',
        message: expect.stringMatching(
          /huge-page\.pdf: page 1 would render at 833333×833333, over the limitInputPixels of [\d.]+ MP/,
        ),
      },
    });
    expect(byName.get('declared-image.pdf')).toMatchObject({
      status: 'error',
      attempts: 0,
      error: {
        code: 'PIXEL_LIMIT',
        message: expect.stringMatching(
          /declared-image\.pdf: page 1 holds a 60000×60000 image, over the limitInputPixels of [\d.]+ MP/,
        ),
      },
    });
    expect(byName.get('fine.png')).toMatchObject({ status: 'ok', output: { vendor_name: 'X', total: 1 } });
    // The one call is the PNG's: neither bomb reached the provider.
    expect(server.calls).toHaveLength(1);
    expect(result.stdout + result.stderr).toContain('PIXEL_LIMIT 2');
  }, 120_000);
});
