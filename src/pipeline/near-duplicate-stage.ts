/**
 * Near-duplicates (opt-in, `--near-dup`): an image within a few bits of perceptual-hash
 * distance of an earlier image of this run borrows that image's result instead of paying
 * for its own. Exact duplicates never get here: single-flight and the cache catch them.
 */
import { NearDuplicateIndex } from '../cache/near-duplicates.js';
import type { SingleFlight } from '../cache/single-flight.js';
import { perceptualHash } from '../image/fingerprint.js';
import type { CachedResult, ResultCacheStage } from './cache-stage.js';
import type { Outcome } from './outcome.js';
import type { LoadedInput } from './stages.js';

interface NearEntry {
  key: string;
  input: string;
  sha256: string;
}

/** The earlier image's result when known (`cached`), or its flight while it runs (`pending`). */
export interface NearMatch {
  distance: number;
  cached?: CachedResult;
  pending?: Promise<Outcome>;
}

export class NearDuplicateStage {
  private readonly index = new NearDuplicateIndex<NearEntry>();

  constructor(
    /** Largest perceptual-hash distance, in bits, that counts as the same image. */
    private readonly distance: number,
    /** Decoding limit for the hash, as for preprocessing. */
    private readonly limitInputPixels: number,
    private readonly flights: SingleFlight<Outcome>,
    private readonly results: ResultCacheStage,
  ) {}

  /**
   * An earlier image of this run near `loaded`. With no match, this image is indexed so
   * that later near-duplicates can follow it.
   */
  async match(loaded: LoadedInput, key: string): Promise<NearMatch | undefined> {
    // Pages read together are one document, not an image that looks like another.
    if (loaded.pages) return undefined;
    const hash = await perceptualHash(loaded.bytes, {
      label: loaded.label,
      limitInputPixels: this.limitInputPixels,
    });
    const match = this.index.nearest(hash, this.distance);
    if (match) {
      const pending = this.flights.pending(match.value.key);
      if (pending) return { distance: match.distance, pending };
      const cached = await this.results.lookup(match.value.key);
      if (cached) return { distance: match.distance, cached };
    }
    this.index.add(hash, { key, input: loaded.label, sha256: loaded.sha256 });
    return undefined;
  }
}
