/**
 * HEIC/HEIF (phone photos). sharp's prebuilt libvips reads AVIF but has no HEVC decoder,
 * so the primary image is decoded by libheif compiled to WebAssembly (heic-decode over
 * libheif-js, LGPL-3.0 as a separate, replaceable package). The image's own transforms
 * (rotation, mirroring, crop boxes) are applied by libheif.
 */
import { VisionpipeError } from '../errors.js';
import type { Bitmap } from './pdf.js';

/**
 * What libheif-js writes with console.log when a file is truncated or damaged ("Could not
 * parse HEIF file …", "Decoding image failed …"): on stdout, in the middle of `--json`
 * output. The failure itself reaches us as an exception (DOCUMENT_DAMAGED below), so these
 * lines go to stderr only with VISIONPIPE_DEBUG=heic (or 1, *), and are dropped otherwise.
 */
const LIBHEIF_LINES =
  /^(Could not parse HEIF file|Decoding image failed|Error loading image ids|No images found|Could not get image data for id|Could not create HEIF context)/;

function heicDebugEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.VISIONPIPE_DEBUG ?? '').split(',').some((n) => ['heic', '1', '*'].includes(n.trim()));
}

let decodesInFlight = 0;
let passThrough: typeof console.log | undefined;

/** Filters libheif's lines out of console.log while a decode is in flight; everything else passes. */
function quietLibheif(): () => void {
  if (decodesInFlight++ === 0) {
    const original = console.log;
    passThrough = original;
    console.log = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && LIBHEIF_LINES.test(args[0])) {
        if (heicDebugEnabled()) process.stderr.write(`debug heic: ${args.map(String).join(' ')}\n`);
        return;
      }
      original.apply(console, args);
    };
  }
  return () => {
    if (--decodesInFlight === 0 && passThrough) {
      console.log = passThrough;
      passThrough = undefined;
    }
  };
}

/**
 * heic-decode, loaded on the first HEIC: evaluating libheif's WebAssembly bundle took
 * ~150 ms of CPU at every start of every command that can read documents (each `run`,
 * `estimate`, worker), HEIC or not.
 */
let decoder: Promise<typeof import('heic-decode').default> | undefined;

/** Decodes the primary image to RGBA. DOCUMENT_DAMAGED naming `label` when libheif cannot. */
export async function decodeHeic(bytes: Uint8Array, label: string): Promise<Bitmap> {
  decoder ??= import('heic-decode').then((module) => module.default);
  const decode = await decoder;
  const restore = quietLibheif();
  try {
    const image = await decode({ buffer: bytes });
    return {
      data: new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength),
      width: image.width,
      height: image.height,
    };
  } catch (error) {
    throw new VisionpipeError(
      'DOCUMENT_DAMAGED',
      `${label}: cannot decode this HEIC (${error instanceof Error ? error.message : String(error)})`,
      { input: label, cause: error },
    );
  } finally {
    restore();
  }
}
