import type { CredentialContext } from "../check/types.ts";
import { NO_CREDENTIALS } from "../check/types.ts";
import { parseDockerConfig } from "../credentials/docker-config.ts";
import { type CliIO, readInput } from "./inputs.ts";

/**
 * `--docker-config FILE` (repeatable), in the order given. A file that cannot be read
 * is an input error; one that reads but does not parse is kept as an invalid pull
 * secret, because that is what the kubelet would make of it (every pull fails).
 */
export async function readDockerConfigs(io: CliIO, paths: readonly string[]): Promise<CredentialContext> {
  if (paths.length === 0) return NO_CREDENTIALS;
  const sources: Array<CredentialContext["sources"][number]> = [];
  const invalid: Array<CredentialContext["invalid"][number]> = [];
  for (const path of paths) {
    const text = await readInput(io, path, "docker config");
    const origin = { source: "docker-config" as const, secret: path };
    const parsed = parseDockerConfig(text);
    if (parsed.ok) sources.push({ origin, entries: parsed.entries });
    else invalid.push({ origin, reason: parsed.reason });
  }
  return { sources, invalid, missing: [] };
}
