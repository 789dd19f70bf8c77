/**
 * YAML with the `yaml` package, keys in schema order. Strings are quoted whenever a
 * YAML 1.1 reader (PyYAML, many config tools) would read them as something else, not
 * only a YAML 1.2 reader: `yes`, `no`, `on`, `y`, `007`, `12:30`, `1_000` stay strings
 * everywhere. Numbers in exponent form are written with a fraction and a signed
 * exponent (`1.0e+21`), the one spelling both YAML versions read as a float (YAML 1.1
 * reads `1e+21` as a string). Long lines are never folded, multi-line strings become
 * block scalars.
 */
import type { ScalarTag } from 'yaml';
import { yaml } from '../on-first-use.js';

const exponentNumber: ScalarTag = {
  identify: (value) => typeof value === 'number' && Number.isFinite(value) && String(value).includes('e'),
  default: true,
  tag: 'tag:yaml.org,2002:float',
  // Never used to read (the yaml package prefers tags with a test when several match a value).
  test: /(?!)/,
  resolve: (text) => Number.parseFloat(text),
  stringify: ({ value }) => {
    const [mantissa, exponent] = String(value).split('e') as [string, string];
    return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}e${exponent}`;
  },
};

// A tab or another control character in a plain scalar is legal YAML 1.2, but PyYAML
// refuses it ("found character '\t' that cannot start any token"): such strings are
// written double-quoted, with JSON's escapes (a subset of YAML's double-quoted ones).
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const CONTROL_CHARACTER = /[\u0000-\u0008\u000b-\u001f\u007f]|\t/;

const controlString: ScalarTag = {
  identify: (value) => typeof value === 'string' && CONTROL_CHARACTER.test(value),
  default: true,
  tag: 'tag:yaml.org,2002:str',
  // Never used to read: plain and quoted strings are read by the package's own str tag.
  test: /(?!)/,
  resolve: (text) => text,
  stringify: ({ value }) => JSON.stringify(value),
};

/** Every YAML visionpipe writes for people: the per-image files and `--combine .yaml`. */
export function renderYaml(ordered: unknown): string {
  return yaml().stringify(ordered, {
    compat: 'yaml-1.1',
    lineWidth: 0,
    aliasDuplicateObjects: false,
    customTags: (tags) => [exponentNumber, controlString, ...tags],
  });
}
