/**
 * `visionpipe run`'s flag combinations, checked before anything is loaded or written:
 * each refusal is an INVALID_OPTION naming the flag and why.
 */

import { didYouMean } from '../../config/did-you-mean.js';
import { VisionpipeError } from '../../errors.js';
import { isProfileName, PROFILE_NAMES, type ProfileName } from '../../image/profiles.js';
import { parseModelRef } from '../cost-flags.js';
import type { RunFlags } from '../run.js';

/** What the checked flags resolve to. */
export interface CheckedRunFlags {
  profile: ProfileName | undefined;
  triage: { provider: string; model?: string } | undefined;
  escalation: { provider: string; model?: string } | undefined;
}

/** --watch is the run's only input and needs an answer per file now. */
function checkWatchFlags(inputs: string[], flags: RunFlags): void {
  const clash =
    inputs.length > 0
      ? 'input arguments'
      : flags.list
        ? '--list'
        : flags.batchApi
          ? '--batch-api'
          : undefined;
  if (clash)
    throw new VisionpipeError(
      'INVALID_OPTION',
      `--watch cannot be combined with ${clash}: it watches one folder`,
      {
        option: 'watch',
      },
    );
}

function checkProfile(inputs: string[], flags: RunFlags): ProfileName | undefined {
  if (flags.watch !== undefined) checkWatchFlags(inputs, flags);
  else if (inputs.length === 0 && !flags.list) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      'give at least one input (file, folder, glob, URL) or --list FILE',
      {
        option: 'inputs',
      },
    );
  }
  return profileFlag(flags.profile);
}

/** `--profile` as a ProfileName (run and estimate); INVALID_OPTION naming the choices otherwise. */
export function profileFlag(profile: string | undefined): ProfileName | undefined {
  if (profile === undefined) return undefined;
  if (!isProfileName(profile)) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `--profile "${profile}" is not a profile; choose one of ${PROFILE_NAMES.join(', ')}.${didYouMean(profile, PROFILE_NAMES)}`,
      { option: 'profile' },
    );
  }
  return profile;
}

/**
 * Checks the inputs against --watch/--list, --profile, and the cascade and batch flags.
 * Throws INVALID_OPTION (with `option` set) on the first bad combination.
 */
export function checkRunFlags(inputs: string[], flags: RunFlags): CheckedRunFlags {
  const profile = checkProfile(inputs, flags);
  const triage = flags.triage ? parseModelRef(flags.triage, '--triage') : undefined;
  const escalation = flags.escalateTo ? parseModelRef(flags.escalateTo, '--escalate-to') : undefined;
  if (flags.batchApi && escalation) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      '--batch-api and --escalate-to cannot be combined: escalation needs an answer now',
      {
        option: 'batchApi',
      },
    );
  }
  if (flags.batchApi && flags.maxCostUsd !== undefined) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      '--max-cost-usd cannot be combined with --batch-api: batch results arrive too late to stop in time',
      {
        option: 'maxCostUsd',
      },
    );
  }
  if (flags.escalateBelow !== undefined && !escalation) {
    throw new VisionpipeError('INVALID_OPTION', '--escalate-below needs --escalate-to provider:model', {
      option: 'escalateBelow',
    });
  }
  return { profile, triage, escalation };
}
