/**
 * Cost flags shared by `run` and `estimate`: the per-image token budget, triage and
 * escalation, and routing rules. `provider:model` names a model anywhere.
 */
import type { Command } from 'commander';
import { didYouMean } from '../config/did-you-mean.js';
import { VisionpipeError } from '../errors.js';
import { PROFILE_NAMES } from '../image/profiles.js';
import { PROVIDER_IDS } from '../providers/ids.js';
import { integer } from './parsers.js';

export interface CostFlags {
  /** A size profile instead of the model's own (validated when the command runs: run-checks.ts). */
  profile?: string;
  maxImageTokens?: number;
  triage?: string;
  triageQuestion?: string;
  triageBaseUrl?: string;
  escalateTo?: string;
  escalateBelow?: number;
  escalateBaseUrl?: string;
  route?: string;
  /** Below it an output is LOW_CONFIDENCE, after escalation; with --escalate-to it also escalates. */
  minConfidence?: number;
}

/** `local`, `openai` or `openai:gpt-4.1-mini` → provider id and optional model. */
export function parseModelRef(text: string, option: string): { provider: string; model?: string } {
  const [provider = '', ...rest] = text.split(':');
  const model = rest.join(':');
  if (!(PROVIDER_IDS as readonly string[]).includes(provider)) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `${option} "${text}": expected provider or provider:model with provider one of ${PROVIDER_IDS.join(', ')}.${didYouMean(provider, PROVIDER_IDS)}`,
      { option },
    );
  }
  return { provider, ...(model ? { model } : {}) };
}

/** A parser for a 0–1 confidence flag; INVALID_OPTION naming `option` otherwise. */
function confidence(option: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !(n >= 0 && n <= 1))
      throw new VisionpipeError(
        'INVALID_OPTION',
        `${option} must be a confidence from 0 to 1 (got "${value}")`,
        {
          option,
        },
      );
    return n;
  };
}

/** Help text a command may give a shared option in its own words (the flag and parser stay shared). */
export type CostOptionHelp = Partial<
  Record<'--triage' | '--escalate-to' | '--escalate-below' | '--min-confidence', string>
>;

/**
 * The cost flags, defined once for `run` and `estimate` so the two cannot drift: every
 * option of run that changes what is priced is accepted by estimate, with the same name
 * and parser (estimate refuses, by name, what it cannot price: actions/estimate.ts).
 * `help` rewords an option's description for the command.
 */
export function addCostOptions(command: Command, help: CostOptionHelp = {}): Command {
  return command
    .option(
      '--profile <name>',
      `size profile override: ${PROFILE_NAMES.join(', ')} (default: the model's own profile)`,
    )
    .option(
      '--max-image-tokens <n>',
      'image-token budget per image: send the largest size within it (by the provider’s formula)',
      integer(1),
    )
    .option(
      '--route <file>',
      'routing rules: input folder or pattern → pattern/provider/model (YAML or JSON)',
    )
    .option(
      '--triage <model>',
      help['--triage'] ??
        'ask local or provider:model "is this relevant?" at low resolution first; skip the rest',
    )
    .option('--triage-question <text>', 'the yes/no question (default: derived from the pattern)')
    .option('--triage-base-url <url>', 'base URL for the triage provider')
    .option(
      '--escalate-to <model>',
      help['--escalate-to'] ?? 'retry once on a stronger provider:model when the output fails the schema',
    )
    .option(
      '--escalate-below <confidence>',
      help['--escalate-below'] ?? '…or when its confidence is below this (0–1)',
      confidence('--escalate-below'),
    )
    .option('--escalate-base-url <url>', 'base URL for the escalation provider')
    .option(
      '--min-confidence <0-1>',
      help['--min-confidence'] ??
        'outputs below this confidence become LOW_CONFIDENCE errors, after any escalation (default: counted apart in the summary at the engine calibration, 0.35 for local)',
      confidence('--min-confidence'),
    );
}
