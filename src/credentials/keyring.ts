import { type CompiledGlob, compileGlob, matchCompiledGlob } from "./glob.ts";
import { parseGoHttpUrl, splitGoHostPort } from "./go-url.ts";
import type { AuthEntry, CredentialOrigin, MatchedCredential } from "./types.ts";

/**
 * The kubelet's `BasicDockerKeyring` (pkg/credentialprovider/keyring.go), rebuilt:
 * every auth key of every pull secret goes into one index keyed by its normalized
 * form, sorted reverse-lexicographically ("more specific first"), and a lookup returns
 * the credentials of every key that matches the image, in index order. Docker Hub
 * images fall back to the `index.docker.io` credentials only when nothing matched.
 */

/** A key as the kubelet would re-parse it for matching: host labels, port and path. */
export type KeyPattern =
  | {
      readonly ok: true;
      readonly host: string;
      readonly labels: readonly string[];
      readonly globs: readonly CompiledGlob[];
      readonly port: string;
      readonly path: string;
    }
  | { readonly ok: false; readonly reason: string };

/** One normalized key of the index with the credentials filed under it, in source order. */
export interface KeyringSlot {
  readonly normalized: string;
  readonly pattern: KeyPattern;
  readonly credentials: readonly MatchedCredential[];
}

/** An auth key the kubelet skips because Go's url.Parse rejects it. */
export interface SkippedKey {
  /** The key as written (any user:password@ part masked). */
  readonly key: string;
  readonly origin: CredentialOrigin;
  readonly reason: string;
}

export interface Keyring {
  /** Most specific first: normalized keys in reverse byte order, as the kubelet sorts them. */
  readonly slots: readonly KeyringSlot[];
  readonly skipped: readonly SkippedKey[];
}

export interface ConsideredKey {
  /** The key as written in the file or secret (any user:password@ part masked). */
  readonly key: string;
  /** What the kubelet files it under ("index.docker.io" for "https://index.docker.io/v1/"); "" when skipped. */
  readonly normalized: string;
  readonly origin: CredentialOrigin;
  readonly matched: boolean;
  /** One short human sentence. */
  readonly why: string;
}

export interface KeyringExplanation {
  /** Exactly what lookupCredentials returns, in the order the kubelet would try them. */
  readonly matched: MatchedCredential[];
  /** Every key, in index order, then the skipped ones. */
  readonly considered: ConsideredKey[];
  /** True when the credentials came from the Docker Hub fallback. */
  readonly dockerHubFallback: boolean;
}

/** The normalized key whose credentials serve as the Docker Hub fallback. */
export const DOCKER_HUB_KEY = "index.docker.io";

/**
 * Builds the index from sources in kubelet order (pod secrets in spec order, or the
 * docker-config files in the order given). Credentials under the same normalized key
 * accumulate in source order, and in file order within one source (the kubelet's order
 * there depends on Go map iteration, i.e. is unspecified).
 */
export function buildKeyring(
  sources: ReadonlyArray<{ readonly origin: CredentialOrigin; readonly entries: readonly AuthEntry[] }>,
): Keyring {
  const byKey = new Map<string, MatchedCredential[]>();
  const skipped: SkippedKey[] = [];
  for (const { origin, entries } of sources) {
    for (const entry of entries) {
      const key = maskUserinfo(entry.key);
      const normalized = normalizeKey(entry.key);
      if (!normalized.ok) {
        skipped.push({ key, origin, reason: normalized.reason });
        continue;
      }
      const credential: MatchedCredential = {
        username: entry.username,
        password: entry.password,
        origin,
        match: key,
      };
      const filed = byKey.get(normalized.key);
      if (filed) filed.push(credential);
      else byKey.set(normalized.key, [credential]);
    }
  }
  const slots = [...byKey.keys()]
    .sort((a, b) => Buffer.compare(Buffer.from(b, "utf8"), Buffer.from(a, "utf8")))
    .map((normalized) => ({
      normalized,
      pattern: parsePattern(normalized),
      credentials: byKey.get(normalized) ?? [],
    }));
  return { slots, skipped };
}

/**
 * The kubelet's key normalization: prepend https:// unless the key has an http(s)
 * scheme, parse like Go, drop a leading /v1/ or /v2/ down to "/", and keep host+path
 * (or just the host when the path is empty or "/").
 */
export function normalizeKey(
  key: string,
): { readonly ok: true; readonly key: string } | { readonly ok: false; readonly reason: string } {
  const withScheme = key.startsWith("https://") || key.startsWith("http://") ? key : `https://${key}`;
  const parsed = parseGoHttpUrl(withScheme);
  if (!parsed.ok) return { ok: false, reason: parsed.reason };
  const path =
    parsed.path.startsWith("/v1/") || parsed.path.startsWith("/v2/") ? parsed.path.slice(3) : parsed.path;
  return { ok: true, key: path !== "" && path !== "/" ? parsed.host + path : parsed.host };
}

/** The credentials the kubelet would hand to the runtime for this image, in order. */
export function lookupCredentials(keyring: Keyring, imageName: string): MatchedCredential[] {
  // Most pods name no pull secret: nothing can match, and parsing the name would be wasted.
  if (keyring.slots.length === 0) return [];
  const image = parseTarget(imageName);
  const matched: MatchedCredential[] = [];
  for (const slot of keyring.slots) {
    if (compare(slot.pattern, image).kind === "match") matched.push(...slot.credentials);
  }
  if (matched.length > 0) return matched;
  return [...dockerHubFallback(keyring, imageName)];
}

/** lookupCredentials plus one reason per key, for `pullcheck explain`. */
export function explainLookup(keyring: Keyring, imageName: string): KeyringExplanation {
  const image = parseTarget(imageName);
  const verdicts = keyring.slots.map((slot) => compare(slot.pattern, image));
  const matched = keyring.slots.flatMap((slot, i) => (verdicts[i]?.kind === "match" ? slot.credentials : []));
  const fallback = matched.length === 0 ? dockerHubFallback(keyring, imageName) : [];
  const hubImage = isDefaultRegistryMatch(imageName);

  const considered: ConsideredKey[] = keyring.slots.flatMap((slot, i) => {
    const verdict = verdicts[i] as Verdict;
    let why = describe(verdict, slot);
    let isMatch = verdict.kind === "match";
    if (slot.normalized === DOCKER_HUB_KEY && hubImage && !isMatch) {
      if (fallback.length > 0) {
        why = "Docker Hub fallback: no key matched and index.docker.io is configured";
        isMatch = true;
      } else {
        why = `${why}; Docker Hub fallback not used because another key matched`;
      }
    }
    return slot.credentials.map((credential) => ({
      key: credential.match,
      normalized: slot.normalized,
      origin: credential.origin,
      matched: isMatch,
      why,
    }));
  });
  for (const skip of keyring.skipped) {
    considered.push({
      key: skip.key,
      normalized: "",
      origin: skip.origin,
      matched: false,
      why: `ignored by the kubelet: not parsable as a URL (${skip.reason})`,
    });
  }
  return {
    matched: matched.length > 0 ? [...matched] : [...fallback],
    considered,
    dockerHubFallback: fallback.length > 0,
  };
}

/**
 * The kubelet's `isDefaultRegistryMatch`: the image pulls from Docker Hub when its
 * first path part is empty of "." and ":" (or is docker.io / index.docker.io), or
 * when it has no "/" at all. Works on normalized and familiar names alike.
 */
export function isDefaultRegistryMatch(imageName: string): boolean {
  const slash = imageName.indexOf("/");
  const first = slash < 0 ? imageName : imageName.slice(0, slash);
  if (first === "") return false;
  if (slash < 0) return true;
  if (first === "docker.io" || first === DOCKER_HUB_KEY) return true;
  return !first.includes(".") && !first.includes(":");
}

/**
 * Kubelet-style glob match of a host[:port] pattern ("*.dkr.ecr.*.amazonaws.com",
 * "registry.internal:5000") against a registry host[:port]: same label count, each
 * label a glob, ports equal. Used by the `registries` config.
 */
export function matchesHostPattern(pattern: string, registry: string): boolean {
  return compare(parsePattern(pattern), parseTarget(registry)).kind === "match";
}

function dockerHubFallback(keyring: Keyring, imageName: string): readonly MatchedCredential[] {
  if (!isDefaultRegistryMatch(imageName)) return [];
  return keyring.slots.find((slot) => slot.normalized === DOCKER_HUB_KEY)?.credentials ?? [];
}

/** Both key and image are re-parsed as "https://" + string, as the kubelet does. */
function parsePattern(schemeless: string): KeyPattern {
  const parsed = parseGoHttpUrl(`https://${schemeless}`);
  if (!parsed.ok) return parsed;
  const { hostname, port } = splitGoHostPort(parsed.host);
  const labels = hostname.split(".");
  return { ok: true, host: parsed.host, labels, globs: labels.map(compileGlob), port, path: parsed.path };
}

type Target =
  | {
      readonly ok: true;
      readonly host: string;
      readonly labels: readonly string[];
      readonly port: string;
      readonly path: string;
    }
  | { readonly ok: false; readonly reason: string };

function parseTarget(schemeless: string): Target {
  const parsed = parseGoHttpUrl(`https://${schemeless}`);
  if (!parsed.ok) return parsed;
  const { hostname, port } = splitGoHostPort(parsed.host);
  return { ok: true, host: parsed.host, labels: hostname.split("."), port, path: parsed.path };
}

type Verdict =
  | { readonly kind: "match" }
  | { readonly kind: "bad-key"; readonly reason: string }
  | { readonly kind: "bad-image"; readonly reason: string }
  | { readonly kind: "port"; readonly keyPort: string; readonly imagePort: string }
  | {
      readonly kind: "label-count";
      readonly keyLabels: number;
      readonly imageLabels: number;
      readonly imageHost: string;
    }
  | { readonly kind: "path"; readonly keyPath: string; readonly imagePath: string }
  | {
      readonly kind: "label";
      readonly label: string;
      readonly imageLabel: string;
      readonly badGlob: boolean;
    };

/** The kubelet's `URLsMatch`, checks in its order: port, label count, path prefix, labels. */
function compare(pattern: KeyPattern, image: Target): Verdict {
  if (!pattern.ok) return { kind: "bad-key", reason: pattern.reason };
  if (!image.ok) return { kind: "bad-image", reason: image.reason };
  if (pattern.port !== image.port) return { kind: "port", keyPort: pattern.port, imagePort: image.port };
  if (pattern.labels.length !== image.labels.length) {
    return {
      kind: "label-count",
      keyLabels: pattern.labels.length,
      imageLabels: image.labels.length,
      imageHost: image.host,
    };
  }
  if (!image.path.startsWith(pattern.path))
    return { kind: "path", keyPath: pattern.path, imagePath: image.path };
  for (let i = 0; i < pattern.globs.length; i += 1) {
    const glob = pattern.globs[i] as CompiledGlob;
    const imageLabel = image.labels[i] as string;
    const result = matchCompiledGlob(glob, imageLabel);
    if (result !== "match") {
      return {
        kind: "label",
        label: pattern.labels[i] as string,
        imageLabel,
        badGlob: result === "bad-pattern",
      };
    }
  }
  return { kind: "match" };
}

function describe(verdict: Verdict, slot: KeyringSlot): string {
  const q = (text: string) => JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
  const port = (p: string) => (p === "" ? "no port" : `port ${p}`);
  switch (verdict.kind) {
    case "match": {
      const host = slot.pattern.ok ? slot.pattern.host : slot.normalized;
      const path = slot.pattern.ok ? slot.pattern.path : "";
      return path === "" ? `matches: host ${q(host)}` : `matches: host ${q(host)} and path prefix ${q(path)}`;
    }
    case "bad-key":
      return `never matches: the normalized key is not parsable as a URL (${verdict.reason})`;
    case "bad-image":
      return `the image name is not parsable as a URL (${verdict.reason})`;
    case "port":
      return `${port(verdict.keyPort)} ≠ ${port(verdict.imagePort)}`;
    case "label-count": {
      const host = slot.pattern.ok ? slot.pattern.host : slot.normalized;
      return `host ${q(host)} has ${verdict.keyLabels} label${verdict.keyLabels === 1 ? "" : "s"}, image host ${q(verdict.imageHost)} has ${verdict.imageLabels}`;
    }
    case "path":
      return `path prefix ${q(verdict.keyPath)} not a prefix of ${q(verdict.imagePath)}`;
    case "label":
      return verdict.badGlob
        ? `host label ${q(verdict.label)} is not a valid glob, so it never matches`
        : `host label ${q(verdict.label)} does not match ${q(verdict.imageLabel)}`;
  }
}

/**
 * Auth keys are shown in explain output and results; a key written as
 * "https://user:token@registry" would leak the token, so that part is masked.
 */
export function maskUserinfo(key: string): string {
  const schemeEnd = key.indexOf("://");
  const authorityStart =
    schemeEnd >= 0 && /^[A-Za-z][A-Za-z0-9+.-]*$/.test(key.slice(0, schemeEnd)) ? schemeEnd + 3 : 0;
  const rest = key.slice(authorityStart);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const at = authority.lastIndexOf("@");
  if (at < 0) return key;
  return `${key.slice(0, authorityStart)}***${rest.slice(at)}`;
}
