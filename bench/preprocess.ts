/**
 * Preprocess throughput and size reduction, side by side in one run:
 *   visionpipe        preprocessImage() with the defaults (max2048, JPEG q85, orient, flatten, strip)
 *   bare libvips      sharp(buf).resize(2048, 2048, inside).jpeg(q85): the floor visionpipe builds on
 *   no shrink-on-load the same call with a full-frame pre-extract, which makes libvips decode every pixel
 *   jimp              the pure-JS route users without native dependencies take
 * on ≥ 20 synthetic 12 MP photo-like JPEGs, plus the size reduction on the real corpus.
 *
 *   npm run bench:preprocess [-- --photos 24 --rounds 3 --jimp 4]
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Jimp } from 'jimp';
import sharp from 'sharp';
import { resolvePreprocessOptions } from '../src/image/options.js';
import { preprocessImage } from '../src/image/preprocess.js';
import { defaultConcurrency, tuneSharpForBatches } from '../src/image/tuning.js';
import { CORPUS_DIR, photoLikeJpeg } from '../test/support/images.js';
import { CACHE_DIR, fmt, median, printTable, timeParallel, writeResults } from './support.js';

const { values: args } = parseArgs({
  options: {
    photos: { type: 'string', default: '24' },
    rounds: { type: 'string', default: '3' },
    jimp: { type: 'string', default: '4' },
  },
});
const PHOTOS = Number(args.photos);
const ROUNDS = Number(args.rounds);
const JIMP_PHOTOS = Number(args.jimp);

async function syntheticPhotos(count: number): Promise<Buffer[]> {
  const dir = path.join(CACHE_DIR, 'photos-12mp');
  await mkdir(dir, { recursive: true });
  const photos: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const file = path.join(dir, `photo-${i}.jpg`);
    try {
      photos.push(await readFile(file));
    } catch {
      const photo = await photoLikeJpeg(4000, 3000, 1000 + i);
      await writeFile(file, photo);
      photos.push(photo);
    }
  }
  return photos;
}

async function corpusImages(): Promise<Array<{ name: string; bytes: Buffer }>> {
  const names = (await readdir(CORPUS_DIR)).filter((name) => /\.(jpe?g|png)$/i.test(name)).sort();
  return Promise.all(
    names.map(async (name) => ({ name, bytes: await readFile(path.join(CORPUS_DIR, name)) })),
  );
}

const options = resolvePreprocessOptions();

/**
 * Two targets: 2048 px (the guide's default; a 4000 px photo shrinks by 1.95, too little
 * for JPEG shrink-on-load, which needs a factor of 2) and OpenAI high detail (1024 × 768,
 * where shrink-on-load decodes at half resolution).
 */
const SCENARIOS = [
  { profile: 'max2048', box: 2048 },
  { profile: 'openai-high', box: 1024 },
] as const;

function variantsFor(
  scenario: (typeof SCENARIOS)[number],
): Record<string, (input: Buffer) => Promise<Buffer>> {
  const scenarioOptions = resolvePreprocessOptions({ profile: scenario.profile });
  const box = scenario.box;
  return {
    visionpipe: async (input) => (await preprocessImage(input, scenarioOptions)).data,
    'bare libvips': (input) =>
      sharp(input)
        .resize(box, box, { fit: 'inside', withoutEnlargement: true })
        .jpeg({ quality: 85 })
        .toBuffer(),
    'no shrink-on-load': async (input) => {
      const { width, height } = await sharp(input).metadata();
      return sharp(input)
        .extract({ left: 0, top: 0, width, height }) // a pre-resize extract disables shrink-on-load in sharp
        .resize(box, box, { fit: 'inside', withoutEnlargement: true })
        .jpeg({ quality: 85 })
        .toBuffer();
    },
  };
}

async function jimpResize(input: Buffer): Promise<Buffer> {
  const image = await Jimp.read(input);
  image.scaleToFit({ w: 2048, h: 2048 });
  return image.getBuffer('image/jpeg', { quality: 85 });
}

async function main() {
  tuneSharpForBatches();
  const concurrency = defaultConcurrency();
  console.log(`Generating/loading ${PHOTOS} synthetic 12 MP photos…`);
  const photos = await syntheticPhotos(PHOTOS);
  const photoBytes = photos.reduce((sum, p) => sum + p.length, 0);
  console.log(
    `${PHOTOS} photos, ${(photoBytes / PHOTOS / 1e6).toFixed(1)} MB each on average, concurrency ${concurrency}`,
  );

  const results: Record<string, { images_per_s: Record<string, number>; rounds: Record<string, number[]> }> =
    {};
  for (const scenario of SCENARIOS) {
    const variants = variantsFor(scenario);
    for (const run of Object.values(variants)) await run(photos[0]!); // warm-up
    const rates: Record<string, number[]> = {};
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order each round so no variant always runs on a cold or a warm machine.
      const names = Object.keys(variants);
      const order = names.slice(round % names.length).concat(names.slice(0, round % names.length));
      for (const name of order) {
        const ms = await timeParallel(photos, concurrency, variants[name]!);
        rates[name] = [...(rates[name] ?? []), photos.length / (ms / 1000)];
      }
    }
    results[scenario.profile] = {
      images_per_s: Object.fromEntries(Object.entries(rates).map(([name, values]) => [name, median(values)])),
      rounds: rates,
    };
  }
  const jimpInputs = photos.slice(0, JIMP_PHOTOS);
  await jimpResize(jimpInputs[0]!);
  const jimpMs = await timeParallel(jimpInputs, 1, jimpResize);
  const jimpRate = jimpInputs.length / (jimpMs / 1000);

  const at2048 = results.max2048!.images_per_s;
  const at1024 = results['openai-high']!.images_per_s;
  const vp = at2048.visionpipe!;
  const bare = at2048['bare libvips']!;
  for (const [profile, rates] of [
    ['max2048 (2048 px)', at2048],
    ['openai-high (1024×768)', at1024],
  ] as const) {
    const own = rates.visionpipe!;
    const rows: Array<Array<string | number>> = Object.entries(rates).map(([name, rate]) => [
      name,
      fmt(rate),
      fmt(own / rate),
    ]);
    if (profile.startsWith('max2048'))
      rows.push([
        `jimp (${JIMP_PHOTOS} photos, one at a time: JS is single-threaded)`,
        fmt(jimpRate),
        fmt(own / jimpRate),
      ]);
    printTable(
      `Preprocess 12 MP JPEG → ${profile} JPEG q85 (${PHOTOS} photos, median of ${ROUNDS} rounds, concurrency ${concurrency})`,
      ['variant', 'images/s', 'visionpipe ×'],
      rows,
    );
  }

  // Corpus size reduction at the defaults.
  const corpus = await corpusImages();
  let before = 0;
  let after = 0;
  let passthrough = 0;
  const perFile: Array<{ name: string; before: number; after: number }> = [];
  for (const { name, bytes } of corpus) {
    const prepared = await preprocessImage(bytes, options, name);
    before += bytes.length;
    after += prepared.bytes;
    if (prepared.passthrough) passthrough++;
    perFile.push({ name, before: bytes.length, after: prepared.bytes });
  }
  const naiveAfter = (
    await Promise.all(
      corpus.map(({ bytes }) =>
        sharp(bytes, { autoOrient: true })
          .flatten({ background: '#ffffff' })
          .resize(2048, 2048, { fit: 'inside', withoutEnlargement: true })
          .jpeg({ quality: 85 })
          .toBuffer(),
      ),
    )
  ).reduce((sum, b) => sum + b.length, 0);
  const reduction = (1 - after / before) * 100;
  const naiveReduction = (1 - naiveAfter / before) * 100;
  printTable(
    `Corpus size reduction at max2048 / q85 (${corpus.length} real-world images)`,
    ['pipeline', 'bytes', 'reduction'],
    [
      ['original', String(before), '-'],
      ['visionpipe (quality cap + lossless passthrough)', String(after), `${fmt(reduction, 1)} %`],
      ['plain re-encode at q85 (the guide’s recipe)', String(naiveAfter), `${fmt(naiveReduction, 1)} %`],
    ],
  );
  const photoAfter = (await Promise.all(photos.slice(0, 4).map((p) => preprocessImage(p, options)))).reduce(
    (sum, p) => sum + p.bytes,
    0,
  );
  const photoReduction = (1 - photoAfter / photos.slice(0, 4).reduce((s, p) => s + p.length, 0)) * 100;
  console.log(`12 MP photos: ${fmt(photoReduction, 1)} % smaller at max2048/q85`);

  const file = await writeResults('preprocess', {
    photos: PHOTOS,
    rounds: ROUNDS,
    concurrency,
    scenarios: results,
    jimp_images_per_s: jimpRate,
    ratios: {
      vs_bare_libvips_2048: vp / bare,
      vs_bare_libvips_1024: at1024.visionpipe! / at1024['bare libvips']!,
      vs_no_shrink_on_load_1024: at1024.visionpipe! / at1024['no shrink-on-load']!,
      vs_jimp_2048: vp / jimpRate,
    },
    targets: { vs_bare_libvips: 0.9, vs_jimp: 20 },
    corpus: {
      files: corpus.length,
      before_bytes: before,
      after_bytes: after,
      reduction_pct: reduction,
      plain_reencode_reduction_pct: naiveReduction,
      passthrough,
      per_file: perFile,
    },
    synthetic_photo_reduction_pct: photoReduction,
  });
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
}

await main();
