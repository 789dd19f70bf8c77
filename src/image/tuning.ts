/**
 * Process-wide libvips settings for batch work. visionpipe parallelises across images
 * (one image per libuv thread) rather than inside one image, which is what sharp's own
 * default does on glibc Linux (one libvips thread per image) and scales best for many
 * small jobs. The operation cache only helps when the same file is processed again with
 * the same operations, which a batch never does, so it is turned off to keep memory flat.
 *
 * UV_THREADPOOL_SIZE bounds how many images sharp works on at once (default 4). It is
 * read when the pool first starts, and Node's ESM loader starts it while loading
 * modules, so it cannot be set from ESM code: bin/visionpipe.cjs sets it (cores + 2,
 * at least 4) before importing anything; library users set it in their environment.
 */
import sharp from 'sharp';

export { defaultConcurrency } from './parallelism.js';

export function tuneSharpForBatches(): void {
  sharp.cache(false);
}
