import { readFile } from "node:fs/promises";
import type { RegistryPolicy } from "../check/engine.ts";
import { matchesHostPattern } from "../credentials/keyring.ts";
import type { RegistrySettingsConfig } from "./schema.ts";

/**
 * Resolves the `registries` entry for a registry host: an exact `host[:port]` key
 * wins, then kubelet-style globs (one label per `*`, ports must match), most
 * specific (reverse-lexicographic, as the kubelet orders keys) first.
 */
export function policyResolver(
  registries: Readonly<Record<string, RegistrySettingsConfig>>,
  caPems: ReadonlyMap<string, string>,
): (registry: string) => RegistryPolicy {
  const keys = Object.keys(registries).sort().reverse();
  const memo = new Map<string, RegistryPolicy>();
  return (registry) => {
    const known = memo.get(registry);
    if (known) return known;
    const key = Object.hasOwn(registries, registry)
      ? registry
      : keys.find((pattern) => matchesHostPattern(pattern, registry));
    const settings = key === undefined ? undefined : registries[key];
    const caPem = key === undefined ? undefined : caPems.get(key);
    const policy: RegistryPolicy = {
      pattern: key ?? null,
      skip: settings?.skip ?? false,
      nodeCredentials: settings?.nodeCredentials ?? false,
      settings: {
        insecure: settings?.insecure ?? false,
        trusted: key !== undefined,
        ...(caPem ? { caPem } : {}),
      },
    };
    if (memo.size < 1_000) memo.set(registry, policy);
    return policy;
  };
}

/** Reads every configured `caFile` once at start-up; problems name the key. */
export async function readRegistryCas(
  registries: Readonly<Record<string, RegistrySettingsConfig>>,
): Promise<{ ok: true; pems: Map<string, string> } | { ok: false; problems: string[] }> {
  const pems = new Map<string, string>();
  const problems: string[] = [];
  for (const [key, settings] of Object.entries(registries)) {
    if (!settings.caFile) continue;
    try {
      const pem = await readFile(settings.caFile, "utf8");
      if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
        problems.push(`registries."${key}".caFile: ${settings.caFile} holds no PEM certificate`);
      } else {
        pems.set(key, pem);
      }
    } catch (error) {
      problems.push(
        `registries."${key}".caFile: cannot read ${settings.caFile} (${(error as NodeJS.ErrnoException).code ?? error})`,
      );
    }
  }
  return problems.length ? { ok: false, problems } : { ok: true, pems };
}
