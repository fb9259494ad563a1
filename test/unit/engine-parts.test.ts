import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ABORTED, raceAbort } from "../../src/abort.ts";
import { compileExcludes } from "../../src/check/exclude.ts";
import { KeyedLimiter } from "../../src/check/limiter.ts";
import { ExpiringCache } from "../../src/check/result-cache.ts";
import type { CheckResult } from "../../src/check/types.ts";
import { exitCodeFor } from "../../src/cli/output.ts";
import { cachedReader } from "../../src/credentials/kube.ts";
import type { ImageReference } from "../../src/reference/types.ts";
import type { ResultCategory } from "../../src/results.ts";

describe("ExpiringCache", () => {
  test("entries expire at their TTL by the injected clock", () => {
    let now = 1000;
    const cache = new ExpiringCache<string>(10, () => now);
    cache.set("a", "A", 50);
    now = 1049;
    assert.equal(cache.get("a"), "A");
    now = 1050;
    assert.equal(cache.get("a"), undefined);
  });

  test("a zero TTL stores nothing and removes an older value", () => {
    const cache = new ExpiringCache<string>(10, () => 0);
    cache.set("a", "A", 100);
    cache.set("a", "B", 0);
    assert.equal(cache.get("a"), undefined);
  });

  test("the least recently used entry is evicted when full", () => {
    let now = 0;
    const cache = new ExpiringCache<number>(2, () => now);
    cache.set("a", 1, 100_000);
    cache.set("b", 2, 100_000);
    now = ExpiringCache.REFRESH_AFTER_MS;
    cache.get("a");
    cache.set("c", 3, 100_000);
    assert.equal(cache.get("b"), undefined);
    assert.equal(cache.get("a"), 1);
    assert.equal(cache.get("c"), 3);
    assert.equal(cache.size, 2);
  });

  test("a hit within the refresh interval does not reorder (approximate LRU)", () => {
    const cache = new ExpiringCache<number>(2, () => 0);
    cache.set("a", 1, 100);
    cache.set("b", 2, 100);
    cache.get("a");
    cache.set("c", 3, 100);
    assert.equal(cache.get("a"), undefined, "a was not refreshed, so it was the oldest");
    assert.equal(cache.get("b"), 2);
  });
});

describe("KeyedLimiter", () => {
  test("never runs more than the limit per key, and other keys are not held up", async () => {
    const limiter = new KeyedLimiter(2);
    const signal = new AbortController().signal;
    let running = 0;
    let peak = 0;
    const gates: Array<() => void> = [];
    const task = () =>
      new Promise<void>((resolve) => {
        running++;
        peak = Math.max(peak, running);
        gates.push(() => {
          running--;
          resolve();
        });
      });
    const all = [1, 2, 3, 4, 5].map(() => limiter.run("r", signal, task));
    let other = false;
    const otherKey = limiter.run("s", signal, async () => {
      other = true;
    });
    await otherKey;
    assert.equal(other, true);
    while (gates.length > 0 || running > 0) {
      await new Promise((r) => setImmediate(r));
      gates.shift()?.();
    }
    await Promise.all(all);
    assert.equal(peak, 2);
  });

  test("a waiter whose signal aborts leaves the queue with the abort reason", async () => {
    const limiter = new KeyedLimiter(1);
    let release = () => {};
    const first = limiter.run(
      "r",
      new AbortController().signal,
      () => new Promise<void>((r) => (release = r)),
    );
    const controller = new AbortController();
    const waiting = limiter.run("r", controller.signal, async () => "ran");
    controller.abort(new Error("deadline"));
    await assert.rejects(waiting, /deadline/);
    release();
    await first;
    assert.equal(await limiter.run("r", new AbortController().signal, async () => "free"), "free");
  });
});

describe("exclude patterns", () => {
  const ref = (name: string, tag: string | null = "latest", digest: string | null = null): ImageReference => {
    const slash = name.indexOf("/");
    return {
      original: name,
      registry: name.slice(0, slash),
      repository: name.slice(slash + 1),
      tag,
      digest,
      name,
    };
  };
  const cases: Array<[string, ImageReference, boolean]> = [
    ["docker.io/library/*", ref("docker.io/library/nginx"), true],
    ["docker.io/library/*", ref("docker.io/team/nginx"), false],
    ["docker.io/*", ref("docker.io/library/nginx"), false],
    ["docker.io/**", ref("docker.io/library/nginx"), true],
    ["registry.internal:5000/**", ref("registry.internal:5000/a/b/c"), true],
    ["*.example.com/team/*", ref("r.example.com/team/app"), true],
    ["quay.io/team/app:v1", ref("quay.io/team/app", "v1"), true],
    ["quay.io/team/app:v1", ref("quay.io/team/app", "v2"), false],
    ["quay.io/team/app.x", ref("quay.io/team/appyx"), false],
  ];
  for (const [pattern, reference, expected] of cases) {
    test(`${pattern} ${expected ? "excludes" : "does not exclude"} ${reference.name}:${reference.tag}`, () => {
      assert.equal(compileExcludes([pattern])(reference) === pattern, expected);
    });
  }
});

describe("check exit codes", () => {
  const result = (r: ResultCategory) => ({ result: r }) as CheckResult;
  test("definite beats indeterminate, indeterminate beats pass", () => {
    assert.equal(exitCodeFor([result("ok"), result("skipped")]), 0);
    assert.equal(exitCodeFor([result("ok"), result("rate-limited")]), 3);
    assert.equal(exitCodeFor([result("registry-error"), result("tag-not-found")]), 1);
    assert.equal(exitCodeFor([]), 0);
  });
});

describe("cachedReader", () => {
  test("a warm read makes no API call, concurrent reads share one, and entries expire", async () => {
    let now = 0;
    let calls = 0;
    const reader = cachedReader(
      {
        async secret() {
          calls++;
          return { type: "kubernetes.io/dockerconfigjson", data: {} };
        },
        async serviceAccount() {
          calls++;
          return null;
        },
      },
      30_000,
      () => now,
    );
    await Promise.all([reader.secret("ns", "a"), reader.secret("ns", "a")]);
    await reader.secret("ns", "a");
    assert.equal(calls, 1);
    await reader.secret("other", "a");
    assert.equal(calls, 2, "another namespace is another object");
    now = 30_001;
    await reader.secret("ns", "a");
    assert.equal(calls, 3);
  });

  test("a failed read is not cached", async () => {
    let calls = 0;
    const reader = cachedReader(
      {
        async secret() {
          calls++;
          if (calls === 1) throw new Error("API server down");
          return null;
        },
        async serviceAccount() {
          return null;
        },
      },
      30_000,
    );
    await assert.rejects(reader.secret("ns", "a"), /down/);
    assert.equal(await reader.secret("ns", "a"), null);
    assert.equal(calls, 2);
  });
});

describe("raceAbort", () => {
  test("settles with the work's value, or ABORTED when the signal fires first, and passes rejections on", async () => {
    assert.equal(await raceAbort(Promise.resolve(7), new AbortController().signal), 7);
    const controller = new AbortController();
    const never = new Promise<number>(() => {});
    const waiting = raceAbort(never, controller.signal);
    controller.abort();
    assert.equal(await waiting, ABORTED);
    assert.equal(await raceAbort(Promise.resolve(1), controller.signal), ABORTED, "already aborted");
    await assert.rejects(raceAbort(Promise.reject(new Error("boom")), new AbortController().signal), /boom/);
  });
});
