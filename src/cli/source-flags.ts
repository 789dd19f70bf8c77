/**
 * How inputs are read, shared by every command that reads them (run, estimate, optimize):
 * the byte limit and whether URLs may point at private addresses. One definition, so an
 * input refused by one command is refused by the others, and estimate prices what run reads.
 */
import type { Command } from 'commander';
import { DEFAULT_MAX_INPUT_BYTES } from '../image/input-limits.js';
import { sizeOption } from './parsers.js';

export interface SourceFlags {
  maxInputBytes: number;
  allowPrivateUrls?: boolean;
}

export function addSourceOptions(command: Command): Command {
  return command
    .addOption(sizeOption('--max-input-bytes', 'refuse larger inputs', DEFAULT_MAX_INPUT_BYTES))
    .option('--allow-private-urls', 'allow URLs that resolve to loopback/private/link-local addresses');
}
