/**
 * The closed set of results a lookup can end in (PRODUCT.md "Result categories").
 * The strings are a public contract: CLI JSON, audit records, metrics and
 * acceptance checks all depend on them exactly as written here.
 */
export const RESULT_CLASS = {
  ok: "pass",
  skipped: "pass",
  "invalid-reference": "definite",
  "tag-not-found": "definite",
  "repository-not-found": "definite",
  "not-found-or-unauthorized": "definite",
  "credentials-missing": "definite",
  "credentials-rejected": "definite",
  "pull-secret-invalid": "definite",
  "access-denied": "definite",
  "platform-not-found": "definite",
  "rate-limited": "indeterminate",
  "registry-unreachable": "indeterminate",
  "tls-error": "indeterminate",
  "registry-error": "indeterminate",
} as const;

export type ResultCategory = keyof typeof RESULT_CLASS;
export type ResultClass = (typeof RESULT_CLASS)[ResultCategory];

export const RESULT_CATEGORIES = Object.keys(RESULT_CLASS) as ResultCategory[];

export function classOf(result: ResultCategory): ResultClass {
  return RESULT_CLASS[result];
}

export function isResultCategory(value: string): value is ResultCategory {
  return Object.hasOwn(RESULT_CLASS, value);
}
