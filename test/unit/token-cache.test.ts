import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  credentialIdentity,
  TokenCache,
  type TokenKey,
  tokenExpiry,
} from "../../src/registry/token-cache.ts";

function clock(start = Date.parse("2026-01-01T00:00:00Z")) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

const key = (over: Partial<TokenKey> = {}): TokenKey => ({
  realm: "https://auth.example/token",
  service: "registry.example",
  scope: "repository:team/app:pull",
  identity: "anonymous",
  ...over,
});

describe("tokenExpiry", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  const cases: { name: string; lifetime: Parameters<typeof tokenExpiry>[0]; expected: number }[] = [
    {
      name: "defaults to 60 s from now without expires_in or issued_at",
      lifetime: {},
      expected: now + 60_000,
    },
    { name: "uses expires_in from now", lifetime: { expiresInSeconds: 300 }, expected: now + 300_000 },
    {
      name: "counts from issued_at when it is in the past",
      lifetime: { expiresInSeconds: 300, issuedAt: "2025-12-31T23:59:00Z" },
      expected: now - 60_000 + 300_000,
    },
    {
      name: "ignores an issued_at in the future",
      lifetime: { expiresInSeconds: 300, issuedAt: "2026-01-01T01:00:00Z" },
      expected: now + 300_000,
    },
    {
      name: "ignores an unparsable issued_at",
      lifetime: { issuedAt: "yesterday-ish" },
      expected: now + 60_000,
    },
    {
      name: "treats expires_in 0 as the 60 s default",
      lifetime: { expiresInSeconds: 0 },
      expected: now + 60_000,
    },
    {
      name: "treats a negative expires_in as the 60 s default",
      lifetime: { expiresInSeconds: -5 },
      expected: now + 60_000,
    },
  ];
  for (const c of cases) {
    test(c.name, () => assert.equal(tokenExpiry(c.lifetime, now), c.expected));
  }
});

describe("TokenCache", () => {
  test("returns a stored token until just before it expires", () => {
    const c = clock();
    const cache = new TokenCache({ now: c.now, marginMs: 5000 });
    cache.set(key(), "tok", { expiresInSeconds: 60 });
    c.advance(54_999);
    assert.equal(cache.get(key()), "tok");
    c.advance(1);
    assert.equal(cache.get(key()), undefined);
  });

  test("keeps a short-lived token for at least half its life", () => {
    const c = clock();
    const cache = new TokenCache({ now: c.now, marginMs: 5000 });
    cache.set(key(), "tok", { expiresInSeconds: 4 });
    c.advance(1999);
    assert.equal(cache.get(key()), "tok");
    c.advance(1);
    assert.equal(cache.get(key()), undefined);
  });

  test("does not store a token that issued_at says has already expired", () => {
    const c = clock();
    const cache = new TokenCache({ now: c.now });
    cache.set(key(), "tok", { expiresInSeconds: 60, issuedAt: "2025-12-31T00:00:00Z" });
    assert.equal(cache.get(key()), undefined);
    assert.equal(cache.size, 0);
  });

  const distinct: { name: string; other: Partial<TokenKey> }[] = [
    { name: "realm", other: { realm: "https://other/token" } },
    { name: "service", other: { service: "other" } },
    { name: "scope", other: { scope: "repository:team/other:pull" } },
    {
      name: "credential identity",
      other: { identity: credentialIdentity({ username: "u", password: "p" }) },
    },
  ];
  for (const d of distinct) {
    test(`keeps tokens apart by ${d.name}`, () => {
      const cache = new TokenCache({ now: clock().now });
      cache.set(key(), "anon-token");
      assert.equal(cache.get(key(d.other)), undefined);
      cache.set(key(d.other), "other-token");
      assert.equal(cache.get(key()), "anon-token");
      assert.equal(cache.get(key(d.other)), "other-token");
    });
  }

  test("delete drops one entry", () => {
    const cache = new TokenCache({ now: clock().now });
    cache.set(key(), "a");
    cache.set(key({ scope: "s2" }), "b");
    cache.delete(key());
    assert.equal(cache.get(key()), undefined);
    assert.equal(cache.get(key({ scope: "s2" })), "b");
  });

  test("evicts the least recently used entry beyond maxEntries", () => {
    const cache = new TokenCache({ now: clock().now, maxEntries: 2 });
    cache.set(key({ scope: "1" }), "one");
    cache.set(key({ scope: "2" }), "two");
    assert.equal(cache.get(key({ scope: "1" })), "one"); // 1 is now the most recent
    cache.set(key({ scope: "3" }), "three");
    assert.equal(cache.size, 2);
    assert.equal(cache.get(key({ scope: "2" })), undefined);
    assert.equal(cache.get(key({ scope: "1" })), "one");
    assert.equal(cache.get(key({ scope: "3" })), "three");
  });

  test("evicts expired entries before live ones", () => {
    const c = clock();
    const cache = new TokenCache({ now: c.now, maxEntries: 2 });
    cache.set(key({ scope: "long" }), "long", { expiresInSeconds: 600 });
    cache.set(key({ scope: "short" }), "short", { expiresInSeconds: 60 });
    c.advance(120_000);
    cache.set(key({ scope: "new" }), "new", { expiresInSeconds: 600 });
    assert.equal(cache.get(key({ scope: "long" })), "long");
    assert.equal(cache.get(key({ scope: "new" })), "new");
  });
});

describe("credentialIdentity", () => {
  test("is anonymous without a credential", () => assert.equal(credentialIdentity(null), "anonymous"));

  test("never contains the password", () => {
    const id = credentialIdentity({ username: "alice", password: "s3cret-pass" });
    assert.ok(id.startsWith("alice"));
    assert.ok(!id.includes("s3cret-pass"));
  });

  test("changes when the password changes", () => {
    assert.notEqual(
      credentialIdentity({ username: "alice", password: "one" }),
      credentialIdentity({ username: "alice", password: "two" }),
    );
  });

  test("does not confuse a username containing the separator with another user", () => {
    assert.notEqual(
      credentialIdentity({ username: "a", password: "b" }),
      credentialIdentity({ username: "a\u0000", password: "b" }),
    );
  });
});
