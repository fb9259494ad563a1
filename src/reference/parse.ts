/**
 * `parseReference`: an image string to the reference the kubelet and
 * containerd would pull, or the reason the kubelet would refuse it
 * (`InvalidImageName`). Pure; runs in time linear in the input.
 */

import { goQuote } from "./go-text.ts";
import type { ReferenceParts } from "./grammar.ts";
import { parseNormalizedNamed } from "./normalize.ts";
import type { ImageReference, ParsedReference } from "./types.ts";

export { canonicalName, familiarName } from "./names.ts";

/** Far above any real reference (255-char path, 128-char tag, sha512 digest, a long host). */
export const MAX_REFERENCE_LENGTH = 4096;
const DEFAULT_TAG = "latest";
const PREVIEW_LENGTH = 64;

export interface ParseOptions {
  /** Longest input scanned at all; longer strings are refused before any work. */
  readonly maxLength?: number;
}

/** Go's `unicode.IsSpace`, which the API server's `strings.TrimSpace` check uses. */
function isGoSpace(c: number): boolean {
  return (
    (c >= 0x09 && c <= 0x0d) ||
    c === 0x20 ||
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

function hasSurroundingWhitespace(image: string): boolean {
  return (
    image.length > 0 && (isGoSpace(image.charCodeAt(0)) || isGoSpace(image.charCodeAt(image.length - 1)))
  );
}

function invalid(image: string, why: string): ParsedReference {
  return { ok: false, reason: `couldn't parse image name ${goQuote(image)}: ${why}` };
}

/**
 * containerd's `ParseDockerRef` on top of the kubelet's parse: a digest wins
 * over a tag, and a bare name gets `latest`.
 */
function toImageReference(original: string, parts: ReferenceParts): ImageReference {
  let registry: string;
  let repository: string;
  if (parts.domain !== null) {
    registry = parts.domain;
    repository = parts.path;
  } else {
    // Only "foo_bar.com/x"-like names get here: the first segment looked like a
    // host to splitDockerDomain but is not one to the grammar. containerd still
    // dials that first segment, so it is the registry.
    const slash = parts.path.indexOf("/");
    if (slash === -1) throw new Error(`reference path without domain has no slash: ${parts.path}`);
    registry = parts.path.slice(0, slash);
    repository = parts.path.slice(slash + 1);
  }
  const digest = parts.digest;
  const tag = digest !== null ? null : (parts.tag ?? DEFAULT_TAG);
  return { original, registry, repository, tag, digest, name: `${registry}/${repository}` };
}

export function parseReference(image: string, options: ParseOptions = {}): ParsedReference {
  const maxLength = options.maxLength ?? MAX_REFERENCE_LENGTH;
  if (image.length > maxLength) {
    const preview = goQuote(image.slice(0, PREVIEW_LENGTH));
    return {
      ok: false,
      reason: `couldn't parse image name starting ${preview} (${image.length} characters): longer than the ${maxLength} characters pullcheck accepts`,
    };
  }
  if (hasSurroundingWhitespace(image)) {
    return invalid(image, "invalid reference format: leading or trailing whitespace is not allowed");
  }
  const normalized = parseNormalizedNamed(image);
  if (!normalized.ok) return invalid(image, normalized.error);
  return { ok: true, reference: toImageReference(image, normalized.parts) };
}
