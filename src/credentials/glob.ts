/**
 * Go `path/filepath.Match` semantics for one host label, the way the kubelet matches
 * each dot-separated label of an auth key against the image's host:
 *   `*`      any run of characters (never crosses a `.`, because labels are split first)
 *   `?`      exactly one character
 *   `[...]`  one character from a class; ranges `a-z`; `[^...]` negates; `\` escapes
 *   `\c`     the character c literally
 * A malformed pattern (`[`, `[]`, `[a-]`, trailing `\` …) never matches; Go reports
 * ErrBadPattern there and the kubelet treats that as "no match".
 *
 * Written by hand (no RegExp built from user input), linear to compile and
 * O(pattern × label) to match, so hostile keys like `[` or `***…` stay cheap.
 * Characters are compared by code point; Go steps bytes in one place (skipping after a
 * `*`), which can only differ for non-ASCII names, and image references are ASCII.
 */

export type GlobToken =
  | { readonly kind: "star" }
  | { readonly kind: "any" }
  | { readonly kind: "char"; readonly codePoint: number }
  | {
      readonly kind: "class";
      readonly negated: boolean;
      readonly ranges: ReadonlyArray<readonly [number, number]>;
    };

export type CompiledGlob =
  | { readonly ok: true; readonly tokens: readonly GlobToken[]; readonly fixedLength: number }
  | { readonly ok: false; readonly reason: string };

export type GlobResult = "match" | "no-match" | "bad-pattern";

const STAR = 0x2a; // *
const QUESTION = 0x3f; // ?
const BACKSLASH = 0x5c; // \
const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const CARET = 0x5e; // ^
const DASH = 0x2d; // -

/** Parses a label pattern once; reuse the result for many labels. */
export function compileGlob(pattern: string): CompiledGlob {
  const points = codePoints(pattern);
  const tokens: GlobToken[] = [];
  let fixedLength = 0;
  let i = 0;
  while (i < points.length) {
    const c = points[i] as number;
    if (c === STAR) {
      // Consecutive stars mean the same as one.
      if (tokens.at(-1)?.kind !== "star") tokens.push({ kind: "star" });
      i += 1;
      continue;
    }
    fixedLength += 1;
    if (c === QUESTION) {
      tokens.push({ kind: "any" });
      i += 1;
    } else if (c === BACKSLASH) {
      const escaped = points[i + 1];
      if (escaped === undefined) return { ok: false, reason: "pattern ends with a lone backslash" };
      tokens.push({ kind: "char", codePoint: escaped });
      i += 2;
    } else if (c === OPEN) {
      const parsed = parseClass(points, i + 1);
      if (!parsed.ok) return parsed;
      tokens.push(parsed.token);
      i = parsed.next;
    } else {
      tokens.push({ kind: "char", codePoint: c });
      i += 1;
    }
  }
  return { ok: true, tokens, fixedLength };
}

function parseClass(
  points: readonly number[],
  start: number,
): { ok: true; token: GlobToken; next: number } | { ok: false; reason: string } {
  let i = start;
  const negated = points[i] === CARET;
  if (negated) i += 1;
  const ranges: Array<readonly [number, number]> = [];
  // Reads one class member; like Go, a member may not be an unescaped `-` or `]`, and
  // something must follow it (the class has to be closed).
  const member = (): number | null => {
    let c = points[i];
    if (c === undefined || c === DASH || c === CLOSE) return null;
    if (c === BACKSLASH) {
      i += 1;
      c = points[i];
      if (c === undefined) return null;
    }
    i += 1;
    return i < points.length ? c : null;
  };
  for (;;) {
    if (points[i] === CLOSE && ranges.length > 0)
      return { ok: true, token: { kind: "class", negated, ranges }, next: i + 1 };
    const low = member();
    if (low === null) return { ok: false, reason: "malformed character class" };
    let high = low;
    if (points[i] === DASH) {
      i += 1;
      const upper = member();
      if (upper === null) return { ok: false, reason: "malformed character class" };
      high = upper;
    }
    // Go accepts an empty range such as `[z-a]`; it simply matches nothing.
    ranges.push([low, high]);
  }
}

/** Matches one label (no dots, no slashes) against a compiled pattern. */
export function matchCompiledGlob(glob: CompiledGlob, label: string): GlobResult {
  if (!glob.ok) return "bad-pattern";
  const chars = codePoints(label);
  if (glob.fixedLength > chars.length) return "no-match";
  const tokens = glob.tokens;
  // Classic wildcard walk: remember the last star and how much of the label it has
  // swallowed; on a mismatch let it swallow one more character. Single-character
  // tokens make this complete, and it never backtracks past the last star.
  let t = 0;
  let s = 0;
  let starToken = -1;
  let starLabel = 0;
  while (s < chars.length) {
    const token = tokens[t];
    if (token?.kind === "star") {
      starToken = t;
      starLabel = s;
      t += 1;
      continue;
    }
    if (token !== undefined && tokenAccepts(token, chars[s] as number)) {
      t += 1;
      s += 1;
      continue;
    }
    if (starToken < 0) return "no-match";
    starLabel += 1;
    s = starLabel;
    t = starToken + 1;
  }
  while (tokens[t]?.kind === "star") t += 1;
  return t === tokens.length ? "match" : "no-match";
}

/** Convenience for one-off matches. */
export function matchGlob(pattern: string, label: string): GlobResult {
  return matchCompiledGlob(compileGlob(pattern), label);
}

function tokenAccepts(token: GlobToken, c: number): boolean {
  switch (token.kind) {
    case "any":
      return true;
    case "char":
      return token.codePoint === c;
    case "class": {
      const inside = token.ranges.some(([low, high]) => low <= c && c <= high);
      return inside !== token.negated;
    }
    case "star":
      return false;
  }
}

function codePoints(text: string): number[] {
  const points: number[] = [];
  for (const ch of text) points.push(ch.codePointAt(0) as number);
  return points;
}
