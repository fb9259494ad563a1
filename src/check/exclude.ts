import type { ImageReference } from "../reference/types.ts";

/**
 * `exclude` patterns (PRODUCT.md config). A pattern is matched against the
 * normalized name `registry/repository` (so `nginx` is `docker.io/library/nginx`).
 * `*` matches within one path segment, `**` across segments; a pattern with a
 * `:tag` or `@digest` part must match that part too. See docs/decisions.
 */
export type ExcludeMatcher = (reference: ImageReference) => string | null;

export function compileExcludes(patterns: readonly string[]): ExcludeMatcher {
  const compiled = patterns.map((pattern) => ({ pattern, regex: patternToRegex(pattern) }));
  return (reference) => {
    const bare = reference.name;
    const full = reference.digest
      ? `${bare}@${reference.digest}`
      : reference.tag
        ? `${bare}:${reference.tag}`
        : bare;
    for (const { pattern, regex } of compiled) {
      if (regex.test(bare) || regex.test(full)) return pattern;
    }
    return null;
  };
}

function patternToRegex(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    if (char === "*") {
      if (pattern[i + 1] === "*") {
        source += ".*";
        i++;
      } else {
        source += "[^/]*";
      }
    } else {
      source += char.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`);
}
