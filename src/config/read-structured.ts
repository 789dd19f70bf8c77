/** Reading a YAML or JSON file the user points at (config, route rules), with errors that name it. */
import { readFile } from 'node:fs/promises';
import { VisionpipeError } from '../errors.js';
import { yaml } from '../on-first-use.js';

/**
 * The parsed contents of `file`: JSON when it ends in `.json`, YAML otherwise.
 * `label` names the file in messages (`config x.yaml`, `--route r.yaml`); `option` is the
 * flag it came from.
 */
export async function readStructuredFile(file: string, label: string, option: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new VisionpipeError('NOT_FOUND', `${label} ${file}: cannot be read (${(error as Error).message})`, {
      input: file,
    });
  }
  const json = file.endsWith('.json');
  try {
    return json ? JSON.parse(text) : yaml().parse(text);
  } catch (error) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `${label} ${file}: not valid ${json ? 'JSON' : 'YAML'} (${(error as Error).message})`,
      { option },
    );
  }
}
