/**
 * distribution/reference `ParseNormalizedNamed` (REGISTRY.md §1.3): what the
 * kubelet runs on `container.image`. Error texts are upstream's, so a reason
 * built from them matches the kubelet's event.
 */
import { validateDigest } from "./digest.ts";
import { goToLower } from "./go-text.ts";
import { matchReference, type ReferenceParts } from "./grammar.ts";

export const DOCKER_HUB_DOMAIN = "docker.io";
const LEGACY_DOCKER_HUB_DOMAIN = "index.docker.io";
const OFFICIAL_REPOSITORY_PREFIX = "library/";
const LOCALHOST = "localhost";
const MAX_PATH_LENGTH = 255;

const INVALID_FORMAT = "invalid reference format";
const NAME_CONTAINS_UPPERCASE = "repository name must be lowercase";
const NAME_TOO_LONG = `repository name must not be more than ${MAX_PATH_LENGTH} characters`;

export type NormalizedName =
  | { readonly ok: true; readonly parts: ReferenceParts }
  | { readonly ok: false; readonly error: string };

function isSha256Identifier(s: string): boolean {
  if (s.length !== 64) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/** `splitDockerDomain`: decide what the first segment is, then add `library/` for single-name Docker Hub images. */
function splitDockerDomain(name: string): { readonly domain: string; readonly remainder: string } {
  const slash = name.indexOf("/");
  // No slash: always a Docker Hub name, even "localhost:5000" or "example.com" (an upstream FIXME).
  if (slash === -1) return { domain: DOCKER_HUB_DOMAIN, remainder: OFFICIAL_REPOSITORY_PREFIX + name };
  const first = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  let domain: string;
  let remainder: string;
  if (first === LOCALHOST || first.includes(".") || first.includes(":") || goToLower(first) !== first) {
    domain = first === LEGACY_DOCKER_HUB_DOMAIN ? DOCKER_HUB_DOMAIN : first;
    remainder = rest;
  } else {
    domain = DOCKER_HUB_DOMAIN;
    remainder = name;
  }
  if (domain === DOCKER_HUB_DOMAIN && !remainder.includes("/")) {
    remainder = OFFICIAL_REPOSITORY_PREFIX + remainder;
  }
  return { domain, remainder };
}

/** distribution/reference `Parse`, including its uppercase retry that only chooses the error text. */
function parse(s: string): NormalizedName {
  const parts = matchReference(s);
  if (parts === null) {
    const lowered = goToLower(s);
    const onlyCaseIsWrong = lowered !== s && matchReference(lowered) !== null;
    return { ok: false, error: onlyCaseIsWrong ? NAME_CONTAINS_UPPERCASE : INVALID_FORMAT };
  }
  // Upstream limits the path without the domain (a name without domain counts whole).
  if (parts.path.length > MAX_PATH_LENGTH) return { ok: false, error: NAME_TOO_LONG };
  if (parts.digest !== null) {
    const digestError = validateDigest(parts.digest);
    if (digestError !== null) return { ok: false, error: digestError };
  }
  return { ok: true, parts };
}

export function parseNormalizedNamed(s: string): NormalizedName {
  if (isSha256Identifier(s)) {
    return { ok: false, error: `invalid repository name (${s}), cannot specify 64-byte hexadecimal strings` };
  }
  const { domain, remainder } = splitDockerDomain(s);
  const colon = remainder.indexOf(":");
  const remote = colon === -1 ? remainder : remainder.slice(0, colon);
  if (goToLower(remote) !== remote) {
    return { ok: false, error: `${INVALID_FORMAT}: repository name (${remote}) must be lowercase` };
  }
  return parse(`${domain}/${remainder}`);
}
