/** What `visionpipe init` does (flags and help: ../init.ts). */
import { constants } from 'node:fs';
import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { VisionpipeError } from '../../errors.js';
import type { InitFlags } from '../init.js';
import { INIT_CONFIG, INIT_CONFIG_FILE, INIT_PATTERN, INIT_PATTERN_FILE } from '../init-files.js';

const exists = (file: string) =>
  access(file, constants.F_OK).then(
    () => true,
    () => false,
  );

/**
 * Writes the config and the starter pattern into `flags.dir`. Throws INVALID_OPTION, before
 * writing anything, when one of them exists and `--force` was not given.
 */
export async function initAction(flags: InitFlags): Promise<void> {
  const dir = path.resolve(flags.dir);
  const files = [
    { name: INIT_CONFIG_FILE, text: INIT_CONFIG },
    { name: INIT_PATTERN_FILE, text: INIT_PATTERN },
  ];
  if (!flags.force) {
    const taken = [];
    for (const file of files) if (await exists(path.join(dir, file.name))) taken.push(file.name);
    if (taken.length > 0) {
      throw new VisionpipeError(
        'INVALID_OPTION',
        `${taken.join(' and ')} already ${taken.length === 1 ? 'exists' : 'exist'} in ${dir}: nothing was written (--force replaces ${taken.length === 1 ? 'it' : 'them'})`,
        { option: 'force' },
      );
    }
  }
  for (const file of files) {
    const target = path.join(dir, file.name);
    try {
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, file.text);
    } catch (error) {
      throw new VisionpipeError(
        'INVALID_OPTION',
        `cannot write ${target}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        { option: 'dir', cause: error },
      );
    }
    process.stdout.write(`wrote ${path.relative(process.cwd(), target) || target}\n`);
  }
  const where = path.relative(process.cwd(), dir);
  process.stdout.write(
    `\nNext:\n${where ? `  cd ${where}\n` : ''}  visionpipe pattern check ${INIT_PATTERN_FILE}\n  visionpipe run YOUR_IMAGES --pattern ${INIT_PATTERN_FILE}\n`,
  );
}
