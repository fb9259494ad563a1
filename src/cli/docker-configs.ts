import { parse as parseYaml } from "yaml";
import type { CredentialContext } from "../check/types.ts";
import { NO_CREDENTIALS } from "../check/types.ts";
import { parseDockerConfig, parsePullSecret } from "../credentials/docker-config.ts";
import { type CliIO, InputError, readInput } from "./inputs.ts";

/**
 * `--docker-config FILE` (repeatable), in the order given: a docker config.json, a
 * Secret's decoded `.dockerconfigjson`/`.dockercfg` payload, or the Secret manifest itself
 * (`kubectl get secret -o yaml`). A file that cannot be read is an input error; one that
 * reads but does not parse is kept as an invalid pull secret, because that is what the
 * kubelet would make of it (every pull fails).
 */
export async function readDockerConfigs(io: CliIO, paths: readonly string[]): Promise<CredentialContext> {
  if (paths.length === 0) return NO_CREDENTIALS;
  const sources: Array<CredentialContext["sources"][number]> = [];
  const invalid: Array<CredentialContext["invalid"][number]> = [];
  for (const path of paths) {
    const text = await readInput(io, path, "docker config");
    const origin = { source: "docker-config" as const, secret: path };
    const secret = secretManifest(text);
    if (secret !== null) {
      const parsed = parsePullSecret(secret);
      if (parsed.kind === "entries") sources.push({ origin, entries: parsed.entries });
      else if (parsed.kind === "invalid") invalid.push({ origin, reason: parsed.reason });
      else throw new InputError(`${path}: ${parsed.reason}`);
      continue;
    }
    const parsed = parseDockerConfig(text);
    if (parsed.ok) sources.push({ origin, entries: parsed.entries });
    else invalid.push({ origin, reason: parsed.reason });
  }
  return { sources, invalid, missing: [] };
}

/** The file as a Secret manifest (YAML or JSON with `kind: Secret`), or null when it is not one. */
function secretManifest(text: string): { type?: string; data?: Record<string, string> } | null {
  if (!/\bkind\b/.test(text) || !/\bSecret\b/.test(text)) return null;
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const object = value as Record<string, unknown>;
  if (object.kind !== "Secret") return null;
  const data =
    typeof object.data === "object" && object.data !== null ? (object.data as Record<string, string>) : {};
  return { ...(typeof object.type === "string" ? { type: object.type } : {}), data };
}
