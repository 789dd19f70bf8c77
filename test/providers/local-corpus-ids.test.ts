/**
 * Issue 11 §7 on real photos and pages: real tesseract (each image read once, the page kept
 * in memory for every pattern) on corpus VIN plates, a resume, an invoice, a car-park photo
 * and a manual's page. VINs, plates, identity numbers and person names are the right value
 * or null with confidence 0; what the engine gave here before is named in each check.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPattern } from '../../src/patterns/index.js';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import type { RunRecord } from '../../src/pipeline/record.js';
import { LocalProvider } from '../../src/providers/local.js';
import { ROOT } from '../support/cli.js';
import { corpus } from '../support/images.js';
import { OnceOcr } from '../support/once-ocr.js';

const IMAGES = {
  vin: ['vin1.jpg', 'vin4.jpg', 'vin5.jpg', 'resume2.png', 'invoice5.jpg'],
  identity: ['resume2.png', 'invoice5.jpg', 'document-classification1.png', 'vin1.jpg'],
  parking: ['parking3.jpg', 'document-classification1.png', 'invoice5.jpg', 'resume2.png', 'vin1.jpg'],
};
const PATTERNS = {
  vin: 'bench/corpus/patterns/vin.json',
  identity: 'bench/corpus/patterns/identity.json',
  parking: 'samples/patterns/parking.yaml',
};

let provider: LocalProvider;
const records = new Map<string, RunRecord>();
function record(pattern: keyof typeof IMAGES, image: string) {
  const found = records.get(`${pattern}/${image}`);
  if (!found) throw new Error(`no record for ${pattern}/${image}`);
  return {
    output: (found.status === 'ok' ? found.output : {}) as Record<string, unknown>,
    confidence: found.field_confidence ?? {},
  };
}

beforeAll(async () => {
  provider = new LocalProvider({ ocr: new OnceOcr() });
  for (const [name, images] of Object.entries(IMAGES)) {
    const pattern = await loadPattern(path.join(ROOT, PATTERNS[name as keyof typeof PATTERNS]));
    const pipeline = await createPipeline({ pattern, provider });
    try {
      for (const image of images) records.set(`${name}/${image}`, await pipeline.process(corpus(image)));
    } finally {
      await pipeline.close();
    }
  }
}, 600_000);

afterAll(async () => {
  await provider.close();
});

describe('VINs on the corpus (check digit, model year, one word)', () => {
  it('reads the plates’ VINs, a checked one with a high confidence', () => {
    expect(record('vin', 'vin1.jpg').output.vin).toBe('1FDUF5GY7FEB56312');
    expect(record('vin', 'vin5.jpg').output.vin).toBe('5YJYGDEF9MF151185');
    expect(record('vin', 'vin4.jpg').output.vin).toBe('WVGZZZ1TZ6W110386');
    // Check digits that hold (Ford, Tesla) outrank a European VIN read on its shape alone.
    const checked = Math.min(
      record('vin', 'vin1.jpg').confidence.vin ?? 0,
      record('vin', 'vin5.jpg').confidence.vin ?? 0,
    );
    expect(checked).toBeGreaterThan(0.6);
    expect(record('vin', 'vin4.jpg').confidence.vin).toBeLessThan(checked);
  });

  it('finds no VIN on a resume or an invoice ("Y2021FEBRUARY2023" before, at 0.57)', () => {
    for (const image of ['resume2.png', 'invoice5.jpg']) {
      expect(record('vin', image).output.vin, image).toBeNull();
      expect(record('vin', image).confidence.vin, image).toBe(0);
    }
  });
});

describe('identity fields on pages that are no identity document', () => {
  it('a resume’s name is its holder’s; a manual’s heading or a VIN plate’s caption is nobody', () => {
    expect(record('identity', 'resume2.png').output.full_name).toBe('Lena Wiza');
    // Before: "Chapter 16 Router Properties", "INCOMPLETE VEHICLE MANUFACTURED BY".
    for (const image of ['document-classification1.png', 'vin1.jpg', 'invoice5.jpg']) {
      expect(record('identity', image).output.full_name, image).toBeNull();
      expect(record('identity', image).confidence.full_name, image).toBe(0);
    }
  });

  it('no identity number or birth date on an invoice ("4K" and the quote date before)', () => {
    const out = record('identity', 'invoice5.jpg').output;
    expect(out.id_number).toBeNull();
    expect(out.date_of_birth).toBeNull();
  });
});

describe('plates on the corpus', () => {
  it('no plate on a manual, an invoice, a resume, a VIN plate or a car park’s stock-photo id', () => {
    // Before: "CHAPTER16", "QT2045112", "OVER500", "6671KG", "69433763".
    for (const image of IMAGES.parking) {
      expect(record('parking', image).output.plate_number, image).toBeNull();
      expect(record('parking', image).confidence.plate_number, image).toBe(0);
    }
  });
});
