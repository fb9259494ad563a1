/**
 * One-sentence messages: what is wrong and what to do. Pure.
 * They name the registry, repository and tag, and the credential only by where it came from:
 * never a username, password or token.
 */
import type { MatchedCredential } from "../credentials/types.ts";
import type { ImageReference } from "../reference/types.ts";

export interface MessageSubject {
  readonly reference: ImageReference;
  readonly credential: MatchedCredential | null;
}

/** "127.0.0.1:5000/team/app:v1" or "…/team/app@sha256:…". */
export function imageName(ref: ImageReference): string {
  const base = `${ref.registry}/${ref.repository}`;
  if (ref.digest !== null) return `${base}@${ref.digest}`;
  return `${base}:${ref.tag ?? "latest"}`;
}

/** "the credential from pod-secret team/regcred (key "127.0.0.1:5000")". */
export function credentialLabel(credential: MatchedCredential): string {
  return `the credential from ${credential.origin.source} ${credential.origin.secret} (key "${credential.match}")`;
}

function what(ref: ImageReference): string {
  return ref.digest !== null ? `digest ${ref.digest}` : `tag "${ref.tag ?? "latest"}"`;
}

export function tagNotFound(s: MessageSubject): string {
  const ref = s.reference;
  const fix = ref.digest !== null ? "push it or fix the digest" : "push it or fix the tag";
  return `${what(ref)} does not exist in ${ref.registry}/${ref.repository}; ${fix}`;
}

export function tagNotFoundUnproven(s: MessageSubject): string {
  const ref = s.reference;
  return `${what(ref)} was not found in ${ref.registry}/${ref.repository} (the registry did not say whether the repository exists); check the image name and tag`;
}

export function repositoryNotFound(s: MessageSubject): string {
  const ref = s.reference;
  return `repository ${ref.registry}/${ref.repository} does not exist; check the image name or push the image`;
}

export function notFoundOrUnauthorized(s: MessageSubject): string {
  const ref = s.reference;
  return `${imageName(ref)} does not exist or needs credentials, and no pull secret matches ${ref.registry}; check the name or add an imagePullSecret for ${ref.registry}`;
}

export function credentialsMissing(s: MessageSubject): string {
  const ref = s.reference;
  return `${ref.registry} requires authentication to pull ${ref.repository} and no pull secret matches it; add an imagePullSecret with credentials for ${ref.registry}`;
}

export function credentialsRejected(s: MessageSubject, byTokenService: boolean): string {
  const ref = s.reference;
  const who = byTokenService ? `the token service of ${ref.registry}` : ref.registry;
  const cred = s.credential ? credentialLabel(s.credential) : "the credential";
  return `${who} rejected ${cred} for ${ref.repository}; fix the username/password in that secret`;
}

export function credentialsIncomplete(s: MessageSubject): string {
  const cred = s.credential ? credentialLabel(s.credential) : "the credential";
  return `${cred} has an empty username or password, so ${s.reference.registry} cannot be logged in to; fix that secret`;
}

export function accessDenied(s: MessageSubject): string {
  const ref = s.reference;
  const cred = s.credential ? credentialLabel(s.credential) : "the credential";
  return `${cred} was accepted but may not pull ${ref.registry}/${ref.repository} (or the repository does not exist); grant it pull access or check the image name`;
}

export function platformsMissing(
  s: MessageSubject,
  missing: readonly string[],
  available: readonly string[],
): string {
  const has = available.length > 0 ? ` (it has ${available.join(", ")})` : "";
  return `${imageName(s.reference)} has no image for ${missing.join(", ")}${has}; push an image for the platform or keep the pod off those nodes`;
}

export function somePlatformsMissing(s: MessageSubject, missing: readonly string[]): string {
  return `${imageName(s.reference)} has no image for ${missing.join(", ")}; pods scheduled on such nodes will fail to pull, so push that platform or constrain the pod's nodes`;
}

export function schema1(s: MessageSubject, mediaType: string): string {
  return `${imageName(s.reference)} is a Docker schema 1 manifest (${mediaType}), which containerd 2.x refuses to pull; rebuild and re-push the image with a current builder`;
}

export function rateLimited(s: MessageSubject, byTokenService: boolean): string {
  const who = byTokenService ? `the token service of ${s.reference.registry}` : s.reference.registry;
  return `${who} is rate-limiting requests (429 Too Many Requests); retry later, or authenticate for a higher limit`;
}

export function deadline(s: MessageSubject): string {
  return `${s.reference.registry} did not answer before the lookup deadline; check the registry's health and network path, or raise timeoutMs`;
}

export function unreachable(s: MessageSubject, host: string, reason: string, code: string): string {
  return `could not reach ${host} for ${imageName(s.reference)} (${reason}, ${code}); check the registry address, DNS and network path`;
}

export function tlsFailure(s: MessageSubject, host: string, reason: string, code: string): string {
  if (/plain HTTP/.test(reason)) {
    return `TLS with ${host} failed for ${imageName(s.reference)}: ${reason} (${code}); if the registry really serves plain HTTP, mark it insecure in the config`;
  }
  return `TLS with ${host} failed for ${imageName(s.reference)}: ${reason} (${code}); configure caFile for this registry or fix its certificate`;
}

export function httpToHttps(s: MessageSubject): string {
  return `${s.reference.registry} expects HTTPS but is configured as insecure (plain HTTP); remove insecure for this registry in the config`;
}

export function registryStatus(s: MessageSubject, host: string, status: number, purpose: string): string {
  return `${host} answered HTTP ${status} to the ${purpose} request for ${imageName(s.reference)}; check the registry's health and retry`;
}

export function protocolViolation(s: MessageSubject, host: string, detail: string): string {
  return `${host} broke the registry protocol for ${imageName(s.reference)}: ${detail}; check the registry or report it to its operator`;
}

export function realmRefused(s: MessageSubject, reason: string): string {
  return `refusing the token service of ${s.reference.registry}: ${reason}; list the registry under registries in the config if this is intended`;
}

export function unsupportedAuth(s: MessageSubject, schemes: readonly string[]): string {
  const named = schemes.length > 0 ? ` (${schemes.join(", ")})` : "";
  return `${s.reference.registry} asks for an authentication scheme pullcheck cannot answer${named}; only Basic and Bearer are supported`;
}

export function undialable(s: MessageSubject): string {
  return `registry "${s.reference.registry}" of ${s.reference.original} is not a host[:port] that can be dialed; fix the image reference`;
}
