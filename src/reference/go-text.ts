/**
 * The two Go string functions whose output shows in the kubelet's parse
 * errors, so that pullcheck's reasons read the same.
 */

/** Go's `strings.ToLower` maps U+0130 (İ) to plain "i" (simple case mapping); JavaScript adds a combining dot. */
export function goToLower(s: string): string {
  return s.replaceAll("\u0130", "i").toLowerCase();
}

const SHORT_ESCAPES: ReadonlyMap<number, string> = new Map([
  [0x07, "\\a"],
  [0x08, "\\b"],
  [0x0c, "\\f"],
  [0x0a, "\\n"],
  [0x0d, "\\r"],
  [0x09, "\\t"],
  [0x0b, "\\v"],
  [0x22, '\\"'],
  [0x5c, "\\\\"],
]);

/** Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

function hex(codePoint: number, width: number): string {
  return codePoint.toString(16).padStart(width, "0");
}

/**
 * Go's `%q` (strconv.Quote). A lone UTF-16 surrogate prints as U+FFFD, which is
 * what the API server's JSON decoder turns it into before the kubelet sees it.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const char of s) {
    let codePoint = char.codePointAt(0) ?? 0;
    if (codePoint >= 0xd800 && codePoint <= 0xdfff) codePoint = 0xfffd;
    const short = SHORT_ESCAPES.get(codePoint);
    if (short !== undefined) out += short;
    else if (PRINTABLE.test(String.fromCodePoint(codePoint))) out += String.fromCodePoint(codePoint);
    else if (codePoint < 0x80) out += `\\x${hex(codePoint, 2)}`;
    else if (codePoint < 0x10000) out += `\\u${hex(codePoint, 4)}`;
    else out += `\\U${hex(codePoint, 8)}`;
  }
  return `${out}"`;
}
