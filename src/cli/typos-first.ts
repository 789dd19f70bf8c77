/**
 * A mistyped flag is named before anything else. Commander checks mandatory options
 * before unknown ones, so `visionpipe run imgs --patern p.json` said "required option
 * '-p, --pattern' not specified" and hid the typo. Here each command's mandatory options
 * are checked in a preAction hook instead, which runs after the unknown-option check
 * (with its "Did you mean --pattern?"); the message and the usage exit stay commander's.
 */
import type { Command, Option } from 'commander';

/** Moves `command`'s mandatory-option check after its unknown-option check (not recursive). */
export function typosBeforeMissingOptions(command: Command): void {
  const required: Option[] = command.options.filter((option) => option.mandatory);
  if (required.length === 0) return;
  for (const option of required) option.mandatory = false;
  command.hook('preAction', (_program, actioned) => {
    if (actioned !== command) return;
    for (const option of required) {
      if (command.getOptionValue(option.attributeName()) === undefined)
        command.error(`error: required option '${option.flags}' not specified`, {
          code: 'commander.missingMandatoryOptionValue',
        });
    }
  });
}
