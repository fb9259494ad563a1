import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ImageUse } from "../../src/admission/images.ts";
import { requiredPlatforms } from "../../src/admission/platforms.ts";
import { decide, type Finding } from "../../src/admission/verdict.ts";
import type { CheckResult } from "../../src/check/types.ts";
import type { ResultCategory } from "../../src/results.ts";

function finding(
  result: ResultCategory,
  image = "r.example.com/app:v1",
  extra: Partial<CheckResult> = {},
): Finding {
  const use: ImageUse = { image, container: "app", role: "container", fieldPath: "spec.containers[0].image" };
  return {
    use,
    result: {
      image,
      registry: "r.example.com",
      repository: "app",
      tag: "v1",
      digest: null,
      result,
      resolvedDigest: null,
      credential: null,
      message: `message for ${result}`,
      ...extra,
    },
  };
}

describe("decide", () => {
  const table: Array<[string, "enforce" | "warn", "warn" | "deny" | "allow", ResultCategory, string]> = [
    ["a definite failure denies in enforce mode", "enforce", "warn", "tag-not-found", "denied"],
    ["a definite failure only warns in warn mode", "warn", "deny", "tag-not-found", "warned"],
    ["an indeterminate result warns by default", "enforce", "warn", "registry-unreachable", "warned"],
    ["an indeterminate result denies with onRegistryError deny", "enforce", "deny", "rate-limited", "denied"],
    ["onRegistryError deny never denies in warn mode", "warn", "deny", "tls-error", "warned"],
    [
      "onRegistryError allow lets indeterminate results pass silently",
      "enforce",
      "allow",
      "registry-error",
      "allowed",
    ],
    ["ok is allowed", "enforce", "warn", "ok", "allowed"],
    ["skipped is allowed", "enforce", "deny", "skipped", "allowed"],
  ];
  for (const [name, mode, onError, result, expected] of table) {
    test(name, () => {
      assert.equal(decide(mode, onError, [finding(result)], "Pod ns/p").decision, expected);
    });
  }

  test("off mode allows without looking", () => {
    assert.equal(decide("off", "deny", [finding("tag-not-found")], "Pod ns/p").decision, "allowed");
  });

  test("the deny message has one line per failing image naming container, image and result", () => {
    const verdict = decide(
      "enforce",
      "warn",
      [finding("tag-not-found"), finding("ok"), finding("access-denied", "b:1")],
      "Deployment ns/web",
    );
    assert.equal(verdict.decision, "denied");
    const lines = (verdict.message ?? "").split("\n");
    assert.equal(lines.length, 3);
    assert.match(lines[0] ?? "", /^pullcheck denied Deployment ns\/web: 2 images cannot be pulled$/);
    assert.equal(
      lines[1],
      '- container "app" image "r.example.com/app:v1": tag-not-found: message for tag-not-found',
    );
    assert.match(lines[2] ?? "", /image "b:1": access-denied/);
  });

  test("warnings stay under 256 characters and hostile images cannot add lines", () => {
    const long = `a${"b".repeat(400)}\nWarning: forged`;
    const verdict = decide(
      "warn",
      "warn",
      [finding("tag-not-found", long, { message: "x".repeat(500) })],
      "Pod ns/p",
    );
    assert.equal(verdict.warnings.length, 1);
    const warning = verdict.warnings[0] ?? "";
    assert.ok(Array.from(warning).length < 256, `length ${warning.length}`);
    assert.equal(warning.includes("\n"), false);
  });

  test("an ok image whose index lacks some configured platforms warns", () => {
    const verdict = decide(
      "enforce",
      "warn",
      [finding("ok", "a:1", { missingPlatforms: ["linux/arm64"] })],
      "Pod ns/p",
    );
    assert.equal(verdict.decision, "warned");
    assert.match(verdict.warnings[0] ?? "", /lacks linux\/arm64/);
  });
});

describe("requiredPlatforms", () => {
  const spec = (nodeSelector: Record<string, string>, requiredArchitectures?: string[]) => ({
    imagePullSecrets: [],
    serviceAccountName: "default",
    nodeSelector,
    isTemplate: false,
    ...(requiredArchitectures ? { requiredArchitectures } : {}),
  });
  const configured = ["linux/amd64", "linux/arm64"];
  test("no configured platforms means no platform check, whatever the pod says", () => {
    assert.deepEqual(requiredPlatforms([], spec({ "kubernetes.io/arch": "arm64" })), []);
  });
  test("an unpinned pod needs the configured platforms", () => {
    assert.deepEqual(requiredPlatforms(configured, spec({})), configured);
  });
  test("a nodeSelector on arch narrows to that platform", () => {
    assert.deepEqual(requiredPlatforms(configured, spec({ "kubernetes.io/arch": "arm64" })), ["linux/arm64"]);
  });
  test("required node affinity narrows like a selector", () => {
    assert.deepEqual(requiredPlatforms(configured, spec({}, ["amd64"])), ["linux/amd64"]);
  });
  test("a pod pinned outside the configured set still needs its own platform", () => {
    assert.deepEqual(requiredPlatforms(configured, spec({ "kubernetes.io/arch": "s390x" })), ["linux/s390x"]);
  });
});
