/**
 * `visionpipe optimize`: preprocess images for vision providers and write them to a folder.
 * The command's flags and help; what it does is actions/optimize.ts, loaded when it runs.
 */
import { Command, Option } from 'commander';
import type { OutputFormat } from '../image/options.js';
import { defaultConcurrency } from '../image/parallelism.js';
import { PROFILE_NAMES, SIZE_PROFILES } from '../image/profiles.js';
import { addPageSelectionOptions } from './document-flags.js';
import { durationOption } from './duration-flag.js';
import { integer, oneOf, pixelCount } from './parsers.js';
import { refuseFlag, refuseShortFlag } from './short-flags.js';
import { addSourceOptions, type SourceFlags } from './source-flags.js';

export interface OptimizeFlags extends SourceFlags {
  outDir: string;
  profile: string;
  maxSize?: number;
  format: OutputFormat;
  quality: number;
  mozjpeg?: boolean;
  crop?: string;
  flatten: boolean;
  background: string;
  concurrency: number;
  maxPixels: number;
  timeout: number;
  json?: boolean;
  progress: boolean;
  pageRange?: string;
  maxPages?: number;
}

const EXAMPLES = `
Examples:
  $ visionpipe optimize ./scans --out-dir out
  $ visionpipe optimize 'photos/**/*.jpg' --out-dir out --profile anthropic
  $ visionpipe optimize invoice.png --out-dir out --crop 0,0,100%,50% --format webp --quality 80
  $ visionpipe optimize https://example.com/receipt.jpg --out-dir out --json
  $ visionpipe optimize invoice.pdf --out-dir out --page-range 1-3   # out/invoice.p001.jpg …

Profiles:
${PROFILE_NAMES.map((name) => `  ${name.padEnd(12)} ${SIZE_PROFILES[name].description}`).join('\n')}

Exit codes: 0 all files optimized, 1 some inputs failed (the rest are written), 2 usage error.`;

export function optimizeCommand(): Command {
  const command = new Command('optimize')
    .description(
      'Orient, crop, resize, flatten and strip images the way vision providers want them, and write them to a folder',
    )
    .argument('<inputs...>', 'files, directories (recursive), globs or http(s) URLs')
    .requiredOption('--out-dir <dir>', 'folder for the optimized files (relative paths are kept)')
    .option('--profile <name>', `size profile: ${PROFILE_NAMES.join(', ')}`, 'max2048')
    .option('--max-size <px>', "longest edge in pixels (overrides the profile's)", integer(16, 65_535))
    .option(
      '-f, --format <format>',
      'output format: jpeg, png or webp',
      oneOf(['jpeg', 'png', 'webp'] as const),
      'jpeg',
    )
    .option(
      '-q, --quality <1-100>',
      'JPEG/WebP quality (never above a JPEG source’s own)',
      integer(1, 100),
      85,
    )
    .option('--mozjpeg', 'mozjpeg encoder: ~10% smaller JPEGs, ~4x slower')
    .option('--crop <l,t,w,h>', 'keep a region: pixels (120), percentages (50%) or fractions (0.5)')
    .option('--no-flatten', 'keep transparency in PNG/WebP output (JPEG is always flattened)')
    .option('--background <hex>', 'colour under transparent pixels', '#ffffff')
    .option('-c, --concurrency <n>', 'images processed at once', integer(1, 1024), defaultConcurrency())
    .addOption(
      new Option('--max-pixels <n>', 'refuse images with more pixels: 100MP or 100000000')
        .argParser(pixelCount)
        .default(100_000_000, '100MP'),
    )
    .addOption(durationOption('--timeout', 'timeout for each URL download', 30_000, 1))
    .option('--json', 'print one JSON summary object instead of the table')
    .option('--no-progress', 'no progress bar or progress lines');
  addSourceOptions(command);
  // PDFs, multi-page TIFFs and HEICs: one file per page, name.p001.jpg … (docs/documents.md).
  refuseShortFlag(command, '-o', "optimize writes to the folder --out-dir <dir>; -o is run's results file");
  refuseFlag(command, '--out', "optimize writes to the folder --out-dir <dir>; --out is run's results file");
  return addPageSelectionOptions(command)
    .addHelpText('after', EXAMPLES)
    .action(async (inputs: string[], flags: OptimizeFlags) => {
      const { runOptimize } = await import('./actions/optimize.js');
      process.exitCode = await runOptimize(inputs, flags);
    });
}
