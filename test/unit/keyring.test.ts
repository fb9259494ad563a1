import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseDockercfg } from "../../src/credentials/docker-config.ts";
import { matchGlob } from "../../src/credentials/glob.ts";
import { isIPv6Literal, parseGoHttpUrl } from "../../src/credentials/go-url.ts";
import {
  buildKeyring,
  explainLookup,
  isDefaultRegistryMatch,
  type Keyring,
  lookupCredentials,
  maskUserinfo,
  matchesHostPattern,
  normalizeKey,
} from "../../src/credentials/keyring.ts";
import type { AuthEntry, CredentialOrigin } from "../../src/credentials/types.ts";

// Vectors from kubernetes pkg/credentialprovider/keyring_test.go (TestURLsMatch,
// TestDockerKeyringForGlob, TestKeyringMiss, TestKeyringHit*, TestIsDefaultRegistryMatch,
// TestDockerKeyringLookup, TestIssue3797) restated as inputs and outcomes, plus REGISTRY.md §4.
// Go url.Parse / filepath.Match outcomes were confirmed against Go 1.26 and the kubelet's
// keyring built from k8s.io/kubernetes v1.37.2.

const secretOrigin = (name: string): CredentialOrigin => ({
  source: "pod-secret",
  secret: `default/${name}`,
});

function source(name: string, entries: Record<string, [string, string]>) {
  const list: AuthEntry[] = Object.entries(entries).map(([key, [username, password]]) => ({
    key,
    username,
    password,
  }));
  return { origin: secretOrigin(name), entries: list };
}

/** One secret, one key, username = the key so a hit is easy to recognise. */
function singleKey(key: string): Keyring {
  return buildKeyring([source("s", { [key]: ["foo", "bar"] })]);
}

const users = (keyring: Keyring, image: string) => lookupCredentials(keyring, image).map((c) => c.username);

describe("Go filepath.Match on one host label", () => {
  const cases: Array<{ pattern: string; label: string; expect: "match" | "no-match" | "bad-pattern" }> = [
    { pattern: "*", label: "anything", expect: "match" },
    { pattern: "*", label: "", expect: "match" },
    { pattern: "prefix*", label: "prefix-good", expect: "match" },
    { pattern: "*-good", label: "prefix-good", expect: "match" },
    { pattern: "*-good", label: "prefix-bad", expect: "no-match" },
    { pattern: "a*b*c", label: "aXbYbZc", expect: "match" },
    { pattern: "a*b*c", label: "aXbYbZ", expect: "no-match" },
    { pattern: "k*", label: "quay", expect: "no-match" },
    { pattern: "?", label: "a", expect: "match" },
    { pattern: "?", label: "", expect: "no-match" },
    { pattern: "??", label: "a", expect: "no-match" },
    { pattern: "[abc]", label: "b", expect: "match" },
    { pattern: "[a-c]x", label: "cx", expect: "match" },
    { pattern: "[a-c]x", label: "dx", expect: "no-match" },
    { pattern: "[^a-c]x", label: "dx", expect: "match" },
    { pattern: "[^a-c]x", label: "bx", expect: "no-match" },
    { pattern: "[z-a]", label: "m", expect: "no-match" },
    { pattern: "[*]", label: "*", expect: "match" },
    { pattern: "[*]", label: "a", expect: "no-match" },
    { pattern: "\\*", label: "*", expect: "match" },
    { pattern: "\\*", label: "a", expect: "no-match" },
    { pattern: "[\\]]", label: "]", expect: "match" },
    { pattern: "a]", label: "a]", expect: "match" },
    { pattern: "[", label: "x", expect: "bad-pattern" },
    { pattern: "[]", label: "x", expect: "bad-pattern" },
    { pattern: "[^]", label: "x", expect: "bad-pattern" },
    { pattern: "[a-]", label: "a", expect: "bad-pattern" },
    { pattern: "[-a]", label: "a", expect: "bad-pattern" },
    { pattern: "[a", label: "a", expect: "bad-pattern" },
    { pattern: "a\\", label: "a", expect: "bad-pattern" },
    { pattern: "*[", label: "a", expect: "bad-pattern" },
  ];
  for (const c of cases) {
    test(`${JSON.stringify(c.pattern)} against ${JSON.stringify(c.label)} is ${c.expect}`, () => {
      assert.equal(matchGlob(c.pattern, c.label), c.expect);
    });
  }

  test("a pattern of 100 000 stars stays cheap and matches like one star", () => {
    const started = performance.now();
    assert.equal(matchGlob(`${"*".repeat(100_000)}b`, `${"a".repeat(60)}b`), "match");
    assert.equal(matchGlob(`${"*a".repeat(50_000)}`, "a".repeat(63)), "no-match");
    assert.equal(matchGlob(`${"*a".repeat(30)}*b`, "a".repeat(63)), "no-match");
    assert.ok(performance.now() - started < 2_000);
  });
});

describe("Go url.Parse acceptance (what the kubelet skips)", () => {
  const cases: Array<{ url: string; expect: [host: string, path: string] | RegExp }> = [
    { url: "https://index.docker.io/v1/", expect: ["index.docker.io", "/v1/"] },
    { url: "https://user:pw@quay.io/team?x=1#frag", expect: ["quay.io", "/team"] },
    { url: "https://*.example.com:5000/a%20b", expect: ["*.example.com:5000", "/a b"] },
    { url: "https://Registry.Example.COM", expect: ["Registry.Example.COM", ""] },
    { url: "https://[::1]:5000/x", expect: ["[::1]:5000", "/x"] },
    { url: "https://[fe80::1%25en0]/x", expect: ["[fe80::1%en0]", "/x"] },
    { url: "https://h%C3%A9.io/", expect: ["hé.io", "/"] },
    { url: "https://a[b].example.com", expect: /only allowed at the start of the host/ },
    { url: "https://[1.2.3.4]", expect: /not an IPv6 address/ },
    { url: "https://a^b.example.com", expect: /invalid character "\^" in host name/ },
    { url: "https://a b.io", expect: /invalid character " " in host name/ },
    { url: "https://quay.io:abc", expect: /invalid port ":abc"/ },
    { url: "https://a:b:5000", expect: /invalid port ":b:5000"/ },
    { url: "https://%41.io", expect: /invalid URL escape "%41" in host name/ },
    { url: "https://quay.io/%zz", expect: /invalid URL escape "%zz"/ },
    { url: "https://quay.io/#%zz", expect: /invalid URL escape/ },
    { url: "https://quay.io/\n", expect: /control character/ },
    { url: "https://us{er@quay.io", expect: /user:password@ part/ },
  ];
  for (const c of cases) {
    test(`${JSON.stringify(c.url)} → ${c.expect instanceof RegExp ? "rejected" : c.expect.join(" ")}`, () => {
      const parsed = parseGoHttpUrl(c.url);
      if (c.expect instanceof RegExp) {
        assert.equal(parsed.ok, false);
        if (!parsed.ok) assert.match(parsed.reason, c.expect);
      } else {
        assert.deepEqual(parsed, { ok: true, host: c.expect[0], path: c.expect[1] });
      }
    });
  }

  test("a rejected user:password@ part is never quoted", () => {
    const parsed = parseGoHttpUrl("https://robot:s3cr3t{x}@quay.io");
    assert.equal(parsed.ok, false);
    if (!parsed.ok) assert.ok(!parsed.reason.includes("s3cr3t"));
  });

  const ipv6: Array<[string, boolean]> = [
    ["::1", true],
    ["::", true],
    ["fe80::1%en0", true],
    ["::ffff:1.2.3.4", true],
    ["1:2:3:4:5:6:7:8", true],
    ["1:2:3:4:5:6:1.2.3.4", true],
    ["1:2:3:4:5:6:7:8:9", false],
    ["1::2::3", false],
    ["12345::", false],
    ["::ffff:01.2.3.4", false],
    ["fe80::1%", false],
    ["1.2.3.4", false],
    ["1:2:3:4:5:6:7::", true],
    ["1:2:3:4:5:6:7:8::", false],
  ];
  for (const [text, valid] of ipv6) {
    test(`${JSON.stringify(text)} is ${valid ? "" : "not "}an IPv6 literal for Go's netip`, () => {
      assert.equal(isIPv6Literal(text), valid);
    });
  }
});

describe("key normalization", () => {
  const cases: Array<{ key: string; expect: string | RegExp }> = [
    { key: "https://index.docker.io/v1/", expect: "index.docker.io" },
    { key: "index.docker.io", expect: "index.docker.io" },
    { key: "http://index.docker.io/v2/", expect: "index.docker.io" },
    { key: "quay.io/coreos", expect: "quay.io/coreos" },
    { key: "https://quay.io/v1/", expect: "quay.io" },
    { key: "*.docker.io/v2/", expect: "*.docker.io" },
    { key: "quay.io/", expect: "quay.io" },
    { key: "quay.io/v1/team", expect: "quay.io/team" },
    { key: "quay.io/v1", expect: "quay.io/v1" },
    { key: "user:pw@quay.io/team?tab=tags", expect: "quay.io/team" },
    { key: "registry.example.com:5000", expect: "registry.example.com:5000" },
    // An upper-case scheme is not recognised: "https://" is prepended and "HTTPS:" becomes the host.
    { key: "HTTPS://quay.io", expect: "HTTPS://quay.io" },
    { key: "a^b.example.com", expect: /invalid character/ },
    { key: "registry-[ab].example.com", expect: /only allowed at the start/ },
    { key: "quay.io/%zz", expect: /invalid URL escape/ },
  ];
  for (const c of cases) {
    test(`${JSON.stringify(c.key)} → ${c.expect instanceof RegExp ? "skipped" : JSON.stringify(c.expect)}`, () => {
      const normalized = normalizeKey(c.key);
      if (c.expect instanceof RegExp) {
        assert.equal(normalized.ok, false);
        if (!normalized.ok) assert.match(normalized.reason, c.expect);
      } else {
        assert.deepEqual(normalized, { ok: true, key: c.expect });
      }
    });
  }
});

describe("URLsMatch: a key pattern against a host[/path] (TestURLsMatch)", () => {
  const cases: Array<[glob: string, target: string, matches: boolean]> = [
    ["*.kubernetes.io", "prefix.kubernetes.io", true],
    ["prefix.*.io", "prefix.kubernetes.io", true],
    ["prefix.kubernetes.*", "prefix.kubernetes.io", true],
    ["*-good.kubernetes.io", "prefix-good.kubernetes.io", true],
    ["*.kubernetes.io/blah", "prefix.kubernetes.io/blah", true],
    ["prefix.*.io/foo", "prefix.kubernetes.io/foo/bar", true],
    ["*.kubernetes.io:1111/blah", "prefix.kubernetes.io:1111/blah", true],
    ["prefix.*.io:1111/foo", "prefix.kubernetes.io:1111/foo/bar", true],
    ["*.kubernetes.io", "kubernetes.io", false],
    ["*.*.kubernetes.io", "prefix.kubernetes.io", false],
    ["*.*.kubernetes.io", "kubernetes.io", false],
    ["*kubernetes.io", "a.kubernetes.io", false],
    ["*kubernetes.io", "kubernetes.io", true],
    ["*.*.*.kubernetes.io", "a.b.c.kubernetes.io", true],
    ["kubernetes.io", "kubernetes.com", false],
    ["k*.io", "quay.io", false],
    ["*.kubernetes.io:1234/blah", "prefix.kubernetes.io:1111/blah", false],
    ["prefix.*.io/foo", "prefix.kubernetes.io:1111/foo/bar", false],
    // REGISTRY.md §4.4: ports compare as strings, a missing port equals no port.
    ["registry.example.com:5000", "registry.example.com", false],
    ["registry.example.com", "registry.example.com:5000", false],
    ["registry.example.com:443", "registry.example.com", false],
    ["*.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", true],
    ["*.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com.cn", false],
    ["[::1]:5000", "[::1]:5000", true],
    ["Quay.io", "quay.io", false],
  ];
  for (const [glob, target, matches] of cases) {
    test(`${glob} ${matches ? "matches" : "does not match"} ${target}`, () => {
      assert.equal(matchesHostPattern(glob, target), matches);
    });
  }
});

describe("one key, one image (TestDockerKeyringForGlob, TestKeyringMiss)", () => {
  const hits: Array<[key: string, target: string]> = [
    ["https://hello.kubernetes.io", "hello.kubernetes.io"],
    ["https://*.docker.io", "prefix.docker.io"],
    ["https://prefix.*.io", "prefix.docker.io"],
    ["https://prefix.docker.*", "prefix.docker.io"],
    ["https://*.docker.io/path", "prefix.docker.io/path"],
    ["https://prefix.*.io/path", "prefix.docker.io/path/subpath"],
    ["https://prefix.docker.*/path", "prefix.docker.io/path"],
    ["https://*.docker.io:8888", "prefix.docker.io:8888"],
    ["https://prefix.*.io:8888", "prefix.docker.io:8888"],
    ["https://prefix.docker.*:8888", "prefix.docker.io:8888"],
    ["https://*.docker.io/path:1111", "prefix.docker.io/path:1111"],
    ["https://*.docker.io/v1/", "prefix.docker.io/path:1111"],
    ["https://*.docker.io/v2/", "prefix.docker.io/path:1111"],
    ["https://prefix.docker.*/path:1111", "prefix.docker.io/path:1111"],
    ["prefix.docker.io:1111", "prefix.docker.io:1111/path"],
    ["*.docker.io:1111", "prefix.docker.io:1111/path"],
  ];
  for (const [key, target] of hits) {
    test(`key ${key} gives its credential to ${target}/foo/bar`, () => {
      const found = lookupCredentials(singleKey(key), `${target}/foo/bar`);
      assert.deepEqual(
        found.map((c) => [c.username, c.password, c.match]),
        [["foo", "bar", key]],
      );
    });
  }

  const misses: Array<[key: string, lookup: string]> = [
    ["https://hello.kubernetes.io", "world.mesos.org/foo/bar"],
    ["https://*.docker.com", "prefix.docker.io"],
    ["https://suffix.*.io", "prefix.docker.io"],
    ["https://prefix.docker.c*", "prefix.docker.io"],
    ["https://prefix.*.io/path:1111", "prefix.docker.io/path/subpath:1111"],
    ["suffix.*.io", "prefix.docker.io"],
    ["HTTPS://prefix.docker.io", "prefix.docker.io"],
    // Recent Go rejects "[" outside an IPv6 literal, so character-class keys are skipped.
    ["registry-[ab].example.com", "registry-a.example.com"],
    // A Docker Hub key never serves images of other registries.
    ["https://index.docker.io/v1/", "world.mesos.org/foo/bar"],
  ];
  for (const [key, lookup] of misses) {
    test(`key ${key} gives nothing to ${lookup}/foo/bar`, () => {
      assert.deepEqual(lookupCredentials(singleKey(key), `${lookup}/foo/bar`), []);
    });
  }
});

describe("isDefaultRegistryMatch (TestIsDefaultRegistryMatch)", () => {
  const cases: Array<[string, boolean]> = [
    ["foo/bar", true],
    ["docker.io/foo/bar", true],
    ["index.docker.io/foo/bar", true],
    ["foo", true],
    ["", false],
    ["registry.tld/foo/bar", false],
    ["registry:5000/foo/bar", false],
    ["myhostdocker.io/foo/bar", false],
    ["docker.io/library/nginx", true],
    ["localhost/foo", true],
  ];
  for (const [image, expected] of cases) {
    test(`${JSON.stringify(image)} is ${expected ? "" : "not "}a Docker Hub image`, () => {
      assert.equal(isDefaultRegistryMatch(image), expected);
    });
  }
});

describe("Docker Hub fallback (TestKeyringHitWith*DockerHub)", () => {
  const hub = singleKey("https://index.docker.io/v1/");
  const cases: Array<[image: string, users: string[]]> = [
    ["google/docker-registry", ["foo"]],
    ["jenkins", ["foo"]],
    ["index.docker.io/v1//google/docker-registry", ["foo"]],
    ["docker.io/library/nginx", ["foo"]],
    ["docker.io/bitnami/redis", ["foo"]],
    ["world.mesos.org/foo/bar", []],
    ["quay.io/coreos/etcd", []],
  ];
  for (const [image, expected] of cases) {
    test(`${image} gets ${expected.length ? "the index.docker.io credential" : "nothing"}`, () => {
      assert.deepEqual(users(hub, image), expected);
    });
  }

  test("the fallback applies only when no other key matched", () => {
    const keyring = buildKeyring([
      source("hub", { "https://index.docker.io/v1/": ["hub", "x"] }),
      source("glob", { "*.io": ["any-io", "y"] }),
    ]);
    assert.deepEqual(users(keyring, "docker.io/library/nginx"), ["any-io"]);
    assert.deepEqual(users(keyring, "docker.io.example.com/x"), []);
    assert.deepEqual(users(keyring, "example.com/x"), []);
  });

  test("every spelling of the Docker Hub key lands in the fallback, in source order", () => {
    const keyring = buildKeyring([
      source("a", { "https://index.docker.io/v1/": ["a", "1"] }),
      source("b", { "index.docker.io": ["b", "2"], "http://index.docker.io/v2/": ["c", "3"] }),
    ]);
    const found = lookupCredentials(keyring, "docker.io/library/nginx");
    assert.deepEqual(
      found.map((c) => [c.username, c.origin.secret, c.match]),
      [
        ["a", "default/a", "https://index.docker.io/v1/"],
        ["b", "default/b", "index.docker.io"],
        ["c", "default/b", "http://index.docker.io/v2/"],
      ],
    );
  });

  test("a docker.io key matches Docker Hub images directly, not through the fallback", () => {
    const keyring = buildKeyring([
      source("s", { "docker.io": ["direct", "x"], "index.docker.io": ["fallback", "y"] }),
    ]);
    assert.deepEqual(users(keyring, "docker.io/library/nginx"), ["direct"]);
    assert.equal(explainLookup(keyring, "docker.io/library/nginx").dockerHubFallback, false);
  });
});

describe("lookup order and accumulation (TestDockerKeyringLookup, TestIssue3797)", () => {
  const keyring = buildKeyring([
    source("s", { "bar.example.com/pong": ["grace", "squash"], "bar.example.com": ["ada", "smash"] }),
  ]);
  const cases: Array<[image: string, users: string[]]> = [
    ["bar.example.com", ["ada"]],
    ["bar.example.com/pong", ["grace", "ada"]],
    ["bar.example.com/ping", ["ada"]],
    ["bar.example.com/pongz", ["grace", "ada"]],
    ["bar.example.com/pong/pang", ["grace", "ada"]],
    ["example.com", []],
    ["foo.example.com", []],
  ];
  for (const [image, expected] of cases) {
    test(`${image} gets [${expected.join(", ")}]`, () => {
      assert.deepEqual(users(keyring, image), expected);
    });
  }

  const quay = singleKey("https://quay.io/v1/");
  for (const image of ["quay.io", "quay.io/foo", "quay.io/foo/bar"]) {
    test(`a https://quay.io/v1/ key serves ${image}`, () => {
      assert.deepEqual(users(quay, image), ["foo"]);
    });
  }

  test("more specific keys come first: quay.io/coreos before quay.io", () => {
    const k = buildKeyring([source("s", { "quay.io": ["broad", "x"], "quay.io/coreos": ["narrow", "y"] })]);
    assert.deepEqual(users(k, "quay.io/coreos/etcd"), ["narrow", "broad"]);
    assert.deepEqual(
      k.slots.map((s) => s.normalized),
      ["quay.io/coreos", "quay.io"],
    );
  });

  test("registry.example.com comes before *.example.com", () => {
    const k = buildKeyring([
      source("a", { "*.example.com": ["glob", "x"] }),
      source("b", { "registry.example.com": ["exact", "y"] }),
    ]);
    assert.deepEqual(users(k, "registry.example.com/team/app"), ["exact", "glob"]);
  });

  test("several secrets contribute to the same key in secret order", () => {
    const k = buildKeyring([
      source("first", { "quay.io": ["one", "1"] }),
      source("second", { "https://quay.io/v1/": ["two", "2"] }),
      source("third", { "quay.io/": ["three", "3"], "quay.io/team": ["team", "4"] }),
    ]);
    const found = lookupCredentials(k, "quay.io/team/app");
    assert.deepEqual(
      found.map((c) => [c.username, c.origin.secret, c.match]),
      [
        ["team", "default/third", "quay.io/team"],
        ["one", "default/first", "quay.io"],
        ["two", "default/second", "https://quay.io/v1/"],
        ["three", "default/third", "quay.io/"],
      ],
    );
  });

  test("a key with a path is a plain string prefix, not a path segment", () => {
    const k = singleKey("registry.example.com/team");
    assert.deepEqual(users(k, "registry.example.com/teamwork/app"), ["foo"]);
    assert.deepEqual(users(k, "registry.example.com/other/app"), []);
  });

  test("the match field is the key as written, with any user:password@ masked", () => {
    const k = singleKey("https://robot:s3cr3t@quay.io/v1/");
    const [found] = lookupCredentials(k, "quay.io/team/app");
    assert.equal(found?.match, "https://***@quay.io/v1/");
    assert.ok(!JSON.stringify(explainLookup(k, "quay.io/team/app")).includes("s3cr3t"));
  });

  test("credentials parsed from a legacy payload flow through unchanged", () => {
    const parsed = parseDockercfg(
      JSON.stringify({ "quay.io": { auth: Buffer.from("robot:tok").toString("base64") } }),
    );
    if (!parsed.ok) assert.fail(parsed.reason);
    const k = buildKeyring([{ origin: secretOrigin("legacy"), entries: parsed.entries }]);
    assert.deepEqual(
      lookupCredentials(k, "quay.io/a/b").map((c) => [c.username, c.password]),
      [["robot", "tok"]],
    );
  });
});

describe("explainLookup", () => {
  const keyring = buildKeyring([
    source("one", {
      "registry.example.com:5000": ["port", "x"],
      "*.example.com": ["glob", "x"],
      "team.example.com/team": ["path", "x"],
      "https://index.docker.io/v1/": ["hub", "x"],
      "bad^key.io": ["skipped", "x"],
      "k*.io": ["label", "x"],
    }),
  ]);

  const whyFor = (image: string, key: string) => {
    const row = explainLookup(keyring, image).considered.find((c) => c.key === key);
    if (!row) assert.fail(`no row for ${key}`);
    return row;
  };

  const cases: Array<{ name: string; image: string; key: string; matched: boolean; why: RegExp }> = [
    {
      name: "a port mismatch",
      image: "registry.example.com/app",
      key: "registry.example.com:5000",
      matched: false,
      why: /^port 5000 ≠ no port$/,
    },
    {
      name: "a label-count mismatch",
      image: "a.b.example.com/app",
      key: "*.example.com",
      matched: false,
      why: /^host "\*\.example\.com" has 3 labels, image host "a\.b\.example\.com" has 4$/,
    },
    {
      name: "a path that is not a prefix",
      image: "team.example.com/other/app",
      key: "team.example.com/team",
      matched: false,
      why: /^path prefix "\/team" not a prefix of "\/other\/app"$/,
    },
    {
      name: "a host label that does not match",
      image: "quay.io/x",
      key: "k*.io",
      matched: false,
      why: /host label "k\*" does not match "quay"/,
    },
    {
      name: "a match",
      image: "team.example.com/team/app",
      key: "team.example.com/team",
      matched: true,
      why: /^matches: host "team\.example\.com" and path prefix "\/team"$/,
    },
    {
      name: "a glob match",
      image: "x.example.com/app",
      key: "*.example.com",
      matched: true,
      why: /^matches: host "\*\.example\.com"$/,
    },
    {
      name: "the Docker Hub fallback",
      image: "docker.io/library/nginx",
      key: "https://index.docker.io/v1/",
      matched: true,
      why: /^Docker Hub fallback: no key matched and index\.docker\.io is configured$/,
    },
    {
      name: "an unparsable key",
      image: "docker.io/library/nginx",
      key: "bad^key.io",
      matched: false,
      why: /ignored by the kubelet: not parsable as a URL \(invalid character "\^" in host name\)/,
    },
  ];
  for (const c of cases) {
    test(`explains ${c.name}`, () => {
      const row = whyFor(c.image, c.key);
      assert.equal(row.matched, c.matched);
      assert.match(row.why, c.why);
    });
  }

  test("reports the fallback and normalized keys", () => {
    const explained = explainLookup(keyring, "docker.io/library/nginx");
    assert.equal(explained.dockerHubFallback, true);
    assert.deepEqual(
      explained.matched.map((c) => c.username),
      ["hub"],
    );
    assert.equal(
      explained.considered.find((c) => c.key === "https://index.docker.io/v1/")?.normalized,
      "index.docker.io",
    );
    assert.equal(explained.considered.at(-1)?.normalized, "");
  });

  test("lists rows in index order with skipped keys last", () => {
    const keys = explainLookup(keyring, "quay.io/x").considered.map((c) => c.key);
    assert.deepEqual(keys, [
      "team.example.com/team",
      "registry.example.com:5000",
      "k*.io",
      "https://index.docker.io/v1/",
      "*.example.com",
      "bad^key.io",
    ]);
  });

  const images = [
    "docker.io/library/nginx",
    "quay.io/x",
    "x.example.com/app",
    "team.example.com/team/app",
    "registry.example.com:5000/app",
    "registry.example.com/app",
    "localhost:5000/x",
  ];
  for (const image of images) {
    test(`agrees with lookupCredentials for ${image}`, () => {
      assert.deepEqual(explainLookup(keyring, image).matched, lookupCredentials(keyring, image));
    });
  }
});

describe("hostile input never throws", () => {
  const keys = [
    "[",
    "*".repeat(50_000),
    `${"*.".repeat(5_000)}io`,
    "",
    "%",
    "https://",
    "http://[",
    "[::1",
    "a\u0000b.io",
    "\uD800.io",
    `${"a".repeat(200_000)}.io/${"b".repeat(200_000)}`,
    "[^a].io",
    "user@@@host",
    "https://:@:/",
  ];
  test("keyring building, lookup and explain survive hostile keys", () => {
    const keyring = buildKeyring([
      { origin: secretOrigin("evil"), entries: keys.map((key) => ({ key, username: "u", password: "p" })) },
    ]);
    for (const image of ["docker.io/library/nginx", "a.io/x", "[::1]:5000/x", "", "%zz/x"]) {
      assert.doesNotThrow(() => lookupCredentials(keyring, image));
      const explained = explainLookup(keyring, image);
      assert.equal(explained.considered.length, keys.length);
    }
  });

  test("an unparsable key is skipped and reported, not a crash", () => {
    const keyring = singleKey("[");
    assert.equal(keyring.slots.length, 0);
    assert.equal(keyring.skipped.length, 1);
    assert.match(keyring.skipped[0]?.reason ?? "", /missing "\]"/);
  });

  test("maskUserinfo leaves keys without userinfo alone", () => {
    assert.equal(maskUserinfo("quay.io/team@x"), "quay.io/team@x");
    assert.equal(maskUserinfo("u:p@quay.io"), "***@quay.io");
    assert.equal(maskUserinfo("http://u:p@a@quay.io/x"), "http://***@quay.io/x");
  });
});
