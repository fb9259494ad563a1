import type { MatchedCredential } from "../credentials/types.ts";
import type { ImageReference } from "../reference/types.ts";
import type { ResultCategory } from "../results.ts";

/** A platform as containerd compares them (already normalized when it comes from parsePlatform). */
export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** Per-registry settings from the operator's config. */
export interface RegistrySettings {
  /** Plain HTTP (only when configured). */
  readonly insecure: boolean;
  /** Extra CA, PEM text (the caller reads the file). Added to the system roots, not replacing them. */
  readonly caPem?: string;
  /** The operator configured this registry explicitly: token realms on private/loopback IPs are allowed. */
  readonly trusted: boolean;
}

export interface ManifestLookup {
  readonly reference: ImageReference;
  /** In the kubelet's order; empty = anonymous. */
  readonly credentials: readonly MatchedCredential[];
  /** Empty = no platform check. */
  readonly platforms: readonly Platform[];
  readonly settings: RegistrySettings;
  /** The overall deadline; when it fires the lookup ends as registry-unreachable. */
  readonly signal: AbortSignal;
  /**
   * When the signal will fire, on the client's `now()` clock (ms), if the caller knows it.
   * An AbortSignal cannot tell how much time is left, and a 429's Retry-After is only
   * honoured when the wait fits before the deadline; without this, waits are capped at 1 s.
   */
  readonly deadline?: number;
}

export interface LookupOutcome {
  readonly result: ResultCategory;
  /** One human sentence: what is wrong and what to do ("" allowed for ok). */
  readonly message: string;
  readonly resolvedDigest: string | null;
  /** The credential that produced this outcome (null = anonymous). */
  readonly credential: MatchedCredential | null;
  readonly mediaType: string | null;
  /** When platforms were checked and some are absent (formatted "os/arch[/variant]"). */
  readonly missingPlatforms?: readonly string[];
}

export interface RequestObservation {
  registry: string;
  kind: "manifest" | "token" | "tags" | "index" | "blob";
  method: string;
  status: number | "error";
  seconds: number;
}
