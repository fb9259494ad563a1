import { ExpiringCache } from "../check/result-cache.ts";
import type { CredentialContext } from "../check/types.ts";
import { parsePullSecret } from "./docker-config.ts";
import type { AuthEntry, CredentialOrigin, CredentialSourceKind } from "./types.ts";

/** The two reads the credential lookup needs, in the request's namespace only. */
export interface KubeReader {
  /** null when the secret does not exist. */
  secret(namespace: string, name: string): Promise<SecretLike | null>;
  /** null when the service account does not exist. */
  serviceAccount(namespace: string, name: string): Promise<{ imagePullSecrets: string[] } | null>;
}

export interface SecretLike {
  readonly type?: string;
  readonly data?: Record<string, string>;
}

/** What the pod spec says about credentials. */
export interface PullSecretRefs {
  readonly imagePullSecrets: readonly string[];
  readonly serviceAccountName: string;
  /**
   * Whether the ServiceAccount's imagePullSecrets still have to be applied. The
   * ServiceAccount admission plugin copies them into a Pod on CREATE (only when the
   * pod names none) before validating webhooks run, so for an admitted Pod this is
   * false; for workload templates and for files checked by the CLI it is true.
   */
  readonly applyServiceAccount: boolean;
}

/**
 * Builds the credential context the kubelet would have for this pod: the pod's own
 * pull secrets, else its service account's, all from `namespace` and nowhere else.
 */
export async function resolvePullSecrets(
  reader: KubeReader,
  namespace: string,
  refs: PullSecretRefs,
): Promise<CredentialContext> {
  let names = refs.imagePullSecrets.filter((name) => name !== "");
  let source: CredentialSourceKind = "pod-secret";
  const missing: string[] = [];
  if (names.length === 0 && refs.applyServiceAccount) {
    const account = await reader.serviceAccount(namespace, refs.serviceAccountName);
    names = account?.imagePullSecrets.filter((name) => name !== "") ?? [];
    source = "service-account-secret";
  }
  const sources: Array<{ origin: CredentialOrigin; entries: readonly AuthEntry[] }> = [];
  const invalid: Array<{ origin: CredentialOrigin; reason: string }> = [];
  const secrets = await Promise.all(names.map((name) => reader.secret(namespace, name)));
  names.forEach((name, index) => {
    const origin: CredentialOrigin = { source, secret: `${namespace}/${name}` };
    const secret = secrets[index];
    if (secret === null || secret === undefined) {
      missing.push(origin.secret);
      return;
    }
    const parsed = parsePullSecret(secret);
    if (parsed.kind === "entries") sources.push({ origin, entries: parsed.entries });
    else if (parsed.kind === "invalid") invalid.push({ origin, reason: parsed.reason });
  });
  return { sources, invalid, missing };
}

/**
 * Reuses reads for `ttlMs`, so a warm admission makes no API call, and coalesces
 * concurrent reads of the same object. Failed reads are not cached.
 */
export function cachedReader(reader: KubeReader, ttlMs: number, now: () => number = Date.now): KubeReader {
  const reads = new ExpiringCache<Promise<unknown>>(MAX_CACHED_READS, now);
  function cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = reads.get(key);
    if (hit !== undefined) return hit as Promise<T>;
    const value = load();
    reads.set(key, value, ttlMs);
    value.catch(() => {
      if (reads.get(key) === value) reads.set(key, value, 0); // a TTL of 0 removes it
    });
    return value;
  }
  return {
    secret: (namespace, name) => cached(`secret/${namespace}/${name}`, () => reader.secret(namespace, name)),
    serviceAccount: (namespace, name) =>
      cached(`serviceaccount/${namespace}/${name}`, () => reader.serviceAccount(namespace, name)),
  };
}

const MAX_CACHED_READS = 5_000;
