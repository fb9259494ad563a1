import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  baseMediaType,
  classifyManifestAnswer,
  classifyTagsProbe,
  classifyTokenStatus,
  classifyTransportError,
  errorCodes,
  isIndexMediaType,
  isSchema1MediaType,
  MAX_WAIT_WITHOUT_DEADLINE_MS,
  type ManifestAnswer,
  parseRetryAfter,
  pickMostInformative,
  registryErrorCodes,
  retryWait,
  stopsCredentialLoop,
  usableDigest,
} from "../../src/registry/classify.ts";
import { checkRealm, isInternalIp } from "../../src/registry/realm.ts";
import type { ResultCategory } from "../../src/results.ts";

function coded(code: string, cause?: unknown): Error {
  const e = new Error(`failure ${code}`, cause === undefined ? undefined : { cause });
  (e as Error & { code: string }).code = code;
  return e;
}

describe("classifyTransportError", () => {
  const cases: [name: string, error: unknown, result: ResultCategory, code: string][] = [
    ["connection refused", coded("ECONNREFUSED"), "registry-unreachable", "ECONNREFUSED"],
    ["DNS name not found", coded("ENOTFOUND"), "registry-unreachable", "ENOTFOUND"],
    ["DNS temporary failure", coded("EAI_AGAIN"), "registry-unreachable", "EAI_AGAIN"],
    ["connection reset", coded("ECONNRESET"), "registry-unreachable", "ECONNRESET"],
    [
      "undici connect timeout",
      coded("UND_ERR_CONNECT_TIMEOUT"),
      "registry-unreachable",
      "UND_ERR_CONNECT_TIMEOUT",
    ],
    [
      "undici headers timeout",
      coded("UND_ERR_HEADERS_TIMEOUT"),
      "registry-unreachable",
      "UND_ERR_HEADERS_TIMEOUT",
    ],
    ["undici body timeout", coded("UND_ERR_BODY_TIMEOUT"), "registry-unreachable", "UND_ERR_BODY_TIMEOUT"],
    ["undici socket closed", coded("UND_ERR_SOCKET"), "registry-unreachable", "UND_ERR_SOCKET"],
    ["unknown CA", coded("UNABLE_TO_VERIFY_LEAF_SIGNATURE"), "tls-error", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"],
    ["self-signed leaf", coded("DEPTH_ZERO_SELF_SIGNED_CERT"), "tls-error", "DEPTH_ZERO_SELF_SIGNED_CERT"],
    ["self-signed CA in chain", coded("SELF_SIGNED_CERT_IN_CHAIN"), "tls-error", "SELF_SIGNED_CERT_IN_CHAIN"],
    ["expired certificate", coded("CERT_HAS_EXPIRED"), "tls-error", "CERT_HAS_EXPIRED"],
    [
      "host name mismatch",
      coded("ERR_TLS_CERT_ALTNAME_INVALID"),
      "tls-error",
      "ERR_TLS_CERT_ALTNAME_INVALID",
    ],
    [
      "HTTPS to a plain HTTP server",
      coded("ERR_SSL_WRONG_VERSION_NUMBER"),
      "tls-error",
      "ERR_SSL_WRONG_VERSION_NUMBER",
    ],
    [
      "HTTPS to plain HTTP, OpenSSL 3 wording",
      coded("ERR_SSL_PACKET_LENGTH_TOO_LONG"),
      "tls-error",
      "ERR_SSL_PACKET_LENGTH_TOO_LONG",
    ],
    [
      "a TLS code deep in the cause chain",
      coded("UND_ERR_SOCKET", coded("X", coded("CERT_HAS_EXPIRED"))),
      "tls-error",
      "CERT_HAS_EXPIRED",
    ],
    [
      "an AggregateError from happy eyeballs",
      Object.assign(new AggregateError([coded("ECONNREFUSED"), coded("ECONNREFUSED")]), {}),
      "registry-unreachable",
      "ECONNREFUSED",
    ],
    ["an error without a code", new Error("weird"), "registry-unreachable", "UNKNOWN"],
    ["a thrown non-error", "string", "registry-unreachable", "UNKNOWN"],
  ];
  for (const [name, error, result, code] of cases) {
    test(`${name} → ${result}`, () => {
      const problem = classifyTransportError(error);
      assert.equal(problem.result, result);
      assert.equal(problem.code, code);
      assert.notEqual(problem.reason, "");
    });
  }

  test("classifies by code, not by message text", () => {
    const e = coded("ECONNREFUSED");
    e.message = "certificate has expired (but this is a refused connection)";
    assert.equal(classifyTransportError(e).result, "registry-unreachable");
  });

  test("errorCodes survives a cyclic cause chain", () => {
    const a = coded("A");
    const b = coded("B", a);
    (a as Error & { cause: unknown }).cause = b;
    assert.deepEqual(errorCodes(b), ["B", "A"]);
  });
});

describe("classifyManifestAnswer (the decision table)", () => {
  const base: ManifestAnswer = {
    status: 200,
    hasCredential: false,
    sent: "none",
    usableChallenge: false,
    body: "",
    method: "HEAD",
  };
  const cases: [name: string, answer: Partial<ManifestAnswer>, expected: string][] = [
    ["200 is found", { status: 200 }, "found"],
    ["404 needs the tags probe", { status: 404 }, "probe-tags"],
    [
      "401 after Basic credentials is credentials-rejected",
      { status: 401, sent: "basic", hasCredential: true },
      "credentials-rejected",
    ],
    [
      "401 after a fresh token with a credential is access-denied",
      { status: 401, sent: "bearer", hasCredential: true },
      "access-denied",
    ],
    [
      "401 after an anonymous token is not-found-or-unauthorized",
      { status: 401, sent: "bearer" },
      "not-found-or-unauthorized",
    ],
    [
      "401 with nothing to send is credentials-missing",
      { status: 401, usableChallenge: true },
      "credentials-missing",
    ],
    [
      "401 with an unknown scheme is registry-error",
      { status: 401, usableChallenge: false },
      "registry-error",
    ],
    [
      "403 with a credential is access-denied",
      { status: 403, hasCredential: true, sent: "bearer" },
      "access-denied",
    ],
    ["403 anonymous is not-found-or-unauthorized", { status: 403 }, "not-found-or-unauthorized"],
    ["429 after retries is rate-limited", { status: 429 }, "rate-limited"],
    ["408 after retries is registry-error", { status: 408 }, "registry-error"],
    ["500 after the retry is registry-error", { status: 500 }, "registry-error"],
    ["503 after the retry is registry-error", { status: 503 }, "registry-error"],
    ["400 on a HEAD asks for a GET to read the body", { status: 400, method: "HEAD" }, "retry-as-get"],
    [
      "Go's plain-HTTP-to-HTTPS answer is tls-error",
      { status: 400, method: "GET", body: "Client sent an HTTP request to an HTTPS server.\n" },
      "tls-error",
    ],
    ["another 400 on a GET is registry-error", { status: 400, method: "GET", body: "{}" }, "registry-error"],
    ["a 3xx left over is registry-error", { status: 304 }, "registry-error"],
  ];
  for (const [name, answer, expected] of cases) {
    test(name, () => {
      const decision = classifyManifestAnswer({ ...base, ...answer });
      assert.equal(decision.kind === "result" ? decision.result : decision.kind, expected);
    });
  }
});

describe("classifyTokenStatus", () => {
  const cases: [status: number, hasCredential: boolean, expected: ResultCategory][] = [
    [401, true, "credentials-rejected"],
    [403, true, "credentials-rejected"],
    [401, false, "credentials-missing"],
    [403, false, "credentials-missing"],
    [429, true, "rate-limited"],
    [404, true, "registry-error"],
    [500, false, "registry-error"],
  ];
  for (const [status, hasCredential, expected] of cases) {
    test(`token endpoint ${status} ${hasCredential ? "with" : "without"} a credential → ${expected}`, () => {
      assert.equal(classifyTokenStatus(status, hasCredential), expected);
    });
  }
});

describe("classifyTagsProbe", () => {
  const nameUnknown = JSON.stringify({
    errors: [{ code: "NAME_UNKNOWN", message: "repository name not known" }],
  });
  const cases: [name: string, status: number | null, body: string, expected: string][] = [
    ["200 means the repository exists", 200, '{"name":"team/app","tags":["v1"]}', "tag-not-found"],
    ["404 NAME_UNKNOWN means the repository is missing", 404, nameUnknown, "repository-not-found"],
    ["404 without a body means the repository is missing", 404, "", "repository-not-found"],
    [
      "404 with another code proves nothing",
      404,
      '{"errors":[{"code":"NOT_FOUND"}]}',
      "tag-not-found-unproven",
    ],
    ["404 with an HTML page proves nothing", 404, "<html>nope</html>", "tag-not-found-unproven"],
    ["401 on the tag list proves nothing", 401, "", "tag-not-found-unproven"],
    ["500 on the tag list proves nothing", 500, "", "tag-not-found-unproven"],
    ["a failed request proves nothing", null, "", "tag-not-found-unproven"],
  ];
  for (const [name, status, body, expected] of cases) {
    test(name, () => assert.equal(classifyTagsProbe(status, body), expected));
  }

  test("registryErrorCodes reads every code and tolerates garbage", () => {
    assert.deepEqual(registryErrorCodes('{"errors":[{"code":"A"},{"code":"B"},{"x":1},null]}'), ["A", "B"]);
    assert.deepEqual(registryErrorCodes("not json"), []);
    assert.deepEqual(registryErrorCodes('{"errors":"x"}'), []);
  });
});

describe("media types and digests", () => {
  test("baseMediaType strips parameters and lowercases", () => {
    assert.equal(
      baseMediaType("application/vnd.OCI.image.index.v1+json; charset=utf-8"),
      "application/vnd.oci.image.index.v1+json",
    );
    assert.equal(baseMediaType(undefined), null);
    assert.equal(baseMediaType(" "), null);
  });

  const kinds: [mediaType: string, index: boolean, schema1: boolean][] = [
    ["application/vnd.oci.image.index.v1+json", true, false],
    ["application/vnd.docker.distribution.manifest.list.v2+json", true, false],
    ["application/vnd.oci.image.manifest.v1+json", false, false],
    ["application/vnd.docker.distribution.manifest.v2+json", false, false],
    ["application/vnd.docker.distribution.manifest.v1+json", false, true],
    ["application/vnd.docker.distribution.manifest.v1+prettyjws", false, true],
  ];
  for (const [mediaType, index, schema1] of kinds) {
    test(`${mediaType}: index=${index} schema1=${schema1}`, () => {
      assert.equal(isIndexMediaType(mediaType), index);
      assert.equal(isSchema1MediaType(mediaType), schema1);
    });
  }

  test("usableDigest accepts algorithm:hex and refuses junk", () => {
    const d = `sha256:${"a".repeat(64)}`;
    assert.equal(usableDigest(` ${d} `), d);
    assert.equal(usableDigest("nonsense"), null);
    assert.equal(usableDigest(""), null);
    assert.equal(usableDigest(undefined), null);
  });
});

describe("retries", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  const retryAfter: [value: string | undefined, ms: number | null][] = [
    [undefined, null],
    ["3", 3000],
    [" 0 ", 0],
    ["Thu, 01 Jan 2026 00:00:10 GMT", 10_000],
    ["Wed, 31 Dec 2025 23:59:00 GMT", 0],
    ["-1", null],
    ["soon", null],
    ["1.5", null],
  ];
  for (const [value, ms] of retryAfter) {
    test(`Retry-After ${JSON.stringify(value)} → ${ms}`, () => assert.equal(parseRetryAfter(value, now), ms));
  }

  const waits: [
    name: string,
    budget: Parameters<typeof retryWait>[0],
    requested: number | null,
    expected: number | null,
  ][] = [
    [
      "waits as asked when it fits the deadline",
      { attempts: 0, maxAttempts: 2, remainingMs: 5000 },
      1000,
      1000,
    ],
    ["refuses a wait beyond the deadline", { attempts: 0, maxAttempts: 2, remainingMs: 5000 }, 60_000, null],
    [
      "refuses a wait that leaves no time for the request",
      { attempts: 0, maxAttempts: 2, remainingMs: 1100 },
      1000,
      null,
    ],
    ["refuses once the retries are used up", { attempts: 2, maxAttempts: 2, remainingMs: 5000 }, 0, null],
    [
      "uses the default wait when none was asked",
      { attempts: 1, maxAttempts: 2, remainingMs: 5000 },
      null,
      250,
    ],
    [
      "caps waits without a known deadline",
      { attempts: 0, maxAttempts: 2, remainingMs: null },
      MAX_WAIT_WITHOUT_DEADLINE_MS + 1,
      null,
    ],
    [
      "allows short waits without a known deadline",
      { attempts: 0, maxAttempts: 2, remainingMs: null },
      500,
      500,
    ],
  ];
  for (const [name, budget, requested, expected] of waits) {
    test(name, () => assert.equal(retryWait(budget, requested, 250), expected));
  }
});

describe("choosing among several credentials' failures", () => {
  const cases: [name: string, results: ResultCategory[], expected: ResultCategory][] = [
    [
      "a rejection beats a later transport error",
      ["credentials-rejected", "registry-unreachable"],
      "credentials-rejected",
    ],
    ["access-denied beats a later TLS error", ["access-denied", "tls-error"], "access-denied"],
    ["access-denied beats an earlier rejection", ["credentials-rejected", "access-denied"], "access-denied"],
    ["tag-not-found beats a rejection", ["credentials-rejected", "tag-not-found"], "tag-not-found"],
    ["rate-limited beats a registry error", ["registry-error", "rate-limited"], "rate-limited"],
  ];
  for (const [name, results, expected] of cases) {
    test(name, () =>
      assert.equal(pickMostInformative(results.map((result) => ({ result })))?.result, expected),
    );
  }

  test("ties go to the earlier credential", () => {
    const first = { result: "credentials-rejected" as const, n: 1 };
    const second = { result: "credentials-rejected" as const, n: 2 };
    assert.equal(pickMostInformative([first, second])?.n, 1);
  });

  test("no outcomes give null", () => assert.equal(pickMostInformative([]), null));

  test("only unreachable, TLS and platform failures stop trying further credentials", () => {
    assert.equal(stopsCredentialLoop("registry-unreachable"), true);
    assert.equal(stopsCredentialLoop("tls-error"), true);
    assert.equal(stopsCredentialLoop("platform-not-found"), true);
    assert.equal(stopsCredentialLoop("tag-not-found"), false);
    assert.equal(stopsCredentialLoop("rate-limited"), false);
    assert.equal(stopsCredentialLoop("credentials-rejected"), false);
    assert.equal(stopsCredentialLoop("access-denied"), false);
  });
});

describe("token realm safety", () => {
  const registry = new URL("https://registry.example.com");
  const cases: [
    name: string,
    realm: string,
    settings: { insecure: boolean; trusted: boolean },
    ok: boolean,
  ][] = [
    [
      "an https realm on another public host is fine",
      "https://auth.example.com/token",
      { insecure: false, trusted: false },
      true,
    ],
    [
      "an http realm is refused for an HTTPS registry",
      "http://auth.example.com/token",
      { insecure: false, trusted: false },
      false,
    ],
    [
      "an http realm is allowed for an insecure registry",
      "http://auth.example.com/token",
      { insecure: true, trusted: false },
      true,
    ],
    ["another scheme is refused", "ftp://auth.example.com/token", { insecure: true, trusted: false }, false],
    ["a loopback realm is refused", "https://127.0.0.1/token", { insecure: false, trusted: false }, false],
    ["an RFC 1918 realm is refused", "https://10.1.2.3/token", { insecure: false, trusted: false }, false],
    ["a 172.16/12 realm is refused", "https://172.20.0.1/token", { insecure: false, trusted: false }, false],
    [
      "a 192.168/16 realm is refused",
      "https://192.168.1.1/token",
      { insecure: false, trusted: false },
      false,
    ],
    [
      "a link-local (metadata) realm is refused",
      "https://169.254.169.254/latest",
      { insecure: false, trusted: false },
      false,
    ],
    ["an unspecified realm is refused", "https://0.0.0.0/token", { insecure: false, trusted: false }, false],
    ["an IPv6 loopback realm is refused", "https://[::1]/token", { insecure: false, trusted: false }, false],
    ["an IPv6 ULA realm is refused", "https://[fd00::1]/token", { insecure: false, trusted: false }, false],
    [
      "an IPv6 link-local realm is refused",
      "https://[fe80::1]/token",
      { insecure: false, trusted: false },
      false,
    ],
    [
      "an IPv4-mapped loopback realm is refused",
      "https://[::ffff:127.0.0.1]/token",
      { insecure: false, trusted: false },
      false,
    ],
    [
      "a decimal-encoded loopback realm is refused",
      "https://2130706433/token",
      { insecure: false, trusted: false },
      false,
    ],
    ["a public IP realm is fine", "https://8.8.8.8/token", { insecure: false, trusted: false }, true],
    [
      "a private realm is allowed for a trusted registry",
      "https://10.1.2.3/token",
      { insecure: false, trusted: true },
      true,
    ],
    [
      "a realm with user info is refused",
      "https://u:p@auth.example.com/token",
      { insecure: false, trusted: true },
      false,
    ],
    ["garbage is refused", "not a url", { insecure: false, trusted: true }, false],
  ];
  for (const [name, realm, settings, ok] of cases) {
    test(name, () => {
      const check = checkRealm(realm, registry, settings);
      assert.equal(check.ok, ok, check.ok ? "accepted" : check.reason);
    });
  }

  test("the same loopback host on another port is fine", () => {
    const check = checkRealm("https://127.0.0.1:9999/token", new URL("https://127.0.0.1:5000"), {
      insecure: false,
      trusted: false,
    });
    assert.equal(check.ok, true);
  });

  test("isInternalIp ignores host names", () => {
    assert.equal(isInternalIp("localhost"), false);
    assert.equal(isInternalIp("[::1]"), true);
  });
});
