/** The real engine and registry client, in this process, wired the way the CLI wires them. */
import type { Engine } from "../../src/check/engine.ts";
import { engineFromConfig } from "../../src/check/from-config.ts";
import type { CredentialContext } from "../../src/check/types.ts";
import { NO_CREDENTIALS } from "../../src/check/types.ts";
import { validateConfig } from "../../src/config/schema.ts";
import { parseDockerConfig } from "../../src/credentials/docker-config.ts";
import { createRegistryClient } from "../../src/registry/client.ts";

export interface InProcessEngine {
  readonly engine: Engine;
  close(): Promise<void>;
}

/** `registries` as in the config file; `caPems` maps a registries key to CA text (what caFile would hold). */
export function inProcessEngine(
  registries: Record<string, Record<string, unknown>>,
  caPems: Record<string, string> = {},
): InProcessEngine {
  const validated = validateConfig({ registries });
  if (!validated.ok) throw new Error(`bench config: ${validated.problems.join("; ")}`);
  const client = createRegistryClient();
  const engine = engineFromConfig(validated.config, client, new Map(Object.entries(caPems)));
  return { engine, close: () => client.close() };
}

/** The credentials a `--docker-config` file with one `auths` entry gives. */
export function dockerConfigCredentials(
  host: string,
  user: { username: string; password: string } | null,
): CredentialContext {
  if (user === null) return NO_CREDENTIALS;
  const auth = Buffer.from(`${user.username}:${user.password}`).toString("base64");
  const parsed = parseDockerConfig(JSON.stringify({ auths: { [host]: { auth } } }));
  if (!parsed.ok) throw new Error(`bench docker config: ${parsed.reason}`);
  return {
    sources: [{ origin: { source: "docker-config", secret: "bench" }, entries: parsed.entries }],
    invalid: [],
    missing: [],
  };
}

export const isManifestRequest = (_method: string, path: string): boolean => path.includes("/manifests/");
