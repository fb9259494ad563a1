/**
 * WWW-Authenticate parsing (RFC 7235 §4.1). Pure.
 *
 * Each header line is a comma-separated list of challenges; a challenge is a scheme
 * followed by either a token68 or a list of `key=value` params, values being tokens or
 * quoted strings with backslash escapes. Real pullers stop after the first challenge of a
 * line (REGISTRY.md §3.2 A10); parsing them all is a superset that still keeps the first.
 */

export interface Challenge {
  /** Lowercased scheme: "bearer", "basic", … */
  readonly scheme: string;
  /** Lowercased param names; values as sent. The first occurrence of a name wins. */
  readonly params: ReadonlyMap<string, string>;
  /** The token68 form (`Negotiate abc==`), when used instead of params. */
  readonly token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68_CHAR = /[A-Za-z0-9\-._~+/]/;

function isSpace(c: string | undefined): boolean {
  return c === " " || c === "\t";
}

/** A cursor over one header line. */
class Scanner {
  readonly text: string;
  pos = 0;

  constructor(text: string) {
    this.text = text;
  }

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  skipSpaces(): void {
    while (isSpace(this.peek())) this.pos++;
  }

  /** Skips whitespace and empty list elements (RFC 7230 §7 allows `a, , b`). */
  skipListSeparators(): void {
    while (isSpace(this.peek()) || this.peek() === ",") this.pos++;
  }

  readToken(): string {
    const start = this.pos;
    while (!this.done && TCHAR.test(this.text[this.pos] ?? "")) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** Reads a quoted string starting at `"`; an unterminated one runs to the end of the line. */
  readQuoted(): string {
    this.pos++; // opening quote
    let value = "";
    while (!this.done) {
      const c = this.text[this.pos] ?? "";
      if (c === "\\") {
        value += this.text[this.pos + 1] ?? "";
        this.pos += 2;
      } else if (c === '"') {
        this.pos++;
        return value;
      } else {
        value += c;
        this.pos++;
      }
    }
    return value;
  }

  /** Unquoted values are read leniently up to the next comma or space (some servers send bare URLs). */
  readBareValue(): string {
    const start = this.pos;
    while (!this.done && this.peek() !== "," && !isSpace(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** Skips to just past the next comma outside quotes (error recovery). */
  skipPastComma(): void {
    while (!this.done) {
      const c = this.peek();
      if (c === '"') {
        this.readQuoted();
      } else {
        this.pos++;
        if (c === ",") return;
      }
    }
  }

  /** True when the text at the cursor is `token68` followed by end, space or comma. */
  token68Length(): number {
    let i = this.pos;
    while (i < this.text.length && TOKEN68_CHAR.test(this.text[i] ?? "")) i++;
    if (i === this.pos) return 0;
    while (this.text[i] === "=") i++;
    const end = i;
    // `key = value` has spaces around "=": skip them before deciding.
    while (isSpace(this.text[i])) i++;
    const next = this.text[i];
    return next === undefined || next === "," ? end - this.pos : 0;
  }
}

/**
 * Tries to read `name BWS "=" BWS value` at the cursor. Returns null (cursor unchanged)
 * when the text there is not a param, which means a new challenge starts.
 */
function readParam(s: Scanner): [string, string] | null {
  const start = s.pos;
  const name = s.readToken();
  if (name === "") {
    s.pos = start;
    return null;
  }
  s.skipSpaces();
  if (s.peek() !== "=") {
    s.pos = start;
    return null;
  }
  s.pos++;
  s.skipSpaces();
  const value = s.peek() === '"' ? s.readQuoted() : s.readBareValue();
  return [name.toLowerCase(), value];
}

function parseLine(line: string, out: Challenge[]): void {
  const s = new Scanner(line);
  s.skipListSeparators();
  while (!s.done) {
    const scheme = s.readToken();
    if (scheme === "") {
      s.skipPastComma();
      s.skipListSeparators();
      continue;
    }
    const params = new Map<string, string>();
    let token68: string | undefined;
    const hadSpace = isSpace(s.peek());
    s.skipSpaces();

    // token68 form: only directly after the scheme; `abc==` followed by end/comma is a
    // token68, while `key=value` (value not empty) never matches token68Length.
    if (hadSpace && !s.done && s.peek() !== ",") {
      const length = s.token68Length();
      if (length > 0) {
        token68 = line.slice(s.pos, s.pos + length);
        s.pos += length;
      }
    }

    if (token68 === undefined) {
      for (;;) {
        s.skipListSeparators();
        if (s.done) break;
        const before = s.pos;
        const param = readParam(s);
        if (param === null) {
          // Not a param: either the next challenge's scheme or garbage.
          const token = s.readToken();
          s.pos = before;
          if (token !== "") break;
          s.skipPastComma();
          continue;
        }
        const [name, value] = param;
        if (!params.has(name)) params.set(name, value);
        s.skipSpaces();
        if (!s.done && s.peek() !== ",") s.skipPastComma();
      }
    }

    out.push(
      token68 === undefined
        ? { scheme: scheme.toLowerCase(), params }
        : { scheme: scheme.toLowerCase(), params, token68 },
    );
    s.skipListSeparators();
  }
}

/** Parses every WWW-Authenticate line (undici gives repeated headers as an array: keep them separate). */
export function parseChallenges(header: string | readonly string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const lines = typeof header === "string" ? [header] : header;
  const out: Challenge[] = [];
  for (const line of lines) parseLine(line, out);
  return out;
}

/** The challenge to answer: Bearer before Basic like containerd; other schemes are ignored. */
export function pickChallenge(challenges: readonly Challenge[]): Challenge | null {
  return (
    challenges.find((c) => c.scheme === "bearer") ?? challenges.find((c) => c.scheme === "basic") ?? null
  );
}
