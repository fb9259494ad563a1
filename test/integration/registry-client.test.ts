// The registry client against real Distribution 2.8.2 registries (plain HTTP, HTTPS, htpasswd,
// token auth), a fault-injecting proxy and small TLS servers with bad certificates.
import assert from "node:assert/strict";
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import type { MatchedCredential } from "../../src/credentials/types.ts";
import type { ImageReference } from "../../src/reference/types.ts";
import { createRegistryClient, type RegistryClient, TokenCache } from "../../src/registry/client.ts";
import { parsePlatform } from "../../src/registry/platform.ts";
import { credentialIdentity } from "../../src/registry/token-cache.ts";
import type {
  LookupOutcome,
  ManifestLookup,
  Platform,
  RegistrySettings,
  RequestObservation,
} from "../../src/registry/types.ts";
import { type FaultProxy, startFaultProxy } from "../harness/fault-proxy.ts";
import { makeImage, TEST_IMAGE_KINDS, type TestImage } from "../harness/images.ts";
import { startRegistry, type TestRegistry } from "../harness/registry.ts";
import { makeCa, makeExpiredServerCert, makeWrongHostServerCert } from "../harness/tls.ts";

const ALICE = { username: "alice", password: "alice-pass-Zq9v" };
const BOB = { username: "bob", password: "bob-pass-Xy7w" };
const WRONG = "definitely-wrong-pw-K3"; // wrong password for alice
const SECRETS = [ALICE.password, BOB.password, WRONG];

const PLAIN: RegistrySettings = { insecure: true, trusted: false };

let plain: TestRegistry;
let tlsRegistry: TestRegistry;
let basic: TestRegistry;
let token: TestRegistry;
let client: RegistryClient;
const observations: RequestObservation[] = [];
const images = new Map<string, TestImage>();

function ref(
  registry: string,
  repository: string,
  tag: string | null,
  digest: string | null = null,
): ImageReference {
  const original = `${registry}/${repository}${tag ? `:${tag}` : ""}${digest ? `@${digest}` : ""}`;
  return { original, registry, repository, tag, digest, name: `${registry}/${repository}` };
}

function cred(
  user: { username: string; password: string },
  match: string,
  secret = "team/regcred",
): MatchedCredential {
  return {
    username: user.username,
    password: user.password,
    origin: { source: "pod-secret", secret },
    match,
  };
}

function platforms(...names: string[]): Platform[] {
  return names.map((name) => {
    const parsed = parsePlatform(name);
    if ("error" in parsed) throw new Error(parsed.error);
    return parsed;
  });
}

function tlsSettings(registry: TestRegistry): RegistrySettings {
  return { insecure: false, trusted: false, caPem: registry.caPem ?? undefined };
}

/** Every message is checked for leaked secrets, and every lookup has a real deadline. */
async function lookup(
  req: Partial<Omit<ManifestLookup, "reference">> & { reference: ImageReference },
  options: { timeoutMs?: number; using?: RegistryClient } = {},
): Promise<LookupOutcome> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const outcome = await (options.using ?? client).lookup({
    credentials: [],
    platforms: [],
    settings: PLAIN,
    signal: AbortSignal.timeout(timeoutMs),
    deadline: Date.now() + timeoutMs,
    ...req,
  });
  assertNoSecrets(outcome);
  return outcome;
}

function assertNoSecrets(outcome: LookupOutcome): void {
  for (const secret of SECRETS) {
    assert.ok(!outcome.message.includes(secret), `message leaks a password: ${outcome.message}`);
  }
  assert.doesNotMatch(
    outcome.message,
    /Bearer [A-Za-z0-9._~+/-]{10,}|Basic [A-Za-z0-9+/=]{8,}|eyJ[A-Za-z0-9_-]{10,}/,
    "message leaks a token",
  );
}

function assertResult(outcome: LookupOutcome, result: LookupOutcome["result"]): void {
  assert.equal(outcome.result, result, `expected ${result}, got ${outcome.result}: ${outcome.message}`);
}

async function image(
  kind: (typeof TEST_IMAGE_KINDS)[number],
  seed: string,
  platformNames?: string[],
): Promise<TestImage> {
  const id = `${kind}/${seed}/${platformNames?.join(",") ?? ""}`;
  let made = images.get(id);
  if (made === undefined) {
    made = await makeImage(kind, { seed, ...(platformNames ? { platforms: platformNames } : {}) });
    images.set(id, made);
  }
  return made;
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createHttpServer();
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

before(async () => {
  [plain, tlsRegistry, basic, token] = await Promise.all([
    startRegistry({ auth: "none" }),
    startRegistry({ auth: "none", tls: true }),
    startRegistry({ auth: "htpasswd", users: { [ALICE.username]: ALICE.password } }),
    startRegistry({
      auth: "token",
      users: { [ALICE.username]: ALICE.password, [BOB.username]: BOB.password },
      pullGrants: {
        [ALICE.username]: ["team/app", "team/ghost", ...TEST_IMAGE_KINDS.map((k) => `kinds/${k}`)],
        "": ["public/app"],
      },
    }),
  ]);
  client = createRegistryClient({ observe: (o) => observations.push(o) });
  const app = await image("oci-manifest", "app");
  for (const registry of [plain, tlsRegistry, basic, token]) {
    await registry.push(app, "team/app:v1");
    for (const kind of TEST_IMAGE_KINDS) await registry.push(await image(kind, "kinds"), `kinds/${kind}:v1`);
  }
  await token.push(app, "public/app:v1");
});

after(async () => {
  await client?.close();
  await Promise.all([plain?.stop(), tlsRegistry?.stop(), basic?.stop(), token?.stop()]);
});

describe("ok for every image kind", () => {
  for (const kind of TEST_IMAGE_KINDS) {
    const flavours: [name: string, setup: () => Partial<ManifestLookup> & { reference: ImageReference }][] = [
      ["plain HTTP (insecure)", () => ({ reference: ref(plain.host, `kinds/${kind}`, "v1") })],
      [
        "HTTPS with the registry's CA",
        () => ({
          reference: ref(tlsRegistry.host, `kinds/${kind}`, "v1"),
          settings: tlsSettings(tlsRegistry),
        }),
      ],
      [
        "htpasswd with a credential",
        () => ({
          reference: ref(basic.host, `kinds/${kind}`, "v1"),
          settings: tlsSettings(basic),
          credentials: [cred(ALICE, basic.host)],
        }),
      ],
      [
        "token auth with a granted credential",
        () => ({
          reference: ref(token.host, `kinds/${kind}`, "v1"),
          settings: tlsSettings(token),
          credentials: [cred(ALICE, token.host)],
        }),
      ],
    ];
    for (const [name, setup] of flavours) {
      test(`${kind} over ${name} is ok with the pushed digest and media type`, async () => {
        const expected = await image(kind, "kinds");
        const req = setup();
        const outcome = await lookup(req);
        assertResult(outcome, "ok");
        assert.equal(outcome.resolvedDigest, expected.digest);
        assert.equal(outcome.mediaType, expected.mediaType);
        assert.equal(outcome.credential, req.credentials?.[0] ?? null);
        assert.equal(outcome.missingPlatforms, undefined);
      });
    }
  }

  test("a digest reference is ok and resolves to that digest", async () => {
    const app = await image("oci-manifest", "app");
    const outcome = await lookup({ reference: ref(plain.host, "team/app", null, app.digest) });
    assertResult(outcome, "ok");
    assert.equal(outcome.resolvedDigest, app.digest);
  });

  test("an anonymous pull of an anonymously granted repository on a token registry is ok", async () => {
    const outcome = await lookup({
      reference: ref(token.host, "public/app", "v1"),
      settings: tlsSettings(token),
    });
    assertResult(outcome, "ok");
    assert.equal(outcome.credential, null);
  });
});

describe("missing tags and repositories", () => {
  test("a missing tag is tag-not-found with a message naming tag and repository", async () => {
    const outcome = await lookup({ reference: ref(plain.host, "team/app", "v9") });
    assertResult(outcome, "tag-not-found");
    assert.equal(
      outcome.message,
      `tag "v9" does not exist in ${plain.host}/team/app; push it or fix the tag`,
    );
  });

  test("a missing digest is tag-not-found and says digest", async () => {
    const digest = `sha256:${"0".repeat(64)}`;
    const outcome = await lookup({ reference: ref(plain.host, "team/app", null, digest) });
    assertResult(outcome, "tag-not-found");
    assert.match(outcome.message, new RegExp(`^digest ${digest} does not exist`));
  });

  test("a missing repository is repository-not-found", async () => {
    const outcome = await lookup({ reference: ref(plain.host, "team/nope", "v1") });
    assertResult(outcome, "repository-not-found");
    assert.match(outcome.message, new RegExp(`repository ${plain.host}/team/nope does not exist`));
  });

  test("a tag whose manifest was deleted is tag-not-found", async () => {
    const gone = await image("oci-manifest", "deleted-later");
    const { digest } = await plain.push(gone, "team/deleted:v1");
    await plain.deleteManifest("team/deleted", digest);
    const outcome = await lookup({ reference: ref(plain.host, "team/deleted", "v1") });
    assertResult(outcome, "tag-not-found");
  });

  test("the tags probe carries Basic credentials: a missing repository on htpasswd is repository-not-found", async () => {
    const outcome = await lookup({
      reference: ref(basic.host, "team/nope", "v1"),
      settings: tlsSettings(basic),
      credentials: [cred(ALICE, basic.host)],
    });
    assertResult(outcome, "repository-not-found");
  });

  test("the tags probe carries the token: a granted but empty repository is repository-not-found", async () => {
    const outcome = await lookup({
      reference: ref(token.host, "team/ghost", "v1"),
      settings: tlsSettings(token),
      credentials: [cred(ALICE, token.host)],
    });
    assertResult(outcome, "repository-not-found");
  });

  test("a missing tag on a token registry is tag-not-found", async () => {
    const outcome = await lookup({
      reference: ref(token.host, "team/app", "v9"),
      settings: tlsSettings(token),
      credentials: [cred(ALICE, token.host)],
    });
    assertResult(outcome, "tag-not-found");
  });
});

describe("authentication", () => {
  test("htpasswd without credentials is credentials-missing", async () => {
    const outcome = await lookup({
      reference: ref(basic.host, "team/app", "v1"),
      settings: tlsSettings(basic),
    });
    assertResult(outcome, "credentials-missing");
    assert.match(outcome.message, new RegExp(`add an imagePullSecret with credentials for ${basic.host}`));
  });

  test("htpasswd with a wrong password is credentials-rejected and names the secret", async () => {
    const outcome = await lookup({
      reference: ref(basic.host, "team/app", "v1"),
      settings: tlsSettings(basic),
      credentials: [cred({ username: ALICE.username, password: WRONG }, basic.host, "team/stale")],
    });
    assertResult(outcome, "credentials-rejected");
    assert.match(outcome.message, /pod-secret team\/stale/);
    assert.doesNotMatch(outcome.message, /alice/);
  });

  test("a token server refusing the password is credentials-rejected", async () => {
    const before = token.tokenServer?.requests ?? 0;
    const outcome = await lookup({
      reference: ref(token.host, "team/app", "v1"),
      settings: tlsSettings(token),
      credentials: [cred({ username: ALICE.username, password: WRONG }, token.host)],
    });
    assertResult(outcome, "credentials-rejected");
    assert.match(outcome.message, /token service/);
    assert.ok((token.tokenServer?.requests ?? 0) > before, "the token server was asked");
  });

  test("a valid user without the grant is access-denied", async () => {
    const outcome = await lookup({
      reference: ref(token.host, "team/app", "v1"),
      settings: tlsSettings(token),
      credentials: [cred(BOB, token.host, "team/bob")],
    });
    assertResult(outcome, "access-denied");
    assert.equal(outcome.credential?.origin.secret, "team/bob");
  });

  test("anonymous on an ungranted repository is not-found-or-unauthorized", async () => {
    const outcome = await lookup({
      reference: ref(token.host, "team/app", "v1"),
      settings: tlsSettings(token),
    });
    assertResult(outcome, "not-found-or-unauthorized");
  });

  test("credentials are tried in order and the first that works wins", async () => {
    const stale = cred({ username: ALICE.username, password: WRONG }, token.host, "team/stale");
    const good = cred(ALICE, token.host, "team/good");
    const outcome = await lookup({
      reference: ref(token.host, "team/app", "v1"),
      settings: tlsSettings(token),
      credentials: [stale, good],
    });
    assertResult(outcome, "ok");
    assert.equal(outcome.credential, good);
  });

  test("when every credential fails the most informative failure is reported", async () => {
    const stale = cred({ username: ALICE.username, password: WRONG }, token.host, "team/stale");
    const bob = cred(BOB, token.host, "team/bob");
    const outcome = await lookup({
      reference: ref(token.host, "team/app", "v1"),
      settings: tlsSettings(token),
      credentials: [stale, bob],
    });
    assertResult(outcome, "access-denied");
    assert.equal(outcome.credential, bob);
  });

  test("no anonymous attempt is made when a credential was given", async () => {
    const log = token.tokenServer?.log ?? [];
    const start = log.length;
    await lookup({
      reference: ref(token.host, "public/app", "v1"),
      settings: tlsSettings(token),
      credentials: [cred({ username: ALICE.username, password: WRONG }, token.host)],
    });
    const usernames = log.slice(start).map((r) => r.username);
    assert.ok(usernames.length > 0);
    assert.ok(!usernames.includes(null), `anonymous token request seen: ${JSON.stringify(usernames)}`);
  });

  test("a cached token the registry refuses is replaced by a fresh one (invalid_token)", async () => {
    const cache = new TokenCache();
    const own = createRegistryClient({ tokenCache: cache });
    try {
      const alice = cred(ALICE, token.host);
      const req = {
        reference: ref(token.host, "team/app", "v1"),
        settings: tlsSettings(token),
        credentials: [alice],
      };
      assertResult(await lookup(req, { using: own }), "ok");
      const server = token.tokenServer;
      assert.ok(server);
      const key = {
        realm: server.realm,
        service: server.service,
        scope: "repository:team/app:pull",
        identity: credentialIdentity(alice),
      };
      assert.notEqual(cache.get(key), undefined, "the first lookup cached its token under the expected key");
      cache.set(key, "revoked-token-value", { expiresInSeconds: 300 });
      const before = server.requests;
      assertResult(await lookup(req, { using: own }), "ok");
      assert.equal(server.requests, before + 1);
      assert.notEqual(cache.get(key), "revoked-token-value");
    } finally {
      await own.close();
    }
  });

  test("the token request asks for the repository's pull scope and the registry's service", async () => {
    const log = token.tokenServer?.log ?? [];
    const start = log.length;
    await lookup({
      reference: ref(token.host, "team/app", "v1"),
      settings: tlsSettings(token),
      credentials: [cred(BOB, token.host)],
    });
    const asked = log.slice(start);
    assert.ok(asked.length >= 1);
    for (const entry of asked) {
      assert.equal(entry.method, "GET");
      assert.equal(entry.username, BOB.username);
      assert.deepEqual(entry.scopes, ["repository:team/app:pull"]);
    }
  });

  test("a second lookup reuses the cached token: no token request, one manifest request", async () => {
    const seen: RequestObservation[] = [];
    const own = createRegistryClient({ tokenCache: new TokenCache(), observe: (o) => seen.push(o) });
    try {
      const req = {
        reference: ref(token.host, "team/app", "v1"),
        settings: tlsSettings(token),
        credentials: [cred(ALICE, token.host)],
      };
      assertResult(await lookup(req, { using: own }), "ok");
      const tokensAfterFirst = token.tokenServer?.requests ?? 0;
      seen.length = 0;
      assertResult(await lookup(req, { using: own }), "ok");
      assert.equal(token.tokenServer?.requests, tokensAfterFirst);
      assert.deepEqual(
        seen.map((o) => [o.kind, o.method, o.status]),
        [["manifest", "HEAD", 200]],
      );
    } finally {
      await own.close();
    }
  });
});

describe("platforms", () => {
  for (const kind of ["oci-index", "docker-list"] as const) {
    test(`a ${kind} for amd64+arm64 lacks linux/s390x: platform-not-found`, async () => {
      const outcome = await lookup({
        reference: ref(plain.host, `kinds/${kind}`, "v1"),
        platforms: platforms("linux/s390x"),
      });
      assertResult(outcome, "platform-not-found");
      assert.deepEqual(outcome.missingPlatforms, ["linux/s390x"]);
      assert.match(outcome.message, /linux\/s390x.*linux\/amd64, linux\/arm64/);
      assert.equal(outcome.resolvedDigest, (await image(kind, "kinds")).digest);
    });

    test(`a ${kind} that lacks only some platforms is ok with missingPlatforms`, async () => {
      const outcome = await lookup({
        reference: ref(plain.host, `kinds/${kind}`, "v1"),
        platforms: platforms("linux/amd64", "linux/s390x"),
      });
      assertResult(outcome, "ok");
      assert.deepEqual(outcome.missingPlatforms, ["linux/s390x"]);
      assert.match(outcome.message, /linux\/s390x/);
    });

    test(`a ${kind} with every required platform is ok without missingPlatforms`, async () => {
      const outcome = await lookup({
        reference: ref(plain.host, `kinds/${kind}`, "v1"),
        platforms: platforms("linux/amd64", "linux/arm64/v8"),
      });
      assertResult(outcome, "ok");
      assert.equal(outcome.missingPlatforms, undefined);
    });
  }

  test("the index is fetched with the same token on a token registry", async () => {
    const outcome = await lookup({
      reference: ref(token.host, "kinds/oci-index", "v1"),
      settings: tlsSettings(token),
      credentials: [cred(ALICE, token.host)],
      platforms: platforms("linux/s390x"),
    });
    assertResult(outcome, "platform-not-found");
  });

  test("a single-platform manifest is not platform-checked (containerd does not either)", async () => {
    const outcome = await lookup({
      reference: ref(plain.host, "kinds/oci-manifest", "v1"),
      platforms: platforms("linux/s390x"),
    });
    assertResult(outcome, "ok");
    assert.equal(outcome.missingPlatforms, undefined);
  });
});

describe("faults through a proxy", () => {
  let proxy: FaultProxy;
  const manifestHead = (method: string, path: string) => method === "HEAD" && path.includes("/manifests/");
  const app = () => ref(proxy.host, "team/app", "v1");

  before(async () => {
    proxy = await startFaultProxy({ url: plain.url });
  });
  after(async () => {
    await proxy?.stop();
  });

  test("500 twice is registry-error after one retry", async () => {
    proxy.reset();
    proxy.setFault({ kind: "status", status: 500, body: "boom" }, manifestHead);
    const outcome = await lookup({ reference: app() });
    assertResult(outcome, "registry-error");
    assert.match(outcome.message, /HTTP 500/);
    assert.equal(proxy.count(manifestHead), 2);
  });

  test("one 500 is retried and the lookup is ok", async () => {
    proxy.reset();
    proxy.setFault({ kind: "status", status: 503, times: 1 }, manifestHead);
    assertResult(await lookup({ reference: app() }), "ok");
  });

  test("429 with a Retry-After beyond the deadline is rate-limited at once", async () => {
    proxy.reset();
    proxy.setFault({ kind: "status", status: 429, headers: { "retry-after": "3600" } }, manifestHead);
    const started = Date.now();
    const outcome = await lookup({ reference: app() }, { timeoutMs: 5000 });
    assertResult(outcome, "rate-limited");
    assert.ok(Date.now() - started < 2000, "did not wait for Retry-After");
    assert.equal(proxy.count(manifestHead), 1);
  });

  test("429 with a short Retry-After is retried up to twice", async () => {
    proxy.reset();
    proxy.setFault({ kind: "status", status: 429, headers: { "retry-after": "0" }, times: 2 }, manifestHead);
    assertResult(await lookup({ reference: app() }), "ok");
    assert.equal(proxy.count(manifestHead), 3);
  });

  test("429 three times is rate-limited", async () => {
    proxy.reset();
    proxy.setFault({ kind: "status", status: 429, headers: { "retry-after": "0" } }, manifestHead);
    assertResult(await lookup({ reference: app() }), "rate-limited");
    assert.equal(proxy.count(manifestHead), 3);
  });

  test("405 on HEAD is retried as GET", async () => {
    proxy.reset();
    proxy.setFault({ kind: "status", status: 405 }, manifestHead);
    const outcome = await lookup({ reference: app() });
    assertResult(outcome, "ok");
    assert.equal(outcome.resolvedDigest, (await image("oci-manifest", "app")).digest);
  });

  test("a 200 without Docker-Content-Digest is settled by hashing the GET body", async () => {
    proxy.reset();
    proxy.setFault(
      {
        kind: "status",
        status: 200,
        headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
      },
      manifestHead,
    );
    const outcome = await lookup({ reference: app() });
    assertResult(outcome, "ok");
    assert.equal(outcome.resolvedDigest, (await image("oci-manifest", "app")).digest);
  });

  test("a schema 1 manifest is registry-error explaining containerd 2.x refuses it", async () => {
    proxy.reset();
    proxy.setFault(
      {
        kind: "status",
        status: 200,
        headers: {
          "content-type": "application/vnd.docker.distribution.manifest.v1+prettyjws",
          "docker-content-digest": `sha256:${"1".repeat(64)}`,
        },
      },
      manifestHead,
    );
    const outcome = await lookup({ reference: app() });
    assertResult(outcome, "registry-error");
    assert.match(outcome.message, /schema 1.*containerd 2\.x.*re-push/);
  });

  test("a stalled registry is registry-unreachable promptly after the deadline fires", async () => {
    proxy.reset();
    proxy.setFault({ kind: "stall" }, manifestHead);
    const started = Date.now();
    const outcome = await lookup({ reference: app() }, { timeoutMs: 400 });
    const elapsed = Date.now() - started;
    assertResult(outcome, "registry-unreachable");
    assert.match(outcome.message, /deadline/);
    assert.ok(elapsed >= 350 && elapsed < 1400, `returned after ${elapsed} ms`);
  });

  test("a reset connection is registry-unreachable", async () => {
    proxy.reset();
    proxy.setFault({ kind: "reset" }, manifestHead);
    assertResult(await lookup({ reference: app() }), "registry-unreachable");
  });

  test("redirects are followed", async () => {
    proxy.reset();
    proxy.setFault(
      {
        kind: "status",
        status: 307,
        headers: { location: `${plain.url}/v2/team/app/manifests/v1` },
        times: 1,
      },
      manifestHead,
    );
    assertResult(await lookup({ reference: app() }), "ok");
  });

  test("a redirect loop is registry-error", async () => {
    proxy.reset();
    proxy.setFault(
      { kind: "status", status: 302, headers: { location: "/v2/team/app/manifests/v1" } },
      manifestHead,
    );
    const outcome = await lookup({ reference: app() });
    assertResult(outcome, "registry-error");
    assert.match(outcome.message, /redirected more than 5 times/);
    assert.equal(proxy.count(manifestHead), 6);
  });

  test("a token realm on a private address of another host is refused without contacting it", async () => {
    proxy.reset();
    proxy.setFault(
      {
        kind: "status",
        status: 401,
        headers: { "www-authenticate": 'Bearer realm="https://10.255.255.1/token",service="x"' },
      },
      manifestHead,
    );
    const outcome = await lookup({ reference: app() });
    assertResult(outcome, "registry-error");
    assert.match(outcome.message, /internal address 10\.255\.255\.1/);
  });

  test("an unsupported auth scheme is registry-error naming it", async () => {
    proxy.reset();
    proxy.setFault(
      { kind: "status", status: 401, headers: { "www-authenticate": "Negotiate" } },
      manifestHead,
    );
    const outcome = await lookup({ reference: app() });
    assertResult(outcome, "registry-error");
    assert.match(outcome.message, /negotiate/);
  });

  test("observations report each request with its kind and status", async () => {
    proxy.reset();
    proxy.setFault(null);
    observations.length = 0;
    await lookup({ reference: ref(proxy.host, "team/app", "v9") });
    assert.deepEqual(
      observations.map((o) => [o.registry, o.kind, o.method, o.status]),
      [
        [proxy.host, "manifest", "HEAD", 404],
        [proxy.host, "tags", "GET", 200],
      ],
    );
    assert.ok(observations.every((o) => o.seconds >= 0 && o.seconds < 5));
  });
});

describe("Authorization never crosses to another host:port on a redirect", () => {
  let proxy: FaultProxy;
  let recorder: Server;
  let recorderHost: string;
  const received: IncomingHttpHeaders[] = [];

  before(async () => {
    proxy = await startFaultProxy({ url: basic.url, caPem: basic.caPem });
    recorder = createHttpServer((req, res) => {
      received.push(req.headers);
      res.writeHead(200, {
        "content-type": "application/vnd.oci.image.manifest.v1+json",
        "docker-content-digest": `sha256:${"2".repeat(64)}`,
        "content-length": "0",
      });
      res.end();
    });
    recorderHost = await listen(recorder);
  });
  after(async () => {
    await proxy?.stop();
    if (recorder) await close(recorder);
  });

  test("Basic credentials sent to the registry are not sent to the redirect target", async () => {
    const req = {
      reference: ref(proxy.host, "team/app", "v1"),
      credentials: [cred(ALICE, proxy.host)],
      settings: { ...PLAIN, caPem: basic.caPem ?? undefined },
    };
    // The first lookup learns the Basic challenge, so the second sends credentials up front.
    assertResult(await lookup(req), "ok");
    proxy.setFault(
      {
        kind: "status",
        status: 307,
        headers: { location: `http://${recorderHost}/v2/team/app/manifests/v1` },
      },
      (method, path) => method === "HEAD" && path.includes("/manifests/"),
    );
    const outcome = await lookup(req);
    assertResult(outcome, "ok");
    assert.equal(outcome.resolvedDigest, `sha256:${"2".repeat(64)}`);
    assert.equal(received.length, 1);
    assert.equal(received[0]?.authorization, undefined);
  });
});

describe("challenge selection", () => {
  test("Bearer is preferred over Basic when a registry sends both header lines", async () => {
    const tokenPort = await closedPort();
    const authorizations: (string | undefined)[] = [];
    const server = createHttpServer((req, res) => {
      authorizations.push(req.headers.authorization);
      res.setHeader("www-authenticate", [
        'Basic realm="basic"',
        `Bearer realm="https://127.0.0.1:${tokenPort}/token",service="svc"`,
      ]);
      res.writeHead(401, { "content-length": "0" });
      res.end();
    });
    const host = await listen(server);
    try {
      const outcome = await lookup({
        reference: ref(host, "team/app", "v1"),
        credentials: [cred(ALICE, host)],
      });
      // Bearer chosen: the token service (a closed port) is what could not be reached.
      assertResult(outcome, "registry-unreachable");
      assert.match(outcome.message, new RegExp(`could not reach 127\\.0\\.0\\.1:${tokenPort}`));
      assert.deepEqual(authorizations, [undefined]);
    } finally {
      await close(server);
    }
  });
});

describe("transport and TLS failures", () => {
  test("a closed port is registry-unreachable (connection refused)", async () => {
    const host = `127.0.0.1:${await closedPort()}`;
    const outcome = await lookup({ reference: ref(host, "team/app", "v1") });
    assertResult(outcome, "registry-unreachable");
    assert.match(outcome.message, /ECONNREFUSED/);
  });

  test("an unresolvable host name is registry-unreachable", async () => {
    const outcome = await lookup({ reference: ref("registry.invalid", "team/app", "v1") });
    assertResult(outcome, "registry-unreachable");
  });

  test("a signal that already fired ends the lookup as registry-unreachable without a request", async () => {
    observations.length = 0;
    const outcome = await client.lookup({
      reference: ref(plain.host, "team/app", "v1"),
      credentials: [],
      platforms: [],
      settings: PLAIN,
      signal: AbortSignal.abort(),
    });
    assertResult(outcome, "registry-unreachable");
    assert.equal(observations.length, 0);
  });

  test("an HTTPS registry signed by an unknown CA is tls-error", async () => {
    const outcome = await lookup({
      reference: ref(tlsRegistry.host, "team/app", "v1"),
      settings: { insecure: false, trusted: false },
    });
    assertResult(outcome, "tls-error");
    assert.match(outcome.message, /unknown authority|self-signed|caFile/);
  });

  test("HTTPS to a plain HTTP registry is tls-error", async () => {
    const outcome = await lookup({
      reference: ref(plain.host, "team/app", "v1"),
      settings: { insecure: false, trusted: false },
    });
    assertResult(outcome, "tls-error");
    assert.match(outcome.message, /plain HTTP/);
  });

  test("plain HTTP to an HTTPS registry is tls-error", async () => {
    const outcome = await lookup({ reference: ref(tlsRegistry.host, "team/app", "v1"), settings: PLAIN });
    assertResult(outcome, "tls-error");
    assert.match(outcome.message, /expects HTTPS/);
  });

  describe("bad certificates", () => {
    const ca = makeCa({ commonName: "registry-client test CA" });
    const servers: Server[] = [];
    after(async () => {
      for (const server of servers) await close(server);
    });

    const cases: [name: string, make: typeof makeExpiredServerCert, code: RegExp][] = [
      ["an expired certificate", makeExpiredServerCert, /CERT_HAS_EXPIRED/],
      ["a certificate for another host", makeWrongHostServerCert, /ERR_TLS_CERT_ALTNAME_INVALID/],
    ];
    test("an unreadable caFile PEM is tls-error", async () => {
      const outcome = await lookup({
        reference: ref(tlsRegistry.host, "team/app", "v1"),
        settings: {
          insecure: false,
          trusted: false,
          caPem: "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
        },
      });
      assertResult(outcome, "tls-error");
    });

    for (const [name, make, code] of cases) {
      test(`${name} is tls-error`, async () => {
        const pair = make(ca);
        const server = createHttpsServer({ cert: pair.certPem, key: pair.keyPem }, (_req, res) => res.end());
        servers.push(server);
        const host = await listen(server);
        const outcome = await lookup({
          reference: ref(host, "team/app", "v1"),
          settings: { insecure: false, trusted: false, caPem: ca.certPem },
        });
        assertResult(outcome, "tls-error");
        assert.match(outcome.message, code);
      });
    }
  });
});
