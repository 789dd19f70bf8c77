/**
 * Issue 11 §7, prescriptions: the patient's and the prescriber's names are decided by the
 * person-name evidence (person-name.ts) — a name beside its label, never a heading, a form's
 * caption or a drug — as full_name is. Real tesseract on the corpus prescriptions with the
 * bench's labelled pattern (bench/corpus/patterns/prescription.json); what the engine gave
 * before is named in each check.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPattern } from '../../src/patterns/index.js';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import type { RunRecord } from '../../src/pipeline/record.js';
import { fitPersonName } from '../../src/providers/local/person-name.js';
import { LocalProvider } from '../../src/providers/local.js';
import { ROOT } from '../support/cli.js';
import { corpus } from '../support/images.js';

const IMAGES = [
  'prescription1.jpg',
  'prescription2.jpg',
  'prescription3.jpg',
  'prescription4.jpg',
  'prescription5.jpg',
];
const NAME_FIELDS = ['patient_name', 'prescriber_name'] as const;

let provider: LocalProvider;
const records = new Map<string, RunRecord>();
const output = (image: string) => {
  const found = records.get(image)!;
  return (found.status === 'ok' ? found.output : {}) as Record<string, unknown>;
};

beforeAll(async () => {
  provider = new LocalProvider();
  const pattern = await loadPattern(path.join(ROOT, 'bench/corpus/patterns/prescription.json'));
  const pipeline = await createPipeline({ pattern, provider });
  try {
    for (const image of IMAGES) records.set(image, await pipeline.process(corpus(image)));
  } finally {
    await pipeline.close();
  }
}, 600_000);

afterAll(async () => {
  await provider.close();
});

describe('prescription names on the corpus (real tesseract)', () => {
  it('reads the patient beside "Name" without the rank after the comma (was "John R Doe, HM3,K USN")', () => {
    expect(output('prescription1.jpg').patient_name).toMatch(/^John R\.? Doe$/);
  });

  it('never takes a caption or a letterhead for a name (were "RANK AND DEGREE", "THE CIHITE TUSK")', () => {
    expect(output('prescription1.jpg').prescriber_name ?? null).not.toBe('RANK AND DEGREE');
    expect(output('prescription3.jpg').patient_name ?? null).toBeNull();
  });

  it('gives, on every prescription, a name that reads as a person’s or null', () => {
    for (const image of IMAGES)
      for (const field of NAME_FIELDS) {
        const value = output(image)[field];
        if (value === null || value === undefined) continue;
        expect(fitPersonName(String(value)), `${image} ${field}: ${String(value)}`).toBe(value);
      }
  });
});

describe('what reads as a name on a prescription', () => {
  it.each([
    ['Dr. Jack R. Frost', 'Jack R. Frost'],
    ['Amoxicillin Tablets', undefined],
    ['Lipitor Capsules Daily', undefined],
    ['Patient Name', undefined],
  ])('%s → %s', (text, name) => {
    expect(fitPersonName(text)).toBe(name);
  });
});
