import { policyResolver } from "../config/registries.ts";
import type { Config } from "../config/schema.ts";
import {
  createEngine,
  type Engine,
  type EngineMetrics,
  type ManifestLookupClient,
  type RegistryPolicy,
} from "./engine.ts";
import { compileExcludes, type ExcludeMatcher } from "./exclude.ts";

export interface ConfigPolicies {
  readonly policyFor: (registry: string) => RegistryPolicy;
  readonly excluded: ExcludeMatcher;
}

/** What the config says about a registry or an image, for the engine and for `explain`. */
export function configPolicies(config: Config, caPems: ReadonlyMap<string, string>): ConfigPolicies {
  return { policyFor: policyResolver(config.registries, caPems), excluded: compileExcludes(config.exclude) };
}

/** Wires the engine from a validated config; `caPems` maps `registries` keys to CA text read at start-up. */
export function engineFromConfig(
  config: Config,
  client: ManifestLookupClient,
  caPems: ReadonlyMap<string, string>,
  metrics?: EngineMetrics,
): Engine {
  return createEngine({
    client,
    ...configPolicies(config, caPems),
    platforms: config.platforms,
    cache: config.cache,
    concurrencyPerRegistry: config.concurrencyPerRegistry,
    lookupTimeoutMs: config.timeoutMs,
    ...(metrics ? { metrics } : {}),
  });
}
