import type { AuthEntry, CredentialOrigin } from "../credentials/types.ts";
import type { ResultCategory } from "../results.ts";

/** The pull secrets (or docker-config files) in force for one pod, in kubelet order. */
export interface CredentialContext {
  readonly sources: ReadonlyArray<{
    readonly origin: CredentialOrigin;
    readonly entries: readonly AuthEntry[];
  }>;
  /** Referenced secrets that could not be parsed: the kubelet then fails every pull of the pod. */
  readonly invalid: ReadonlyArray<{ readonly origin: CredentialOrigin; readonly reason: string }>;
  /** Referenced secrets that do not exist: the kubelet warns and goes on without them. */
  readonly missing: readonly string[];
}

export const NO_CREDENTIALS: CredentialContext = Object.freeze({ sources: [], invalid: [], missing: [] });

/** The `credential` JSON field of PRODUCT.md. */
export interface CredentialUse {
  readonly source: "docker-config" | "pod-secret" | "service-account-secret" | "anonymous";
  readonly secret: string | null;
  readonly match: string | null;
}

/** One image occurrence to check. */
export interface CheckRequest {
  readonly image: string;
  /** Where the image came from, e.g. "deploy.yaml: Deployment/web container app". */
  readonly source?: string;
  /** Platforms this occurrence must run on; defaults to the engine's configured platforms. */
  readonly platforms?: readonly string[];
}

/** One element of `{"results": [...]}` (PRODUCT.md "JSON output"). */
export interface CheckResult {
  readonly image: string;
  readonly registry: string | null;
  readonly repository: string | null;
  readonly tag: string | null;
  readonly digest: string | null;
  readonly result: ResultCategory;
  readonly resolvedDigest: string | null;
  readonly credential: CredentialUse | null;
  readonly message: string;
  readonly source?: string;
  readonly missingPlatforms?: readonly string[];
}
