/**
 * String forms of a parsed reference, as distribution/reference prints them
 * (`String()` and `FamiliarString()` of the reference containerd pulls).
 */
import { DOCKER_HUB_DOMAIN } from "./normalize.ts";
import type { ImageReference } from "./types.ts";

const OFFICIAL_REPOSITORY_PREFIX = "library/";

function tagAndDigest(reference: ImageReference): string {
  const tag = reference.tag === null ? "" : `:${reference.tag}`;
  const digest = reference.digest === null ? "" : `@${reference.digest}`;
  return tag + digest;
}

/** `docker.io/library/nginx:1.25`, `ghcr.io/o/r@sha256:…`: the name containerd reports in its errors. */
export function canonicalName(reference: ImageReference): string {
  return reference.name + tagAndDigest(reference);
}

/**
 * Docker's short form for messages: `nginx:1.25`, `bitnami/redis:7`. Drops the
 * `docker.io/` domain, and `library/` only when no further `/` follows (so
 * `library/foo/bar` stays as it is).
 */
export function familiarName(reference: ImageReference): string {
  if (reference.registry !== DOCKER_HUB_DOMAIN) return canonicalName(reference);
  let path = reference.repository;
  if (path.startsWith(OFFICIAL_REPOSITORY_PREFIX)) {
    const official = path.slice(OFFICIAL_REPOSITORY_PREFIX.length);
    if (!official.includes("/")) path = official;
  }
  return path + tagAndDigest(reference);
}
