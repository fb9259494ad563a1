/**
 * The decision table: registry answers and transport errors → result categories. Pure.
 * Meanings are PRODUCT.md's "Result categories"; the registry facts are REGISTRY.md §2.4–2.5, §3
 * and TESTING.md §3 (Distribution 2.8.2).
 */
import type { ResultCategory } from "../results.ts";

// ---------------------------------------------------------------------------------------------
// Media types

/** containerd's Accept string, verbatim (REGISTRY.md §2.3); Distribution needs the OCI and Docker types listed. */
export const MANIFEST_ACCEPT =
  "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, */*";

export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
const SCHEMA1_TYPES = new Set([
  "application/vnd.docker.distribution.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v1+prettyjws",
]);

/** The media type without parameters, lowercased; null when absent or empty. */
export function baseMediaType(contentType: string | undefined): string | null {
  const base = contentType?.split(";")[0]?.trim().toLowerCase();
  return base ? base : null;
}

export function isIndexMediaType(mediaType: string | null): boolean {
  return mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST;
}

export function isSchema1MediaType(mediaType: string | null): boolean {
  return mediaType !== null && SCHEMA1_TYPES.has(mediaType);
}

const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** A Docker-Content-Digest header worth trusting, or null. */
export function usableDigest(header: string | undefined): string | null {
  const value = header?.trim();
  return value && DIGEST.test(value) ? value : null;
}

// ---------------------------------------------------------------------------------------------
// Transport errors

/** OpenSSL certificate verification codes as Node reports them. */
const CERTIFICATE_CODES = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "CERT_SIGNATURE_FAILURE",
  "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED",
  "CERT_REVOKED",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_CHAIN_TOO_LONG",
  "INVALID_CA",
  "INVALID_PURPOSE",
  "PATH_LENGTH_EXCEEDED",
  "HOSTNAME_MISMATCH",
  "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD",
]);

function isTlsCode(code: string): boolean {
  return (
    CERTIFICATE_CODES.has(code) ||
    code.startsWith("ERR_SSL_") ||
    code.startsWith("ERR_TLS_") ||
    code.startsWith("ERR_OSSL_") || // e.g. an unreadable caFile PEM
    code === "EPROTO"
  );
}

/** Every `code` on the error, its `cause` chain and AggregateError members, outermost first. */
export function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number): void => {
    if (typeof e !== "object" || e === null || seen.has(e) || depth > 10) return;
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code !== "") codes.push(code);
    visit((e as { cause?: unknown }).cause, depth + 1);
    const members = (e as { errors?: unknown }).errors;
    if (Array.isArray(members)) for (const member of members) visit(member, depth + 1);
  };
  visit(error, 0);
  return codes;
}

export type TransportProblem =
  | { readonly result: "tls-error"; readonly code: string; readonly reason: string }
  | { readonly result: "registry-unreachable"; readonly code: string; readonly reason: string };

const TLS_REASONS: Record<string, string> = {
  UNABLE_TO_GET_ISSUER_CERT: "its certificate is signed by an unknown authority",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "its certificate is signed by an unknown authority",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "its certificate is signed by an unknown authority",
  SELF_SIGNED_CERT_IN_CHAIN: "its certificate chain ends in an untrusted self-signed CA",
  DEPTH_ZERO_SELF_SIGNED_CERT: "its certificate is self-signed and not trusted",
  CERT_HAS_EXPIRED: "its certificate has expired",
  CERT_NOT_YET_VALID: "its certificate is not valid yet",
  ERR_TLS_CERT_ALTNAME_INVALID: "its certificate does not name this host",
  HOSTNAME_MISMATCH: "its certificate does not name this host",
  ERR_SSL_WRONG_VERSION_NUMBER: "it answered plain HTTP to an HTTPS request",
  ERR_SSL_PACKET_LENGTH_TOO_LONG: "it answered plain HTTP to an HTTPS request",
  ERR_SSL_HTTP_REQUEST: "it answered plain HTTP to an HTTPS request",
};

const UNREACHABLE_REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host name not found in DNS",
  EAI_AGAIN: "DNS lookup failed temporarily",
  EAI_NONAME: "host name not found in DNS",
  ECONNRESET: "connection reset",
  EPIPE: "connection closed while sending",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  UND_ERR_HEADERS_TIMEOUT: "no response headers in time",
  UND_ERR_BODY_TIMEOUT: "response body stalled",
  UND_ERR_SOCKET: "connection closed unexpectedly",
  UND_ERR_CLOSED: "connection closed unexpectedly",
};

/** Classifies a failed request by error code; TLS codes anywhere in the chain win. */
export function classifyTransportError(error: unknown): TransportProblem {
  const codes = errorCodes(error);
  const tls = codes.find(isTlsCode);
  if (tls !== undefined) {
    return { result: "tls-error", code: tls, reason: TLS_REASONS[tls] ?? "the TLS handshake failed" };
  }
  const code = codes.find((c) => UNREACHABLE_REASONS[c] !== undefined) ?? codes[0] ?? "UNKNOWN";
  return { result: "registry-unreachable", code, reason: UNREACHABLE_REASONS[code] ?? "the request failed" };
}

/** Go's TLS server answers a plain-HTTP request with this 400 (REGISTRY.md; Distribution is Go). */
export function isHttpToHttpsAnswer(status: number, body: string): boolean {
  return status === 400 && /client sent an http request to an https server/i.test(body);
}

// ---------------------------------------------------------------------------------------------
// Status codes

/** The token endpoint's answer (other than 200, 429/408, 5xx which are retried first). */
export function classifyTokenStatus(status: number, hasCredential: boolean): ResultCategory {
  if (status === 401 || status === 403) return hasCredential ? "credentials-rejected" : "credentials-missing";
  if (status === 429) return "rate-limited";
  return "registry-error";
}

/** How the final request to the registry was authorized. */
export type SentAuthorization = "none" | "basic" | "bearer";

export type ManifestDecision =
  | { readonly kind: "found" }
  | { readonly kind: "probe-tags" }
  | { readonly kind: "retry-as-get" }
  | { readonly kind: "result"; readonly result: ResultCategory; readonly why: ManifestWhy };

/** Why a final result was chosen, for the message. */
export type ManifestWhy =
  | "basic-rejected"
  | "bearer-refused"
  | "forbidden"
  | "auth-required"
  | "unsupported-auth"
  | "rate-limited"
  | "request-timeout"
  | "server-error"
  | "http-to-https"
  | "unexpected-status";

export interface ManifestAnswer {
  readonly status: number;
  readonly hasCredential: boolean;
  /** The authorization that the (final) request carried. */
  readonly sent: SentAuthorization;
  /** Whether the 401 carried a Basic or Bearer challenge we could answer. */
  readonly usableChallenge: boolean;
  /** Body text when the response had one (only looked at for 400). */
  readonly body: string;
  readonly method: string;
}

/**
 * A manifest HEAD/GET answer after retries and the auth flow are done:
 * - 401 after sending Basic credentials: the registry refused them → credentials-rejected.
 * - 401 after a fresh Bearer token: the token does not grant pull (insufficient_scope); with a
 *   credential that is access-denied, anonymously the registry refuses to say → not-found-or-unauthorized.
 * - 401 with nothing sent: only happens when there was no credential to answer with → credentials-missing;
 *   a challenge we cannot speak (Negotiate, …) → registry-error.
 * - 403 → access-denied with a credential, not-found-or-unauthorized without.
 * - 404 → the tags probe decides between tag-not-found and repository-not-found.
 */
export function classifyManifestAnswer(a: ManifestAnswer): ManifestDecision {
  const { status } = a;
  if (status >= 200 && status < 300) return { kind: "found" };
  if (status === 404) return { kind: "probe-tags" };
  if (status === 401) {
    if (a.sent === "basic") return { kind: "result", result: "credentials-rejected", why: "basic-rejected" };
    if (a.sent === "bearer") {
      return {
        kind: "result",
        result: a.hasCredential ? "access-denied" : "not-found-or-unauthorized",
        why: "bearer-refused",
      };
    }
    if (!a.usableChallenge) return { kind: "result", result: "registry-error", why: "unsupported-auth" };
    return { kind: "result", result: "credentials-missing", why: "auth-required" };
  }
  if (status === 403) {
    return {
      kind: "result",
      result: a.hasCredential ? "access-denied" : "not-found-or-unauthorized",
      why: "forbidden",
    };
  }
  if (status === 429) return { kind: "result", result: "rate-limited", why: "rate-limited" };
  if (status === 408) return { kind: "result", result: "registry-error", why: "request-timeout" };
  // A HEAD cannot carry the body that tells "plain HTTP sent to an HTTPS port" apart from other 400s.
  if (status === 400 && a.method === "HEAD") return { kind: "retry-as-get" };
  if (isHttpToHttpsAnswer(status, a.body))
    return { kind: "result", result: "tls-error", why: "http-to-https" };
  if (status >= 500) return { kind: "result", result: "registry-error", why: "server-error" };
  return { kind: "result", result: "registry-error", why: "unexpected-status" };
}

/** Error codes from a registry error body (`{"errors":[{"code":…}]}`); [] when there are none. */
export function registryErrorCodes(body: string): string[] {
  try {
    const parsed: unknown = JSON.parse(body);
    const errors = (parsed as { errors?: unknown }).errors;
    if (!Array.isArray(errors)) return [];
    return errors
      .map((e) => (typeof e === "object" && e !== null ? (e as { code?: unknown }).code : undefined))
      .filter((c): c is string => typeof c === "string");
  } catch {
    return [];
  }
}

export type TagsProbeVerdict = "repository-not-found" | "tag-not-found" | "tag-not-found-unproven";

/**
 * After the manifest answered 404, `GET /v2/<repo>/tags/list?n=1` tells the two apart:
 * 200 → the repository exists, so the tag (or digest) is missing; 404 with NAME_UNKNOWN or
 * an empty body → the repository is missing. Anything else (401/403, 5xx, other 404 codes,
 * a transport error) cannot prove either; the manifest 404 itself is still a definite fact,
 * so the verdict stays tag-not-found, with a message that says the repository is unverified.
 */
export function classifyTagsProbe(status: number | null, body: string): TagsProbeVerdict {
  if (status === null) return "tag-not-found-unproven";
  if (status >= 200 && status < 300) return "tag-not-found";
  if (status === 404) {
    const codes = registryErrorCodes(body);
    if (codes.includes("NAME_UNKNOWN") || body.trim() === "") return "repository-not-found";
  }
  return "tag-not-found-unproven";
}

// ---------------------------------------------------------------------------------------------
// Retries

/** Retry-After as a delay in ms (delta-seconds or HTTP-date); null when absent or unusable. */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (value === undefined) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (!Number.isFinite(date) || !/[a-z]/i.test(text)) return null;
  return Math.max(0, date - now);
}

export interface RetryBudget {
  /** Retries already made for this kind of answer. */
  readonly attempts: number;
  readonly maxAttempts: number;
  /** ms until the deadline, or null when the caller gave none. */
  readonly remainingMs: number | null;
}

/** Longest wait allowed when the deadline is unknown (the AbortSignal still ends it). */
export const MAX_WAIT_WITHOUT_DEADLINE_MS = 1000;
/** Time kept in hand after a wait for the retried request itself. */
const RETRY_HEADROOM_MS = 200;

/** The wait before retrying a 429/408/5xx, or null when the answer must stand. */
export function retryWait(budget: RetryBudget, requestedMs: number | null, defaultMs: number): number | null {
  if (budget.attempts >= budget.maxAttempts) return null;
  const wait = requestedMs ?? defaultMs;
  if (budget.remainingMs === null) return wait <= MAX_WAIT_WITHOUT_DEADLINE_MS ? wait : null;
  return wait + RETRY_HEADROOM_MS < budget.remainingMs ? wait : null;
}

// ---------------------------------------------------------------------------------------------
// Several credentials

/**
 * Which failure to report when every credential failed (the kubelet aggregates them all; we
 * must pick one). Rule: the answer that says most about the image wins:
 * 1. what the registry said about the content once it let us in (platform, tag, repository);
 * 2. what it said about the account (access-denied, then credentials-rejected, then the
 *    anonymous-only categories) — these are definite and actionable;
 * 3. indeterminate trouble last (rate limit, registry error, TLS, unreachable), so a transport
 *    error on a later credential never hides a rejection seen on an earlier one.
 * Ties go to the earlier credential (the kubelet's order).
 */
const FAILURE_RANK: readonly ResultCategory[] = [
  "platform-not-found",
  "tag-not-found",
  "repository-not-found",
  "access-denied",
  "credentials-rejected",
  "not-found-or-unauthorized",
  "credentials-missing",
  "rate-limited",
  "registry-error",
  "tls-error",
  "registry-unreachable",
];

export function failureRank(result: ResultCategory): number {
  const index = FAILURE_RANK.indexOf(result);
  return index === -1 ? FAILURE_RANK.length : index;
}

export function pickMostInformative<T extends { readonly result: ResultCategory }>(
  outcomes: readonly T[],
): T | null {
  let best: T | null = null;
  for (const outcome of outcomes) {
    if (best === null || failureRank(outcome.result) < failureRank(best.result)) best = outcome;
  }
  return best;
}

/**
 * After a credential failed this way, is trying the next one pointless? The kubelet tries them
 * all, but when the registry cannot be reached or spoken to securely the next credential meets
 * the same wall and only burns the deadline; and a platform-not-found came from the manifest
 * itself, which another credential would read the same.
 */
export function stopsCredentialLoop(result: ResultCategory): boolean {
  return result === "registry-unreachable" || result === "tls-error" || result === "platform-not-found";
}
