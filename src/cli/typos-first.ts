/**
 * A mistyped flag is named before anything else. Commander checks mandatory options
 * before unknown ones, so `visionpipe run imgs --patern p.json` said "required option
 * '-p, --pattern' not specified" and hid the typo. Here each command's mandatory options
 * are checked in the program's preAction hook instead, which runs after the unknown-option check
 * (with its "Did you mean --pattern?"); the message and the usage exit stay commander's.
 */
import type { Command, Option } from 'commander';

const REQUIRED = new WeakMap<Command, Option[]>();

/**
 * Turns off commander's own mandatory-option check on `command` (not recursive); the check
 * is made again by {@link checkMissingOptions}, after the unknown-option check.
 */
export function typosBeforeMissingOptions(command: Command): void {
  const required: Option[] = command.options.filter((option) => option.mandatory);
  if (required.length === 0) return;
  for (const option of required) option.mandatory = false;
  REQUIRED.set(command, required);
}

/**
 * Fails with commander's "required option ... not specified" usage error when `command` (the
 * one about to run) lacks a mandatory option. Called from the program's first preAction
 * hook, so nothing else (config, heavy imports) runs before a usage error.
 */
export function checkMissingOptions(command: Command): void {
  for (const option of REQUIRED.get(command) ?? []) {
    if (command.getOptionValue(option.attributeName()) === undefined)
      command.error(`error: required option '${option.flags}' not specified`, {
        code: 'commander.missingMandatoryOptionValue',
      });
  }
}
