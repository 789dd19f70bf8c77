/**
 * The one place a command's flags become its PipelineSet (runs/pipeline-set.ts): `run` and
 * `estimate` load the pattern, the routing rules and the main provider the same way, so an
 * estimate prices exactly the pipelines a run would use.
 */
import type { ProfileName } from '../../image/profiles.js';
import { loadPattern } from '../../patterns/index.js';
import { createProvider, type ProviderOptions } from '../../providers/registry.js';
import type { Provider } from '../../providers/spec.js';
import { PipelineSet, type PipelineSetOptions } from '../../runs/pipeline-set.js';
import { loadRouter, type Route, type Router } from '../../runs/routes.js';
import type { CostFlags } from '../cost-flags.js';
import type { ProviderFlags } from '../provider-flags.js';
import { providerOptionsFrom } from '../provider-settings.js';

/** What a command reads before anything is written: a bad one stops it there. */
export interface PipelinePlan {
  defaults: Route;
  router?: Router;
  providerOptions: ProviderOptions;
  /** The command's own provider, made now so an unknown id or a bad option fails first. */
  mainProvider: Provider;
}

/**
 * Loads the pattern (`flags.pattern`), the routing rules (`--route`) and the main provider.
 * Throws the loaders' typed errors (PATTERN_INVALID, NOT_FOUND, INVALID_OPTION, …) naming the file or flag.
 */
export async function planPipelines(
  flags: ProviderFlags & Pick<CostFlags, 'route'> & { pattern: string },
  options: { profile?: ProfileName } = {},
): Promise<PipelinePlan> {
  const pattern = await loadPattern(flags.pattern);
  const defaults: Route = { pattern, provider: flags.provider, model: flags.model, profile: options.profile };
  const router = flags.route ? await loadRouter(flags.route, defaults) : undefined;
  const providerOptions = providerOptionsFrom(flags);
  const mainProvider = createProvider(flags.provider, providerOptions);
  return { defaults, ...(router ? { router } : {}), providerOptions, mainProvider };
}

/** The run's settings the plan does not fix (cache, limiter, cascade…). */
export type PipelineSettings = Omit<
  PipelineSetOptions,
  'defaults' | 'router' | 'providers' | 'providerOptions'
>;

/** The PipelineSet of a plan; it closes the plan's main provider when closed. */
export function buildPipelineSet(plan: PipelinePlan, settings: PipelineSettings): PipelineSet {
  return new PipelineSet({
    defaults: plan.defaults,
    ...(plan.router ? { router: plan.router } : {}),
    providers: [plan.mainProvider],
    providerOptions: plan.providerOptions,
    ...settings,
  });
}
