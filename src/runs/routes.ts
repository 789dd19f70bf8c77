/**
 * Routing rules (`--route FILE`): which pattern, provider, model and profile each input
 * is read with — the source documents' "batch similar images, use task-specialised
 * models". Rules apply in order, each on top of the last, like CSS: a rule matches by
 * input path (a glob) and/or by the pattern chosen so far, and overrides what it names.
 *
 *   routes:
 *     - when: { path: "**\/receipts/**" }
 *       use: { pattern: patterns/receipt.yaml }
 *     - when: { pattern: receipt }            # the pattern's name
 *       use: { provider: openai, model: gpt-4.1-mini }
 *     - when: { path: "**\/contracts/**" }
 *       use: { provider: anthropic, model: claude-sonnet-4-5 }
 *
 * Pattern paths are relative to the rules file. The command's own --pattern, --provider
 * and --model are the starting point.
 */
import path from 'node:path';
import picomatch from 'picomatch';
import { z } from 'zod';
import { readStructuredFile } from '../config/read-structured.js';
import { parseOptions } from '../config/validate.js';
import { isProfileName, PROFILE_NAMES, type ProfileName } from '../image/profiles.js';
import { loadPattern } from '../patterns/index.js';
import type { Pattern } from '../patterns/types.js';

const ruleSchema = z
  .object({
    when: z
      .object({ path: z.string().min(1).optional(), pattern: z.string().min(1).optional() })
      .strict()
      .refine((when) => when.path !== undefined || when.pattern !== undefined, {
        message: 'needs path or pattern',
      }),
    use: z
      .object({
        pattern: z.string().min(1).optional(),
        provider: z.string().min(1).optional(),
        model: z.string().min(1).optional(),
        profile: z
          .string()
          .refine(isProfileName, { message: `expected one of ${PROFILE_NAMES.join(', ')}` })
          .optional(),
      })
      .strict(),
  })
  .strict();

const routesSchema = z.object({ routes: z.array(ruleSchema).min(1) }).strict();

export interface Route {
  pattern: Pattern;
  provider: string;
  model: string | undefined;
  profile: ProfileName | undefined;
}

export interface Router {
  /** The route for an input (label as given on the command line or found in a folder). */
  route(input: string): Route;
  /** A fingerprint of the rules and the patterns they use: part of the resume signature. */
  fingerprint: string;
  /** Every provider id a rule can choose (their options are part of the resume signature too). */
  providers: string[];
  /**
   * The provider and model each rule sets (either may be missing: it keeps the one before),
   * for the checks that need every model a run can call (`--max-cost-usd` needs their prices).
   */
  choices?: Array<{ provider?: string; model?: string }>;
}

interface CompiledRule {
  path: ((input: string) => boolean) | undefined;
  patternName: string | undefined;
  use: { pattern?: Pattern; provider?: string; model?: string; profile?: ProfileName };
}

/**
 * The providers the rules of a routes file choose (`use.provider`), in order, without
 * duplicates; the file is read and checked as `loadRouter` does (NOT_FOUND, INVALID_OPTION).
 * Used to check a routes file named by a config nobody named (config/implicit.ts).
 */
export async function routeProvidersOf(file: string): Promise<string[]> {
  const raw = await readStructuredFile(file, '--route', 'route');
  const parsed = parseOptions(routesSchema, raw, `route file ${file}:`);
  return [...new Set(parsed.routes.flatMap((rule) => rule.use.provider ?? []))];
}

export async function loadRouter(file: string, defaults: Route): Promise<Router> {
  const raw = await readStructuredFile(file, '--route', 'route');
  const parsed = parseOptions(routesSchema, raw, `route file ${file}:`);
  const base = path.dirname(path.resolve(file));
  const patterns = new Map<string, Pattern>();
  const rules: CompiledRule[] = [];
  for (const rule of parsed.routes) {
    let pattern: Pattern | undefined;
    if (rule.use.pattern) {
      const location = path.resolve(base, rule.use.pattern);
      pattern = patterns.get(location) ?? (await loadPattern(location));
      patterns.set(location, pattern);
    }
    rules.push({
      path: rule.when.path
        ? picomatch(rule.when.path, { dot: true, contains: !rule.when.path.includes('/') })
        : undefined,
      patternName: rule.when.pattern,
      use: {
        ...(pattern ? { pattern } : {}),
        ...(rule.use.provider ? { provider: rule.use.provider } : {}),
        ...(rule.use.model ? { model: rule.use.model } : {}),
        ...(rule.use.profile ? { profile: rule.use.profile as ProfileName } : {}),
      },
    });
  }
  const fingerprint = JSON.stringify([
    raw, // the rules as parsed: a comment edit does not break resume
    [...patterns.values()].map((p) => p.fingerprint),
    defaults.pattern.fingerprint,
  ]);
  const providers = [...new Set([defaults.provider, ...rules.flatMap((rule) => rule.use.provider ?? [])])];
  const choices = rules
    .filter((rule) => rule.use.provider !== undefined || rule.use.model !== undefined)
    .map((rule) => ({
      ...(rule.use.provider ? { provider: rule.use.provider } : {}),
      ...(rule.use.model ? { model: rule.use.model } : {}),
    }));
  return {
    fingerprint,
    providers,
    choices,
    route(input) {
      const normalised = input.split(path.sep).join('/');
      let current: Route = { ...defaults };
      for (const rule of rules) {
        if (rule.path && !rule.path(normalised)) continue;
        if (rule.patternName !== undefined && rule.patternName !== current.pattern.name) continue;
        // A new provider starts from that provider's default model unless the rule names one.
        const providerChanged = rule.use.provider !== undefined && rule.use.provider !== current.provider;
        current = {
          pattern: rule.use.pattern ?? current.pattern,
          provider: rule.use.provider ?? current.provider,
          model: rule.use.model ?? (providerChanged ? undefined : current.model),
          profile: rule.use.profile ?? current.profile,
        };
      }
      return current;
    },
  };
}
