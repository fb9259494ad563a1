/**
 * go-digest's `Digest.Validate` as the kubelet and containerd run it
 * (REGISTRY.md §1.4). An algorithm counts only when its Go hash package is
 * linked in; the kubelet links crypto/sha256 and crypto/sha512, and sha384
 * lives in the sha512 package, so exactly these three are usable.
 */

export const DIGEST_INVALID_FORMAT = "invalid checksum digest format";
export const DIGEST_INVALID_LENGTH = "invalid checksum digest length";
export const DIGEST_UNSUPPORTED = "unsupported digest algorithm";

const HEX_LENGTH_BY_ALGORITHM: ReadonlyMap<string, number> = new Map([
  ["sha256", 64],
  ["sha384", 96],
  ["sha512", 128],
]);

/** go-digest's `DigestRegexpAnchored`: `[a-z0-9]+([.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+`. */
function matchesGoDigestShape(digest: string, colon: number): boolean {
  let i = 0;
  for (;;) {
    const runStart = i;
    while (i < colon && isLowerAlnum(digest.charCodeAt(i))) i++;
    if (i === runStart) return false;
    if (i === colon) break;
    if (!".+_-".includes(digest.charAt(i))) return false;
    i++;
  }
  for (let j = colon + 1; j < digest.length; j++) {
    const c = digest.charCodeAt(j);
    if (!(isAsciiAlnum(c) || c === 0x3d || c === 0x5f || c === 0x2d)) return false;
  }
  return colon + 1 < digest.length;
}

function isLowerAlnum(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);
}

function isAsciiAlnum(c: number): boolean {
  return isLowerAlnum(c) || (c >= 0x41 && c <= 0x5a);
}

function isLowerHex(encoded: string): boolean {
  for (let i = 0; i < encoded.length; i++) {
    const c = encoded.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/** Returns go-digest's error text, or null when the digest is valid. Length is checked before case. */
export function validateDigest(digest: string): string | null {
  const colon = digest.indexOf(":");
  if (colon <= 0 || colon + 1 === digest.length) return DIGEST_INVALID_FORMAT;
  const algorithm = digest.slice(0, colon);
  const encoded = digest.slice(colon + 1);
  const expectedLength = HEX_LENGTH_BY_ALGORITHM.get(algorithm);
  if (expectedLength === undefined) {
    return matchesGoDigestShape(digest, colon) ? DIGEST_UNSUPPORTED : DIGEST_INVALID_FORMAT;
  }
  if (encoded.length !== expectedLength) return DIGEST_INVALID_LENGTH;
  return isLowerHex(encoded) ? null : DIGEST_INVALID_FORMAT;
}
