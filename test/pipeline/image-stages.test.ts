import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { imageStages } from '../../src/pipeline/image-stages.js';
import { openPipelineResources } from '../../src/pipeline/pipeline-resources.js';
import { ROOT } from '../support/cli.js';

const RECEIPT = path.join(ROOT, 'samples/patterns/receipt.yaml');

describe('imageStages', () => {
  it('builds the near-duplicate check only when a distance is given', async () => {
    const resources = await openPipelineResources({ pattern: RECEIPT });
    try {
      expect(imageStages(resources, { pattern: RECEIPT }).near).toBeUndefined();
      expect(imageStages(resources, { pattern: RECEIPT, nearDuplicateDistance: 4 }).near).toBeDefined();
    } finally {
      await resources.close();
    }
  });

  it('renders pages for the primary model and keys answers the same way in every build, each with its own run id', async () => {
    const resources = await openPipelineResources({ pattern: RECEIPT });
    try {
      const a = imageStages(resources, { pattern: RECEIPT });
      const b = imageStages(resources, { pattern: RECEIPT });
      const { preprocess } = resources.primary;
      expect(a.pageRendering).toEqual({
        limits: preprocess.limits,
        quality: preprocess.quality,
        limitInputPixels: preprocess.limitInputPixels,
      });
      expect(a.documents.pageRendering).toBe(a.pageRendering);
      expect(a.keyFor('ab'.repeat(32))).toBe(b.keyFor('ab'.repeat(32)));
      expect(a.settings).toBe(b.settings);
      expect(a.runId).not.toBe(b.runId);
      expect(a.miss.runId).toBe(a.runId);
    } finally {
      await resources.close();
    }
  });
});
