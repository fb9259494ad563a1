// Hostile and broken AdmissionReviews through the whole HTTP app: whatever arrives, the
// answer is an AdmissionReview (200) or a reason (400), never a 500 or a crash. The registry
// is a stand-in here (random bytes would otherwise dial random hosts); the real client is
// exercised against real registries in test/integration.
import assert from "node:assert/strict";
import { test } from "node:test";
import { handleAdmission } from "../../src/admission/handler.ts";
import { memoryAuditSink } from "../../src/audit.ts";
import { createEngine } from "../../src/check/engine.ts";
import { compileExcludes } from "../../src/check/exclude.ts";
import { defaultConfig } from "../../src/config/schema.ts";
import type { LookupOutcome } from "../../src/registry/types.ts";
import { buildApp } from "../../src/server/app.ts";
import { Metrics } from "../../src/server/metrics.ts";
import { deployment, review } from "../support/reviews.ts";

/** A small deterministic PRNG, so a failure names a seed that reproduces it. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const NASTY: unknown[] = [
  null,
  0,
  -1,
  1e308,
  true,
  "",
  " ",
  "\u0000",
  "a".repeat(100_000),
  "UPPER/Case:x",
  "x@sha256:zz",
  "__proto__",
  "constructor",
  [],
  {},
  [null],
  { __proto__: { polluted: true } },
  JSON.parse('{"__proto__": {"polluted": true}}'),
  "😀/😀:😀",
  "a\nWarning: forged",
];

function mutate(value: unknown, random: () => number, depth = 0): unknown {
  if (depth > 8) return value;
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)] as T;
  if (random() < 0.02) return pick(NASTY);
  if (Array.isArray(value)) {
    const copy = value.map((item) => mutate(item, random, depth + 1));
    if (random() < 0.1) copy.push(pick(NASTY));
    return copy;
  }
  if (value !== null && typeof value === "object") {
    const copy: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      if (random() < 0.02) continue; // drop a field
      copy[key] = mutate(inner, random, depth + 1);
    }
    if (random() < 0.05) copy[pick(["__proto__", "constructor", "extra", "image"])] = pick(NASTY);
    return copy;
  }
  return value;
}

test("2,000 mutated AdmissionReviews: always 200 with the uid echoed or 400 with a reason, never 500", async () => {
  const ok: LookupOutcome = {
    result: "ok",
    message: "",
    resolvedDigest: null,
    credential: null,
    mediaType: null,
  };
  const config = defaultConfig();
  const engine = createEngine({
    client: { lookup: async () => ok },
    policyFor: () => ({
      settings: { insecure: false, trusted: false },
      skip: false,
      nodeCredentials: false,
      pattern: null,
    }),
    excluded: compileExcludes([]),
    platforms: [],
    cache: config.cache,
    concurrencyPerRegistry: 4,
    lookupTimeoutMs: 1000,
  });
  const audit = memoryAuditSink();
  const failingKube = {
    secret: async () => {
      throw new Error("API down");
    },
    serviceAccount: async () => null,
  };
  const app = buildApp({
    admit: (body, mode) =>
      handleAdmission(body, mode, { engine, kube: failingKube, audit, settings: config }),
    metrics: new Metrics({ processMetrics: false }),
    ready: () => true,
  });
  const base = review(
    "Deployment",
    deployment("web", {
      images: ["registry.example.com/team/app:v1", "nginx"],
      imagePullSecrets: ["regcred"],
    }),
    { operation: "UPDATE", oldObject: deployment("web", { images: ["nginx:1"] }) },
  );
  const counts = { 200: 0, 400: 0 };
  for (let seed = 1; seed <= 2000; seed++) {
    const body = mutate(base, prng(seed));
    const response = await app.inject({
      method: "POST",
      url: seed % 3 === 0 ? "/validate/warn" : "/validate",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify(body),
    });
    const status = response.statusCode;
    assert.ok(
      status === 200 || status === 400,
      `seed ${seed}: HTTP ${status}: ${response.body.slice(0, 300)}`,
    );
    const json = response.json();
    if (status === 400) {
      assert.equal(typeof json.error, "string", `seed ${seed}`);
      assert.ok(json.error.length > 0 && !json.error.includes("\n    at "), `seed ${seed}: ${json.error}`);
    } else {
      assert.equal(json.response.uid, (body as { request: { uid: string } }).request.uid, `seed ${seed}`);
      assert.equal(typeof json.response.allowed, "boolean");
      for (const warning of json.response.warnings ?? []) {
        assert.ok(Array.from(warning as string).length < 256, `seed ${seed}: warning too long`);
        assert.equal((warning as string).includes("\n"), false, `seed ${seed}: warning with a newline`);
      }
    }
    counts[status as 200 | 400]++;
  }
  // The mutations must reach both outcomes, or the test is not testing much.
  assert.ok(counts[200] > 200 && counts[400] > 200, JSON.stringify(counts));
  assert.equal(({} as Record<string, unknown>).polluted, undefined, "Object.prototype was polluted");
  await app.close();
});
