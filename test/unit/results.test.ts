import assert from "node:assert/strict";
import { test } from "node:test";
import { classOf, isResultCategory, RESULT_CATEGORIES } from "../../src/results.ts";

test("the result set is exactly the PRODUCT.md table, in its order", () => {
  assert.deepEqual(RESULT_CATEGORIES, [
    "ok",
    "skipped",
    "invalid-reference",
    "tag-not-found",
    "repository-not-found",
    "not-found-or-unauthorized",
    "credentials-missing",
    "credentials-rejected",
    "pull-secret-invalid",
    "access-denied",
    "platform-not-found",
    "rate-limited",
    "registry-unreachable",
    "tls-error",
    "registry-error",
  ]);
});

test("indeterminate results are exactly the four the registry cannot be blamed for", () => {
  const indeterminate = RESULT_CATEGORIES.filter((r) => classOf(r) === "indeterminate");
  assert.deepEqual(indeterminate, ["rate-limited", "registry-unreachable", "tls-error", "registry-error"]);
});

test("isResultCategory rejects strings outside the set, including prototype keys", () => {
  assert.equal(isResultCategory("ok"), true);
  assert.equal(isResultCategory("not-found"), false);
  assert.equal(isResultCategory("toString"), false);
});
