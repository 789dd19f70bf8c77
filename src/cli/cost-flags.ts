/**
 * Cost flags shared by `run` and `estimate`: the per-image token budget, triage and
 * escalation, and routing rules. `provider:model` names a model anywhere.
 */
import type { Command } from 'commander';
import { didYouMean } from '../config/did-you-mean.js';
import { VisionpipeError } from '../errors.js';
import { PROVIDER_IDS } from '../providers/ids.js';
import { integer } from './parsers.js';

export interface CostFlags {
  maxImageTokens?: number;
  triage?: string;
  triageQuestion?: string;
  triageBaseUrl?: string;
  escalateTo?: string;
  escalateBelow?: number;
  escalateBaseUrl?: string;
  route?: string;
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

function confidence(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `--escalate-below must be a confidence from 0 to 1 (got "${value}")`,
      {
        option: 'escalateBelow',
      },
    );
  }
  return n;
}

export function addCostOptions(command: Command, which: { cascade: boolean }): Command {
  command.option(
    '--max-image-tokens <n>',
    'image-token budget per image: send the largest size within it (by the provider’s formula)',
    integer(1),
  );
  command.option(
    '--route <file>',
    'routing rules: input folder or pattern → pattern/provider/model (YAML or JSON)',
  );
  if (!which.cascade) return command;
  return command
    .option(
      '--triage <model>',
      'ask local or provider:model "is this relevant?" at low resolution first; skip the rest',
    )
    .option('--triage-question <text>', 'the yes/no question (default: derived from the pattern)')
    .option('--triage-base-url <url>', 'base URL for the triage provider')
    .option(
      '--escalate-to <model>',
      'retry once on a stronger provider:model when the output fails the schema',
    )
    .option('--escalate-below <confidence>', '…or when its confidence is below this (0–1)', confidence)
    .option('--escalate-base-url <url>', 'base URL for the escalation provider');
}
