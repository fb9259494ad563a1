/**
 * The distribution/reference grammar (REGISTRY.md §1.2) as hand-written scanners.
 *
 * Upstream uses one anchored regular expression; here every production is a
 * loop that moves forward over its input, so the whole match is linear in the
 * length of the string whatever it contains. The regex's only choices are
 * forced by the characters each part may hold (see `matchReference`), so the
 * split into domain, path, tag and digest is the same one Go's leftmost-first
 * matcher picks.
 */

/** The pieces of a string that matches the reference grammar; absent parts are null. */
export interface ReferenceParts {
  /** `host[:port]` when the first path segment is one; null when the name has no domain. */
  readonly domain: string | null;
  readonly path: string;
  readonly tag: string | null;
  readonly digest: string | null;
}

const MAX_TAG_LENGTH = 128;
const MIN_DIGEST_HEX_LENGTH = 32;

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isLowerLetter = (c: number): boolean => c >= 0x61 && c <= 0x7a;
const isUpperLetter = (c: number): boolean => c >= 0x41 && c <= 0x5a;
const isLetter = (c: number): boolean => isLowerLetter(c) || isUpperLetter(c);
const isLowerAlnum = (c: number): boolean => isLowerLetter(c) || isDigit(c);
const isAlnum = (c: number): boolean => isLetter(c) || isDigit(c);
/** RE2's `\w`: ASCII only. */
const isWordChar = (c: number): boolean => isAlnum(c) || c === 0x5f;
const isHexDigit = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

const DOT = 0x2e;
const UNDERSCORE = 0x5f;
const HYPHEN = 0x2d;
const PLUS = 0x2b;
const COLON = 0x3a;

const isPathSeparatorChar = (c: number): boolean => c === DOT || c === UNDERSCORE || c === HYPHEN;
const isDigestAlgorithmSeparator = (c: number): boolean =>
  c === DOT || c === UNDERSCORE || c === HYPHEN || c === PLUS;

function allCharsSatisfy(s: string, from: number, to: number, predicate: (c: number) => boolean): boolean {
  for (let i = from; i < to; i++) {
    if (!predicate(s.charCodeAt(i))) return false;
  }
  return true;
}

/** `.`, `_`, `__` or one or more `-` (the code's `[-]+`, not the doc comment's `[-]*`). */
function isPathSeparator(s: string, from: number, to: number): boolean {
  const length = to - from;
  if (length === 0) return false;
  const first = s.charCodeAt(from);
  if (first === HYPHEN) return allCharsSatisfy(s, from, to, (c) => c === HYPHEN);
  if (first === DOT) return length === 1;
  return length <= 2 && allCharsSatisfy(s, from, to, (c) => c === UNDERSCORE);
}

/** `[a-z0-9]+ (separator [a-z0-9]+)*` */
export function isPathComponent(component: string): boolean {
  const end = component.length;
  let i = 0;
  for (;;) {
    const alnumStart = i;
    while (i < end && isLowerAlnum(component.charCodeAt(i))) i++;
    if (i === alnumStart) return false;
    if (i === end) return true;
    const separatorStart = i;
    while (i < end && isPathSeparatorChar(component.charCodeAt(i))) i++;
    if (!isPathSeparator(component, separatorStart, i)) return false;
  }
}

/** `component ("/" component)*` */
export function isPath(path: string): boolean {
  return path.split("/").every(isPathComponent);
}

/** `[a-zA-Z0-9]` or `[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`: a DNS label that may hold uppercase. */
function isDomainNameComponent(label: string): boolean {
  if (label.length === 0) return false;
  if (!isAlnum(label.charCodeAt(0)) || !isAlnum(label.charCodeAt(label.length - 1))) return false;
  return allCharsSatisfy(label, 0, label.length, (c) => isAlnum(c) || c === HYPHEN);
}

function isDomainName(host: string): boolean {
  return host.split(".").every(isDomainNameComponent);
}

/** `(domain-name | "[" [a-fA-F0-9:]+ "]") (":" [0-9]+)?` — no IPv6 zone, no embedded IPv4. */
export function isDomainAndPort(domain: string): boolean {
  let portFrom: number;
  if (domain.startsWith("[")) {
    const close = domain.indexOf("]");
    if (close < 2) return false;
    if (!allCharsSatisfy(domain, 1, close, (c) => isHexDigit(c) || c === COLON)) return false;
    portFrom = close + 1;
  } else {
    const colon = domain.indexOf(":");
    portFrom = colon === -1 ? domain.length : colon;
    if (!isDomainName(domain.slice(0, portFrom))) return false;
  }
  if (portFrom === domain.length) return true;
  return (
    domain.charCodeAt(portFrom) === COLON &&
    portFrom + 1 < domain.length &&
    allCharsSatisfy(domain, portFrom + 1, domain.length, isDigit)
  );
}

/** `[\w][\w.-]{0,127}` */
export function isTag(tag: string): boolean {
  if (tag.length === 0 || tag.length > MAX_TAG_LENGTH) return false;
  if (!isWordChar(tag.charCodeAt(0))) return false;
  return allCharsSatisfy(tag, 1, tag.length, (c) => isWordChar(c) || c === DOT || c === HYPHEN);
}

/** `[A-Za-z][A-Za-z0-9]* ([-_+.][A-Za-z][A-Za-z0-9]*)*` */
function isDigestAlgorithm(algorithm: string): boolean {
  const end = algorithm.length;
  let i = 0;
  for (;;) {
    if (i >= end || !isLetter(algorithm.charCodeAt(i))) return false;
    i++;
    while (i < end && isAlnum(algorithm.charCodeAt(i))) i++;
    if (i === end) return true;
    if (!isDigestAlgorithmSeparator(algorithm.charCodeAt(i))) return false;
    i++;
  }
}

/**
 * The reference grammar's digest shape, `algorithm ":" [[:xdigit:]]{32,}`.
 * Only the shape: go-digest's own checks come after (`validateDigest`).
 */
export function isDigestShape(digest: string): boolean {
  const colon = digest.indexOf(":");
  if (colon === -1) return false;
  if (!isDigestAlgorithm(digest.slice(0, colon))) return false;
  const hexLength = digest.length - colon - 1;
  return hexLength >= MIN_DIGEST_HEX_LENGTH && allCharsSatisfy(digest, colon + 1, digest.length, isHexDigit);
}

/**
 * `[domain "/"] path`. The domain is taken when the first segment is a valid
 * `host[:port]` (the regex's optional group is greedy); otherwise the first
 * segment must itself be a path component and the name has no domain.
 */
function splitName(name: string): Pick<ReferenceParts, "domain" | "path"> | null {
  const slash = name.indexOf("/");
  if (slash === -1) return isPathComponent(name) ? { domain: null, path: name } : null;
  const first = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  if (!isPath(rest)) return null;
  if (isDomainAndPort(first)) return { domain: first, path: rest };
  if (isPathComponent(first)) return { domain: null, path: name };
  return null;
}

/**
 * Matches `name [":" tag] ["@" digest]` against the whole string.
 *
 * Why the split points are forced: only the digest may follow `@` and none of
 * the parts may contain `@`, so the digest starts after the first `@`. A tag
 * holds neither `:` nor `/`, and a name holds `:` only inside its domain, which
 * ends at the first `/`; so a `:` after the last `/` can only start the tag.
 */
export function matchReference(reference: string): ReferenceParts | null {
  const at = reference.indexOf("@");
  const nameAndTag = at === -1 ? reference : reference.slice(0, at);
  const digest = at === -1 ? null : reference.slice(at + 1);
  if (digest !== null && !isDigestShape(digest)) return null;

  const lastColon = nameAndTag.lastIndexOf(":");
  const hasTag = lastColon > nameAndTag.lastIndexOf("/");
  const name = hasTag ? nameAndTag.slice(0, lastColon) : nameAndTag;
  const tag = hasTag ? nameAndTag.slice(lastColon + 1) : null;
  if (tag !== null && !isTag(tag)) return null;

  const split = splitName(name);
  if (split === null) return null;
  return { ...split, tag, digest };
}
