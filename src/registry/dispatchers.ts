/**
 * The default undici Agents: one per (registry, settings), with explicit timeouts far below
 * undici's 300 s defaults (the lookup's AbortSignal stays the authority) and the extra CA.
 */
import { createHash } from "node:crypto";
import { createSecureContext, rootCertificates } from "node:tls";
import { Agent, type Dispatcher } from "undici";
import type { RegistrySettings } from "./types.ts";

export interface DispatcherTimeouts {
  readonly connectMs: number;
  readonly headersMs: number;
  readonly bodyMs: number;
}

export const DEFAULT_TIMEOUTS: DispatcherTimeouts = { connectMs: 5000, headersMs: 5000, bodyMs: 5000 };

export interface DispatcherPool {
  get(registry: string, settings: RegistrySettings): Dispatcher;
  close(): Promise<void>;
}

export function createDispatcherPool(timeouts: DispatcherTimeouts = DEFAULT_TIMEOUTS): DispatcherPool {
  const agents = new Map<string, Agent>();
  return {
    get(registry, settings) {
      const caId = settings.caPem ? createHash("sha256").update(settings.caPem).digest("hex") : "";
      const id = JSON.stringify([registry, settings.insecure, caId]);
      let agent = agents.get(id);
      if (agent === undefined) {
        agent = new Agent({
          connect: {
            timeout: timeouts.connectMs,
            // An extra CA adds to the system roots: token realms on public hosts must still verify.
            // Built once per agent: passing `ca` would rebuild the context on every connection.
            ...(settings.caPem
              ? { secureContext: createSecureContext({ ca: [...rootCertificates, settings.caPem] }) }
              : {}),
          },
          headersTimeout: timeouts.headersMs,
          bodyTimeout: timeouts.bodyMs,
        });
        agents.set(id, agent);
      }
      return agent;
    },
    async close() {
      const all = [...agents.values()];
      agents.clear();
      await Promise.all(all.map((agent) => agent.close()));
    },
  };
}
