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

export interface ConfiguredEngine {
  readonly engine: Engine;
  readonly policyFor: (registry: string) => RegistryPolicy;
  readonly excluded: ExcludeMatcher;
}

/** Wires the engine from a validated config; `caPems` maps `registries` keys to CA text read at start-up. */
export function engineFromConfig(
  config: Config,
  client: ManifestLookupClient,
  caPems: ReadonlyMap<string, string>,
  metrics?: EngineMetrics,
): ConfiguredEngine {
  const policyFor = policyResolver(config.registries, caPems);
  const excluded = compileExcludes(config.exclude);
  const engine = createEngine({
    client,
    policyFor,
    excluded,
    platforms: config.platforms,
    cache: config.cache,
    concurrencyPerRegistry: config.concurrencyPerRegistry,
    lookupTimeoutMs: config.timeoutMs,
    ...(metrics ? { metrics } : {}),
  });
  return { engine, policyFor, excluded };
}
