// Proves the test harness itself against the real registry (Distribution 2.8.2), so other
// integration tests can trust what it sets up.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { type FaultProxy, startFaultProxy } from "../harness/fault-proxy.ts";
import { basicAuthorization, type HarnessResponse, harnessRequest } from "../harness/http.ts";
import { makeImage, TEST_IMAGE_KINDS, type TestImageKind } from "../harness/images.ts";
import { FULL_MANIFEST_ACCEPT, MEDIA_TYPES } from "../harness/media-types.ts";
import { startRegistry, type TestRegistry } from "../harness/registry.ts";
import {
  type CertPair,
  makeCa,
  makeExpiredServerCert,
  makeServerCert,
  makeWrongHostServerCert,
} from "../harness/tls.ts";

const CONTENT_TYPE_OF: Record<TestImageKind, string> = {
  "oci-manifest": MEDIA_TYPES.ociManifest,
  "oci-index": MEDIA_TYPES.ociIndex,
  "docker-schema2": MEDIA_TYPES.dockerManifest,
  "docker-list": MEDIA_TYPES.dockerList,
};

function manifestRequest(
  registry: { url: string; caPem: string | null },
  repository: string,
  reference: string,
  options: { method?: string; authorization?: string } = {},
): Promise<HarnessResponse> {
  return harnessRequest({
    url: `${registry.url}/v2/${repository}/manifests/${reference}`,
    method: options.method ?? "HEAD",
    caPem: registry.caPem,
    headers: {
      accept: FULL_MANIFEST_ACCEPT,
      ...(options.authorization === undefined ? {} : { authorization: options.authorization }),
    },
  });
}

async function assertPushedKind(registry: TestRegistry, kind: TestImageKind, authorization?: string) {
  const image = await makeImage(kind, { seed: `smoke-${kind}` });
  const repository = `smoke/${kind}`;
  const { digest } = await registry.push(image, `${repository}:v1`);
  assert.equal(digest, image.digest);

  const head = await manifestRequest(registry, repository, "v1", authorization ? { authorization } : {});
  assert.equal(head.status, 200);
  assert.equal(head.headers["content-type"], CONTENT_TYPE_OF[kind]);
  assert.equal(head.headers["docker-content-digest"], digest);

  const get = await manifestRequest(registry, repository, digest, {
    method: "GET",
    ...(authorization ? { authorization } : {}),
  });
  assert.equal(get.status, 200);
  assert.equal(`sha256:${createHash("sha256").update(get.body).digest("hex")}`, digest);
}

function jwtPayload(token: string): {
  sub: string;
  aud: unknown;
  access: { name: string; actions: string[] }[];
} {
  const payload = token.split(".")[1];
  assert.ok(payload, "token is a JWT");
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
}

describe("a plain HTTP registry (auth none)", () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startRegistry();
  });
  after(() => registry.stop());

  test("listens on 127.0.0.1 over plain HTTP with no CA and no token server", async () => {
    assert.match(registry.host, /^127\.0\.0\.1:\d+$/);
    assert.equal(registry.url, `http://${registry.host}`);
    assert.equal(registry.caPem, null);
    assert.equal(registry.caFile, null);
    assert.equal(registry.tokenServer, null);
    const ping = await harnessRequest({ url: `${registry.url}/v2/` });
    assert.equal(ping.status, 200);
  });

  for (const kind of TEST_IMAGE_KINDS) {
    test(`a pushed ${kind} image answers HEAD with its media type and digest`, () =>
      assertPushedKind(registry, kind));
  }

  test("an index lists each requested platform with the digest makeImage reported", async () => {
    const image = await makeImage("oci-index", {
      platforms: ["linux/amd64", "linux/arm/v7"],
      seed: "platforms",
    });
    const { digest } = await registry.push(image, "smoke/platforms:v1");
    const res = await manifestRequest(registry, "smoke/platforms", digest, { method: "GET" });
    const index = JSON.parse(res.body.toString("utf8")) as {
      manifests: { digest: string; platform: { os: string; architecture: string; variant?: string } }[];
    };
    const listed = index.manifests.map((m) => [
      [m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join("/"),
      m.digest,
    ]);
    assert.deepEqual(Object.fromEntries(listed), image.platformDigests);
    for (const child of Object.values(image.platformDigests)) {
      assert.equal((await manifestRequest(registry, "smoke/platforms", child)).status, 200);
    }
  });

  test("the same kind and seed give the same digest, another seed a different one", async () => {
    const first = await makeImage("docker-list", { seed: "same" });
    const second = await makeImage("docker-list", { seed: "same" });
    const other = await makeImage("docker-list", { seed: "other" });
    assert.equal(first.digest, second.digest);
    assert.notEqual(first.layoutDir, second.layoutDir);
    assert.notEqual(first.digest, other.digest);
  });

  test("deleteManifest makes the tag's HEAD answer 404", async () => {
    const image = await makeImage("oci-manifest", { seed: "delete-me" });
    const { digest } = await registry.push(image, "smoke/deleted:v1");
    assert.equal((await manifestRequest(registry, "smoke/deleted", "v1")).status, 200);
    await registry.deleteManifest("smoke/deleted", digest);
    assert.equal((await manifestRequest(registry, "smoke/deleted", "v1")).status, 404);
    assert.equal((await manifestRequest(registry, "smoke/deleted", digest)).status, 404);
  });

  test("a push by digest only leaves no tag behind", async () => {
    const image = await makeImage("oci-manifest", { seed: "by-digest" });
    const { digest } = await registry.push(image, `smoke/by-digest@${image.digest}`);
    assert.equal((await manifestRequest(registry, "smoke/by-digest", digest)).status, 200);
    assert.equal((await manifestRequest(registry, "smoke/by-digest", "latest")).status, 404);
  });
});

describe("an HTTPS registry without auth (tls: true)", () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startRegistry({ tls: true });
  });
  after(() => registry.stop());

  test("serves HTTPS with a certificate the reported CA verifies", async () => {
    assert.equal(registry.url, `https://${registry.host}`);
    assert.ok(registry.caPem?.includes("BEGIN CERTIFICATE"));
    assert.equal(await readFile(registry.caFile ?? "", "utf8"), registry.caPem);
    await assertPushedKind(registry, "oci-index");
  });

  test("refuses a client that does not trust the CA", async () => {
    await assert.rejects(harnessRequest({ url: `${registry.url}/v2/` }), /self-signed|unable to verify/i);
  });
});

describe("an htpasswd registry", () => {
  let registry: TestRegistry;
  const alice = basicAuthorization("alice", "alice-pw");
  before(async () => {
    registry = await startRegistry({ auth: "htpasswd", users: { alice: "alice-pw" } });
  });
  after(() => registry.stop());

  for (const kind of TEST_IMAGE_KINDS) {
    test(`a pushed ${kind} image is visible to a configured user`, () =>
      assertPushedKind(registry, kind, alice));
  }

  const cases: { name: string; authorization?: string; status: number }[] = [
    { name: "no credentials get 401 with a Basic challenge", status: 401 },
    { name: "a wrong password gets 401", authorization: basicAuthorization("alice", "nope"), status: 401 },
    {
      name: "an unknown user gets 401",
      authorization: basicAuthorization("mallory", "alice-pw"),
      status: 401,
    },
    { name: "the configured user gets 200", authorization: alice, status: 200 },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      await registry.push(await makeImage("oci-manifest", { seed: "basic" }), "team/app:v1");
      const res = await manifestRequest(
        registry,
        "team/app",
        "v1",
        c.authorization ? { authorization: c.authorization } : {},
      );
      assert.equal(res.status, c.status);
      if (c.status === 401) assert.match(res.headers["www-authenticate"] ?? "", /^Basic realm="/);
    });
  }
});

describe("a token registry", () => {
  let registry: TestRegistry;
  let digest: string;
  before(async () => {
    registry = await startRegistry({
      auth: "token",
      users: { alice: "alice-pw", bob: "bob-pw" },
      pullGrants: { alice: ["team/app"], "": ["public/app"] },
    });
    const image = await makeImage("oci-manifest", { seed: "token" });
    ({ digest } = await registry.push(image, "team/app:v1"));
    await registry.push(image, "public/app:v1");
  });
  after(() => registry.stop());

  function fetchToken(scope: string, authorization?: string): Promise<HarnessResponse> {
    const server = registry.tokenServer;
    assert.ok(server);
    const query = new URLSearchParams({ service: server.service, scope });
    return harnessRequest({
      url: `${server.url}/token?${query}`,
      caPem: registry.caPem,
      headers: authorization === undefined ? {} : { authorization },
    });
  }

  async function tokenFor(scope: string, authorization?: string): Promise<string> {
    const res = await fetchToken(scope, authorization);
    assert.equal(res.status, 200);
    const body = JSON.parse(res.body.toString("utf8")) as Record<string, unknown>;
    assert.equal(body.access_token, body.token);
    assert.equal(body.expires_in, 300);
    assert.equal(typeof body.issued_at, "string");
    return body.token as string;
  }

  test("answers 401 with a Bearer challenge naming the token server, service and scope", async () => {
    const res = await manifestRequest(registry, "team/app", "v1");
    assert.equal(res.status, 401);
    const server = registry.tokenServer;
    assert.ok(server);
    assert.equal(new URL(server.url).hostname, "127.0.0.1");
    assert.equal(
      res.headers["www-authenticate"],
      `Bearer realm="${server.url}/token",service="${server.service}",scope="repository:team/app:pull"`,
    );
  });

  for (const kind of TEST_IMAGE_KINDS) {
    test(`a pushed ${kind} image is visible to the granted user's token, and harness pushes fetch no tokens`, async () => {
      const before = registry.tokenServer?.requests;
      const image = await makeImage(kind, { seed: `grant-${kind}` });
      await registry.push(image, "team/app:kind");
      assert.equal(registry.tokenServer?.requests, before);
      const token = await tokenFor("repository:team/app:pull", basicAuthorization("alice", "alice-pw"));
      const res = await manifestRequest(registry, "team/app", "kind", { authorization: `Bearer ${token}` });
      assert.equal(res.status, 200);
      assert.equal(res.headers["content-type"], CONTENT_TYPE_OF[kind]);
      assert.equal(res.headers["docker-content-digest"], image.digest);
    });
  }

  test("a granted user's token makes the HEAD 200 and each token request is counted", async () => {
    const before = registry.tokenServer?.requests ?? -1;
    const token = await tokenFor("repository:team/app:pull", basicAuthorization("alice", "alice-pw"));
    assert.equal(registry.tokenServer?.requests, before + 1);
    assert.deepEqual(jwtPayload(token).access, [{ type: "repository", name: "team/app", actions: ["pull"] }]);
    const res = await manifestRequest(registry, "team/app", "v1", { authorization: `Bearer ${token}` });
    assert.equal(res.status, 200);
    assert.equal(res.headers["docker-content-digest"], digest);
  });

  const denied: { name: string; scope: string; authorization?: string }[] = [
    {
      name: "a user without grants",
      scope: "repository:team/app:pull",
      authorization: basicAuthorization("bob", "bob-pw"),
    },
    { name: "an anonymous client", scope: "repository:team/app:pull" },
    {
      name: "a granted user asking for a repository not granted",
      scope: "repository:team/other:pull",
      authorization: basicAuthorization("alice", "alice-pw"),
    },
  ];
  for (const c of denied) {
    test(`${c.name} gets a token with no actions, and the registry answers 401 insufficient_scope`, async () => {
      const token = await tokenFor(c.scope, c.authorization);
      const access = jwtPayload(token).access;
      assert.equal(access.length, 1);
      assert.deepEqual(access[0]?.actions, []);
      const repository = c.scope.split(":")[1] ?? "";
      const res = await manifestRequest(registry, repository, "v1", { authorization: `Bearer ${token}` });
      assert.equal(res.status, 401);
      assert.match(res.headers["www-authenticate"] ?? "", /^Bearer realm=".*",error="insufficient_scope"$/);
    });
  }

  test('anonymous pulls work where the grants allow them (key "")', async () => {
    const token = await tokenFor("repository:public/app:pull");
    assert.equal(jwtPayload(token).sub, "");
    const res = await manifestRequest(registry, "public/app", "v1", { authorization: `Bearer ${token}` });
    assert.equal(res.status, 200);
  });

  const rejected: { name: string; authorization: string }[] = [
    { name: "a wrong password", authorization: basicAuthorization("alice", "wrong") },
    { name: "an unknown user", authorization: basicAuthorization("mallory", "alice-pw") },
  ];
  for (const c of rejected) {
    test(`the token server answers 401 to ${c.name}`, async () => {
      const res = await fetchToken("repository:team/app:pull", c.authorization);
      assert.equal(res.status, 401);
    });
  }

  test("the token server answers the OAuth2 POST form with 404 unless asked to offer it", async () => {
    const server = registry.tokenServer;
    assert.ok(server);
    const res = await harnessRequest({
      url: `${server.url}/token`,
      method: "POST",
      caPem: registry.caPem,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=password&username=alice&password=alice-pw&client_id=x&service=s",
    });
    assert.equal(res.status, 404);
  });
});

describe("a token registry offering the OAuth2 POST form", () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startRegistry({
      auth: "token",
      users: { alice: "alice-pw" },
      pullGrants: { alice: ["team/app"] },
      oauth2Post: true,
    });
    await registry.push(await makeImage("docker-schema2"), "team/app:v1");
  });
  after(() => registry.stop());

  test("a password grant yields an access token the registry accepts", async () => {
    const server = registry.tokenServer;
    assert.ok(server);
    const form = new URLSearchParams({
      grant_type: "password",
      username: "alice",
      password: "alice-pw",
      client_id: "pullcheck-test",
      service: server.service,
      scope: "repository:team/app:pull",
    });
    const res = await harnessRequest({
      url: server.realm,
      method: "POST",
      caPem: registry.caPem,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
    assert.equal(res.status, 200);
    const token = (JSON.parse(res.body.toString("utf8")) as { access_token: string }).access_token;
    const head = await manifestRequest(registry, "team/app", "v1", { authorization: `Bearer ${token}` });
    assert.equal(head.status, 200);
    assert.equal(server.log.at(-1)?.method, "POST");
  });
});

describe("the fault proxy", () => {
  let registry: TestRegistry;
  let proxy: FaultProxy;
  let digest: string;
  const isManifest = (_method: string, path: string) => path.includes("/manifests/");
  before(async () => {
    registry = await startRegistry();
    ({ digest } = await registry.push(await makeImage("oci-index", { seed: "proxy" }), "team/app:v1"));
    proxy = await startFaultProxy({ url: registry.url });
  });
  after(async () => {
    await proxy.stop();
    await registry.stop();
  });

  test("forwards requests unchanged and logs each one", async () => {
    proxy.setFault(null);
    proxy.reset();
    const res = await manifestRequest({ url: proxy.url, caPem: null }, "team/app", "v1");
    assert.equal(res.status, 200);
    assert.equal(res.headers["docker-content-digest"], digest);
    assert.equal(res.headers["content-type"], MEDIA_TYPES.ociIndex);
    assert.deepEqual(proxy.requests, [
      { method: "HEAD", path: "/v2/team/app/manifests/v1", status: 200, fault: null },
    ]);
  });

  test("injects a 429 the given number of times, then forwards again", async () => {
    proxy.reset();
    proxy.setFault(
      { kind: "status", status: 429, headers: { "retry-after": "7" }, body: '{"errors":[]}', times: 1 },
      isManifest,
    );
    const ping = await harnessRequest({ url: `${proxy.url}/v2/` });
    const first = await manifestRequest({ url: proxy.url, caPem: null }, "team/app", "v1", { method: "GET" });
    const second = await manifestRequest({ url: proxy.url, caPem: null }, "team/app", "v1");
    proxy.setFault(null);
    assert.equal(ping.status, 200);
    assert.equal(first.status, 429);
    assert.equal(first.headers["retry-after"], "7");
    assert.equal(first.body.toString(), '{"errors":[]}');
    assert.equal(second.status, 200);
    assert.deepEqual(
      proxy.requests.map((r) => [r.status, r.fault]),
      [
        [200, null],
        [429, "status"],
        [200, null],
      ],
    );
    assert.equal(proxy.count(isManifest), 2);
  });

  test("delays a request by the given time", async () => {
    proxy.setFault({ kind: "delay", ms: 250 });
    const started = performance.now();
    const res = await harnessRequest({ url: `${proxy.url}/v2/` });
    proxy.setFault(null);
    assert.equal(res.status, 200);
    assert.ok(performance.now() - started >= 240, "answered before the delay elapsed");
  });

  test("a stalled request never gets an answer", async () => {
    proxy.reset();
    proxy.setFault({ kind: "stall" });
    await assert.rejects(harnessRequest({ url: `${proxy.url}/v2/`, timeoutMs: 300 }), /timed out/);
    proxy.setFault(null);
    assert.deepEqual(proxy.requests, [{ method: "GET", path: "/v2/", status: 0, fault: "stall" }]);
  });

  test("a reset fault destroys the connection, and `times` limits it like for status faults", async () => {
    proxy.setFault({ kind: "reset", times: 1 });
    await assert.rejects(harnessRequest({ url: `${proxy.url}/v2/` }), /socket hang up|ECONNRESET/);
    const retry = await harnessRequest({ url: `${proxy.url}/v2/` });
    proxy.setFault(null);
    assert.equal(retry.status, 200);
  });

  test("passes repeated WWW-Authenticate lines through as separate lines, in order", async () => {
    const challenges = ['Basic realm="first"', 'Bearer realm="https://127.0.0.1/token",service="second"'];
    const upstream = createHttpServer((_req, res) => {
      res.writeHead(401, [
        "WWW-Authenticate",
        challenges[0] as string,
        "WWW-Authenticate",
        challenges[1] as string,
        "Content-Length",
        "0",
      ]);
      res.end();
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const front = await startFaultProxy({
      url: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    });
    try {
      const res = await harnessRequest({ url: `${front.url}/v2/`, method: "HEAD" });
      assert.equal(res.status, 401);
      assert.deepEqual(res.headerLines.get("www-authenticate"), challenges);
    } finally {
      await front.stop();
      await new Promise((resolve) => upstream.close(resolve));
    }
  });

  test("fronts an HTTPS token registry, trusting its CA", async () => {
    const tokenRegistry = await startRegistry({ auth: "token" });
    const front = await startFaultProxy({ url: tokenRegistry.url, caPem: tokenRegistry.caPem });
    try {
      const res = await manifestRequest({ url: front.url, caPem: null }, "team/app", "v1");
      assert.equal(res.status, 401);
      assert.match(
        res.headers["www-authenticate"] ?? "",
        /^Bearer realm="https:\/\/127\.0\.0\.1:\d+\/token"/,
      );
    } finally {
      await front.stop();
      await tokenRegistry.stop();
    }
  });
});

describe("test certificates", () => {
  const ca = makeCa();
  const otherCa = makeCa({ commonName: "someone else's CA" });
  const cases: { name: string; cert: CertPair; error: RegExp | null }[] = [
    { name: "a cert for 127.0.0.1 signed by the CA is accepted", cert: makeServerCert(ca), error: null },
    { name: "an expired cert is refused", cert: makeExpiredServerCert(ca), error: /expired/i },
    {
      name: "a cert for another host is refused",
      cert: makeWrongHostServerCert(ca),
      error: /altnames|IP: 127\.0\.0\.1/i,
    },
    {
      name: "a cert from an untrusted CA is refused",
      cert: makeServerCert(otherCa),
      error: /unable to verify/i,
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const server = createHttpsServer({ cert: c.cert.certPem, key: c.cert.keyPem }, (_req, res) =>
        res.end("ok"),
      );
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      try {
        const attempt = harnessRequest({ url, caPem: ca.certPem });
        if (c.error === null) assert.equal((await attempt).status, 200);
        else await assert.rejects(attempt, c.error);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });
  }
});
