/**
 * The parts of Go's `net/url.Parse` (Go 1.26 defaults) and `net.SplitHostPort` that the
 * kubelet's keyring relies on, for absolute http(s) URLs only. The kubelet keeps or
 * skips an auth key depending on whether Go can parse it, and matches on the host and
 * the percent-decoded path Go returns, so this follows Go's acceptance rules rather
 * than WHATWG's `new URL()` (which lower-cases hosts, applies IDNA and rejects `*`).
 *
 * Rules reproduced: control characters are refused; the fragment after `#` and the
 * query after `?` are dropped (the fragment's escapes must still be valid); userinfo
 * before the last `@` must use RFC 3986 userinfo characters; the host may only contain
 * letters, digits and ``!"$&'()*+,-.:;<=>[]_~`` or non-ASCII, with `%XX` allowed only
 * for non-ASCII bytes (and `%25`); a `[` is only allowed at the start of the host,
 * around a valid IPv6 address; at most one `:` outside brackets, followed by digits only.
 */

export interface GoUrlParts {
  /** host[:port] as Go's URL.Host: userinfo dropped, escapes decoded, case kept. */
  readonly host: string;
  /** Go's URL.Path: percent-decoded, "" when absent. */
  readonly path: string;
}

export type GoUrlResult =
  | ({ readonly ok: true } & GoUrlParts)
  | { readonly ok: false; readonly reason: string };

/** Parses "http://…" or "https://…" the way Go's url.Parse would. */
export function parseGoHttpUrl(raw: string): GoUrlResult {
  const scheme = raw.startsWith("https://") ? "https" : raw.startsWith("http://") ? "http" : null;
  if (scheme === null) return fail("not an http(s) URL");
  const hashAt = raw.indexOf("#");
  const beforeFragment = hashAt < 0 ? raw : raw.slice(0, hashAt);
  if (hasControlCharacter(beforeFragment)) return fail("contains a control character");

  let rest = beforeFragment.slice(scheme.length + 1);
  const questionAt = rest.indexOf("?");
  if (questionAt >= 0) rest = rest.slice(0, questionAt);

  // rest starts with "//": the authority runs to the first "/".
  let authority = rest.slice(2);
  let rawPath = "";
  const slashAt = authority.indexOf("/");
  if (slashAt >= 0) {
    rawPath = authority.slice(slashAt);
    authority = authority.slice(0, slashAt);
  }

  const host = parseAuthority(authority);
  if (!host.ok) return host;
  const path = percentDecode(rawPath, "other");
  if (!path.ok) return path;
  if (hashAt >= 0) {
    const fragment = percentDecode(raw.slice(hashAt + 1), "other");
    if (!fragment.ok) return fragment;
  }
  return { ok: true, host: host.value, path: path.value };
}

/**
 * Go's `net.SplitHostPort`, as the keyring uses it: when Go reports an error (no port,
 * too many colons, stray brackets) the whole host is the name and the port is "".
 */
export function splitGoHostPort(host: string): { readonly hostname: string; readonly port: string } {
  const whole = { hostname: host, port: "" };
  const lastColon = host.lastIndexOf(":");
  if (lastColon < 0) return whole;
  let hostname: string;
  let noOpenFrom = 0;
  let noCloseFrom = 0;
  if (host.startsWith("[")) {
    const close = host.indexOf("]");
    if (close < 0 || close + 1 !== lastColon) return whole;
    hostname = host.slice(1, close);
    noOpenFrom = 1;
    noCloseFrom = close + 1;
  } else {
    hostname = host.slice(0, lastColon);
    if (hostname.includes(":")) return whole;
  }
  if (host.indexOf("[", noOpenFrom) >= 0 || host.indexOf("]", noCloseFrom) >= 0) return whole;
  return { hostname, port: host.slice(lastColon + 1) };
}

type Step = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly reason: string };

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

function parseAuthority(authority: string): Step {
  const at = authority.lastIndexOf("@");
  const host = parseHost(at < 0 ? authority : authority.slice(at + 1));
  if (!host.ok || at < 0) return host;
  // Userinfo may hold a password: never quote any of it in a reason.
  const userinfo = authority.slice(0, at);
  if (!isValidUserinfo(userinfo)) return fail("invalid characters in the user:password@ part");
  // Go unescapes user and password separately; a ":" can never split a %XX escape.
  if (!percentDecode(userinfo, "other").ok) return fail("invalid %-escape in the user:password@ part");
  return host;
}

function parseHost(host: string): Step {
  const lastOpen = host.lastIndexOf("[");
  if (lastOpen > 0) return fail(`"[" is only allowed at the start of the host, around an IPv6 address`);
  if (lastOpen === 0) {
    const close = host.lastIndexOf("]");
    if (close < 0) return fail(`missing "]" in host`);
    const colonPort = host.slice(close + 1);
    if (!isValidOptionalPort(colonPort)) return fail(`invalid port ${quote(colonPort)} after host`);
    const inside = host.slice(1, close);
    const zoneAt = inside.indexOf("%25");
    let address: string;
    if (zoneAt >= 0) {
      const addressPart = percentDecode(inside.slice(0, zoneAt), "host");
      if (!addressPart.ok) return addressPart;
      const zonePart = percentDecode(inside.slice(zoneAt), "zone");
      if (!zonePart.ok) return zonePart;
      address = addressPart.value + zonePart.value;
    } else {
      const unescaped = percentDecode(inside, "host");
      if (!unescaped.ok) return unescaped;
      address = unescaped.value;
    }
    if (!isIPv6Literal(address)) return fail(`${quote(address)} in brackets is not an IPv6 address`);
    return { ok: true, value: `[${address}]${colonPort}` };
  }
  const firstColon = host.indexOf(":");
  // Go 1.26 (urlstrictcolons=1, the default) takes the port from the first colon for
  // http(s), so a second colon makes the port invalid.
  if (firstColon >= 0 && !isValidOptionalPort(host.slice(firstColon))) {
    return fail(`invalid port ${quote(host.slice(firstColon))} after host`);
  }
  return percentDecode(host, "host");
}

/** Host bytes Go accepts unescaped, besides letters and digits (net/url encoding table). */
const HOST_PUNCTUATION = new Set("!\"$&'()*+,-.:;<=>[]_~");
const USERINFO_PUNCTUATION = new Set("-._:~!$&'()*+,;=%@");

function isAsciiAlphanumeric(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9");
}

function isHostCharacter(c: string): boolean {
  return c.charCodeAt(0) >= 0x80 || isAsciiAlphanumeric(c) || HOST_PUNCTUATION.has(c);
}

function isValidUserinfo(userinfo: string): boolean {
  for (const c of userinfo) {
    if (!isAsciiAlphanumeric(c) && !USERINFO_PUNCTUATION.has(c)) return false;
  }
  return true;
}

function isValidOptionalPort(colonPort: string): boolean {
  if (colonPort === "") return true;
  if (!colonPort.startsWith(":")) return false;
  for (let i = 1; i < colonPort.length; i += 1) {
    const c = colonPort.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * Go's `unescape`: every `%` must start a `%XX` escape. In a host only non-ASCII bytes
 * (and `%25`) may be escaped and only host characters may appear unescaped; a zone
 * may escape only bytes it could hold unescaped. Decoded bytes are read as UTF-8.
 */
function percentDecode(text: string, mode: "host" | "zone" | "other"): Step {
  if (mode !== "other") {
    for (const c of text) {
      if (c !== "%" && !isHostCharacter(c)) return fail(`invalid character ${quote(c)} in host name`);
    }
  }
  if (!text.includes("%")) return { ok: true, value: text };
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  let i = 0;
  while (i < text.length) {
    if (text[i] !== "%") {
      const codePoint = text.codePointAt(i) as number;
      const width = codePoint > 0xffff ? 2 : 1;
      for (const b of encoder.encode(text.slice(i, i + width))) bytes.push(b);
      i += width;
      continue;
    }
    const sequence = text.slice(i, i + 3);
    if (i + 2 >= text.length || !isHexDigit(text.charCodeAt(i + 1)) || !isHexDigit(text.charCodeAt(i + 2))) {
      return fail(`invalid URL escape ${quote(sequence)}`);
    }
    const value = Number.parseInt(sequence.slice(1), 16);
    if (mode === "host" && value < 0x80 && sequence !== "%25") {
      return fail(`invalid URL escape ${quote(sequence)} in host name`);
    }
    if (
      mode === "zone" &&
      sequence !== "%25" &&
      value !== 0x20 &&
      !(value < 0x80 && isHostCharacter(String.fromCharCode(value)))
    ) {
      return fail(`invalid URL escape ${quote(sequence)} in IPv6 zone`);
    }
    bytes.push(value);
    i += 3;
  }
  return { ok: true, value: new TextDecoder("utf-8", { ignoreBOM: true }).decode(new Uint8Array(bytes)) };
}

/** Go's `netip.ParseAddr(s)` succeeding with an IPv6 (not IPv4) address, zone allowed. */
export function isIPv6Literal(text: string): boolean {
  // ParseAddr decides the family by the first '.', ':' or '%' it meets.
  const first = /[.:%]/.exec(text)?.[0];
  if (first !== ":") return false;
  let s = text;
  const zoneAt = s.indexOf("%");
  if (zoneAt >= 0) {
    if (zoneAt === s.length - 1) return false;
    s = s.slice(0, zoneAt);
  }
  let filled = 0; // bytes of the 16-byte address accounted for
  let ellipsis = -1;
  if (s.startsWith("::")) {
    ellipsis = 0;
    s = s.slice(2);
    if (s === "") return true;
  }
  while (filled < 16) {
    let digits = 0;
    while (digits < s.length && isHexDigit(s.charCodeAt(digits))) {
      digits += 1;
      if (digits > 4) return false;
    }
    if (digits === 0) return false;
    if (s[digits] === ".") {
      if (ellipsis < 0 && filled !== 12) return false;
      if (filled + 4 > 16) return false;
      if (!isStrictIPv4(s)) return false;
      s = "";
      filled += 4;
      break;
    }
    filled += 2;
    s = s.slice(digits);
    if (s === "") break;
    if (s[0] !== ":" || s.length === 1) return false;
    s = s.slice(1);
    if (s[0] === ":") {
      if (ellipsis >= 0) return false;
      ellipsis = filled;
      s = s.slice(1);
      if (s === "") break;
    }
  }
  if (s !== "") return false;
  return filled < 16 ? ellipsis >= 0 : ellipsis < 0;
}

/** Four decimal octets, no leading zeros, each at most 255 (netip's rules). */
function isStrictIPv4(text: string): boolean {
  const octets = text.split(".");
  if (octets.length !== 4) return false;
  return octets.every((octet) => /^(?:0|[1-9][0-9]{0,2})$/.test(octet) && Number(octet) <= 255);
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
