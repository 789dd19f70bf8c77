import { describe, expect, it } from 'vitest';
import { SIZE_PROFILES, targetSize } from '../../src/image/profiles.js';
import { sniffFormat } from '../../src/image/sniff.js';

const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

describe('sniffFormat', () => {
  it('recognises supported formats by magic bytes', () => {
    const cases: Array<[Buffer, string]> = [
      [bytes([0xff, 0xd8, 0xff, 0xe0]), 'jpeg'],
      [bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'png'],
      [bytes('GIF89a'), 'gif'],
      [bytes('GIF87a'), 'gif'],
      [bytes('RIFF', [1, 2, 3, 4], 'WEBPVP8 '), 'webp'],
      [bytes([0x49, 0x49, 0x2a, 0]), 'tiff'],
      [bytes([0x4d, 0x4d, 0, 0x2a]), 'tiff'],
      [bytes([0, 0, 0, 0x1c], 'ftypavif', [0, 0, 0, 0], 'avifmif1miaf'), 'avif'],
      [bytes([0, 0, 0, 0x18], 'ftypmif1', [0, 0, 0, 0], 'mif1avif'), 'avif'],
    ];
    for (const [input, format] of cases) expect(sniffFormat(input)).toEqual({ supported: true, format });
  });

  it('names what unsupported inputs really are', () => {
    const cases: Array<[Buffer, string]> = [
      [bytes([0, 0, 0, 0x18], 'ftypheic', [0, 0, 0, 0], 'mif1heic'), 'heic'],
      [bytes('%PDF-1.7\n'), 'pdf'],
      [bytes('BM', [0, 0, 0, 0]), 'bmp'],
      [bytes('<!DOCTYPE html><html>'), 'html'],
      [Buffer.from('\uFEFF  <html lang="en">', 'utf8'), 'html'],
      [bytes('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'), 'svg'],
      [bytes('name,total\nAcme,12.50\n'), 'text'],
      [bytes([0, 1, 2, 3, 0xfe, 0xfd, 7, 8, 0, 0]), 'unknown'],
      [Buffer.alloc(0), 'empty'],
    ];
    for (const [input, kind] of cases) {
      const result = sniffFormat(input);
      expect(result.supported).toBe(false);
      if (!result.supported) {
        expect(result.kind).toBe(kind);
        expect(result.reason.length).toBeGreaterThan(10);
      }
    }
  });
});

describe('targetSize', () => {
  it('fits the long edge and never upscales', () => {
    expect(targetSize(4000, 3000, SIZE_PROFILES.max2048)).toMatchObject({
      width: 2048,
      height: 1536,
      resized: true,
    });
    expect(targetSize(3000, 4000, SIZE_PROFILES.max2048)).toMatchObject({ width: 1536, height: 2048 });
    expect(targetSize(800, 600, SIZE_PROFILES.max2048)).toEqual({
      width: 800,
      height: 600,
      scale: 1,
      resized: false,
    });
    expect(targetSize(100, 100, SIZE_PROFILES.triage)).toMatchObject({
      width: 100,
      height: 100,
      resized: false,
    });
  });

  it('applies OpenAI high detail: fit 2048, then shortest side 768', () => {
    expect(targetSize(1024, 1024, SIZE_PROFILES['openai-high'])).toMatchObject({ width: 768, height: 768 });
    expect(targetSize(2048, 4096, SIZE_PROFILES['openai-high'])).toMatchObject({ width: 768, height: 1536 });
    expect(targetSize(4000, 3000, SIZE_PROFILES['openai-high'])).toMatchObject({ width: 1024, height: 768 });
    expect(targetSize(600, 400, SIZE_PROFILES['openai-high'])).toMatchObject({ width: 600, height: 400 });
  });

  it("keeps Anthropic's long edge and pixel budget", () => {
    for (const [w, h] of [
      [4000, 3000],
      [1092, 1092],
      [5000, 1000],
      [1200, 1200],
    ] as const) {
      const t = targetSize(w, h, SIZE_PROFILES.anthropic);
      expect(Math.max(t.width, t.height)).toBeLessThanOrEqual(1568);
      expect(t.width * t.height).toBeLessThanOrEqual(1_150_000);
      expect(Math.abs(t.width / t.height - w / h)).toBeLessThan(0.01);
    }
    expect(targetSize(1000, 1000, SIZE_PROFILES.anthropic).resized).toBe(false);
  });

  it('keeps extreme aspect ratios at least one pixel wide', () => {
    expect(targetSize(20_000, 10, SIZE_PROFILES.triage)).toMatchObject({ width: 256, height: 1 });
  });
});
