/**
 * The CLI's errors on user data (issue 12): one line with the code and the message, exit 2;
 * never a stack trace, never a secret. Anything unexpected is INTERNAL, exit 3, still one line.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeCliError } from '../../src/cli/error-output.js';
import { VisionpipeError } from '../../src/errors.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';

const STACK_LINE = /\n\s+at .+:\d+:\d+/;

describe('describeCliError', () => {
  it('prints the code and message of a VisionpipeError, exit 2', () => {
    const report = describeCliError(new VisionpipeError('INVALID_PATTERN', 'p.json: bad'));
    expect(report).toEqual({ line: 'error [INVALID_PATTERN]: p.json: bad', exitCode: 2 });
  });

  it('an unexpected error is INTERNAL, exit 3, without its stack unless VISIONPIPE_DEBUG=1', () => {
    const error = new RangeError('Maximum call stack size exceeded');
    const plain = describeCliError(error, {});
    expect(plain.exitCode).toBe(3);
    expect(plain.line).toMatch(/^error \[INTERNAL\]: RangeError: Maximum call stack size exceeded/);
    expect(plain.line).not.toMatch(STACK_LINE);
    expect(describeCliError(error, { VISIONPIPE_DEBUG: '1' }).line).toMatch(STACK_LINE);
    expect(describeCliError('a string', {}).line).toContain('error [INTERNAL]: a string');
  });

  it('hides secrets in both kinds of error', () => {
    const key = 'sk-proj-abcdefghijklmnopqrstuvwx';
    expect(describeCliError(new Error(`gateway said Bearer ${key}`), {}).line).not.toContain(key);
    expect(
      describeCliError(new VisionpipeError('FETCH_FAILED', `http://u:pw@h/x?token=${key}`)).line,
    ).not.toContain(key);
  });
});

describe('the visionpipe binary on bad user data', () => {
  it.each([
    ['a missing pattern', ['run', 'x.png', '-p', 'missing.json'], 'NOT_FOUND'],
    ['a pattern that is not JSON', ['run', 'x.png', '-p', 'bad.json'], 'INVALID_PATTERN'],
    ['a pattern with a bad schema', ['estimate', 'x.png', '-p', 'schema.json'], 'INVALID_PATTERN'],
    ['a bad option value', ['run', 'x.png', '-p', 'bad.json', '--profile', 'nope'], 'INVALID_'],
  ])('%s: one line with the code, exit 2, no stack', async (_name, args, code) => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'bad.json'), '{"name": "x", "format": ');
    await writeFile(
      path.join(dir, 'schema.json'),
      JSON.stringify({
        name: 'x',
        format: 'json',
        instructions: 'x',
        json_schema: { type: 'object', properties: { a: { $ref: 'http://evil/x' } } },
      }),
    );
    const result = await runCli(args, { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`error [${code}`);
    expect(result.stderr).not.toMatch(STACK_LINE);
  });
});
