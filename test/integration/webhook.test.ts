// The webhook app (fastify inject) wired to the real engine, the real registry client and
// real Distribution registries. Pull secrets come from an in-process stand-in for the two
// API reads (Secret, ServiceAccount); test/e2e runs the same stories through a real API
// server and kubectl.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import pino from "pino";
import type { Mode } from "../../src/admission/verdict.ts";
import { memoryAuditSink } from "../../src/audit.ts";
import { engineFromConfig } from "../../src/check/from-config.ts";
import { type Config, validateConfig } from "../../src/config/schema.ts";
import type { KubeReader, SecretLike } from "../../src/credentials/kube.ts";
import { createRegistryClient } from "../../src/registry/client.ts";
import { Metrics } from "../../src/server/metrics.ts";
import { buildWebhookApp } from "../../src/server/webhook-app.ts";
import { type FaultProxy, startFaultProxy } from "../harness/fault-proxy.ts";
import { makeImage } from "../harness/images.ts";
import { startRegistry, type TestRegistry } from "../harness/registry.ts";
import { deployment, pod, pullSecretData, review } from "../support/reviews.ts";

const ALICE = { username: "alice", password: "alice-Secret-9f3" };

let plain: TestRegistry;
let token: TestRegistry;
let proxy: FaultProxy;

/** The stand-in API: secrets and service accounts by "ns/name"; counts reads. */
function fakeKube(secrets: Record<string, SecretLike>, accounts: Record<string, string[]>) {
  const reads: string[] = [];
  const reader: KubeReader = {
    async secret(ns, name) {
      reads.push(`secret/${ns}/${name}`);
      return secrets[`${ns}/${name}`] ?? null;
    },
    async serviceAccount(ns, name) {
      reads.push(`sa/${ns}/${name}`);
      const list = accounts[`${ns}/${name}`];
      return list ? { imagePullSecrets: list } : null;
    },
  };
  return { reader, reads };
}

function config(overrides: Record<string, unknown> = {}): Config {
  const result = validateConfig({
    registries: { [plain.host]: { insecure: true }, [proxy.host]: { insecure: true } },
    ...overrides,
  });
  if (!result.ok) throw new Error(result.problems.join("; "));
  return result.config;
}

function webhook(cfg: Config, kube = fakeKube({}, {}).reader) {
  const logLines: string[] = [];
  const logger = pino(
    { level: "debug" },
    new Writable({
      write(chunk, _enc, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  );
  const metrics = new Metrics({ processMetrics: false });
  const client = createRegistryClient({ observe: metrics.observeRequest });
  const caPems = new Map(token.caPem ? [[token.host, token.caPem]] : []);
  const engine = engineFromConfig(
    {
      ...cfg,
      registries: {
        ...cfg.registries,
        [token.host]: { insecure: false, nodeCredentials: false, skip: false },
      },
    },
    client,
    caPems,
    metrics.engine,
  );
  const audit = memoryAuditSink();
  const app = buildWebhookApp({ config: cfg, engine, kube, audit, metrics, ready: () => true, logger });
  const send = async (body: unknown, mode: Mode | null = null) => {
    const response = await app.inject({
      method: "POST",
      url: mode ? `/validate/${mode}` : "/validate",
      payload: body as object,
    });
    return { status: response.statusCode, json: response.json() };
  };
  return { app, send, audit, metrics, logLines, close: () => Promise.all([app.close(), client.close()]) };
}

before(async () => {
  plain = await startRegistry();
  token = await startRegistry({
    auth: "token",
    users: { alice: ALICE.password },
    pullGrants: { alice: ["team/private"] },
  });
  proxy = await startFaultProxy({ url: plain.url });
  const image = await makeImage("oci-index");
  await plain.push(image, "team/app:v1");
  await plain.push(await makeImage("oci-manifest", { seed: "scale" }), "team/scaled:v1");
  await token.push(image, "team/private:v1");
});

after(async () => {
  await proxy?.stop();
  await plain?.stop();
  await token?.stop();
});

describe("admission decisions against a real registry", () => {
  test("enforce: a missing tag is denied with one line naming container, image, result and fix", async () => {
    const hook = webhook(config());
    const body = review(
      "Deployment",
      deployment("web", { images: [`${plain.host}/team/app:v1`, `${plain.host}/team/app:nope`] }),
    );
    const { status, json } = await hook.send(body);
    assert.equal(status, 200);
    assert.equal(json.response.uid, body.request.uid);
    assert.equal(json.response.allowed, false);
    assert.equal(json.response.status.code, 403);
    assert.equal(json.response.status.reason, "Forbidden");
    const lines: string[] = json.response.status.message.split("\n");
    assert.equal(lines.length, 2);
    assert.match(
      lines[1] ?? "",
      new RegExp(
        `container "c1" image "${plain.host}/team/app:nope": tag-not-found: .*push it or fix the tag`,
      ),
    );
    const [record] = hook.audit.records;
    assert.equal(record?.decision, "denied");
    assert.equal(record?.kind, "Deployment");
    assert.equal(record?.name, "web");
    assert.equal(record?.user, "alice@example.com");
    assert.deepEqual(
      record?.images.map((i) => [i.container, i.result]),
      [
        ["app", "ok"],
        ["c1", "tag-not-found"],
      ],
    );
    assert.equal(json.response.auditAnnotations.decision, "denied");
    await hook.close();
  });

  test("warn route: the same failure is allowed with a short Warning per image", async () => {
    const hook = webhook(config());
    const { json } = await hook.send(
      review("Pod", pod("p", { images: [`${plain.host}/team/app:nope`] })),
      "warn",
    );
    assert.equal(json.response.allowed, true);
    assert.equal(json.response.warnings.length, 1);
    assert.ok(json.response.warnings[0].length < 256);
    assert.match(json.response.warnings[0], /tag-not-found/);
    assert.equal(hook.audit.records[0]?.decision, "warned");
    assert.equal(hook.audit.records[0]?.mode, "warn");
    await hook.close();
  });

  test("config mode warn applies to /validate; the off route checks nothing", async () => {
    const hook = webhook(config({ mode: "warn" }));
    const bad = () => review("Pod", pod("p", { images: [`${proxy.host}/team/app:nope`] }));
    assert.equal((await hook.send(bad())).json.response.allowed, true);
    proxy.reset();
    const off = await hook.send(bad(), "off");
    assert.equal(off.json.response.allowed, true);
    assert.equal(off.json.response.warnings, undefined);
    assert.equal(proxy.count(), 0);
    await hook.close();
  });

  test("a private image is admitted with the pod's pull secret and refused without one", async () => {
    const kube = fakeKube({ "team/regcred": pullSecretData({ [token.host]: ALICE }) }, {});
    const hook = webhook(config(), kube.reader);
    const image = `${token.host}/team/private:v1`;
    const withSecret = await hook.send(
      review("Pod", pod("p", { images: [image], imagePullSecrets: ["regcred"] })),
    );
    assert.equal(withSecret.json.response.allowed, true, withSecret.json.response.status?.message);
    const without = await hook.send(review("Pod", pod("q", { images: [image] })));
    assert.equal(without.json.response.allowed, false);
    assert.match(without.json.response.status.message, /not-found-or-unauthorized/);
    await hook.close();
  });

  test("a Deployment without pull secrets uses its ServiceAccount's, in its own namespace only", async () => {
    const kube = fakeKube(
      {
        "team/sa-cred": pullSecretData({ [token.host]: ALICE }),
        "other/sa-cred": pullSecretData({ [token.host]: ALICE }),
      },
      { "team/builder": ["sa-cred"], "other/default": ["sa-cred"] },
    );
    const hook = webhook(config(), kube.reader);
    const image = `${token.host}/team/private:v1`;
    const viaSa = await hook.send(
      review("Deployment", deployment("d", { images: [image], serviceAccountName: "builder" })),
    );
    assert.equal(viaSa.json.response.allowed, true, viaSa.json.response.status?.message);
    // team/default does not exist: no credentials, even though other/default has them.
    const viaDefault = await hook.send(review("Deployment", deployment("d", { images: [image] })));
    assert.equal(viaDefault.json.response.allowed, false);
    assert.ok(
      kube.reads.every((read) => read.includes("/team/")),
      kube.reads.join(","),
    );
    await hook.close();
  });

  test("a referenced secret that does not exist is named in the message, not fatal by itself", async () => {
    const hook = webhook(config());
    const ok = await hook.send(
      review("Pod", pod("p", { images: [`${plain.host}/team/app:v1`], imagePullSecrets: ["gone"] })),
    );
    assert.equal(ok.json.response.allowed, true);
    const denied = await hook.send(
      review("Pod", pod("p", { images: [`${token.host}/team/private:v1`], imagePullSecrets: ["gone"] })),
    );
    assert.match(denied.json.response.status.message, /team\/gone not found/);
    await hook.close();
  });

  test("pull secrets that cannot be read: registry facts still decide, anonymous refusals only warn", async () => {
    const down: KubeReader = {
      secret: async () => {
        throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
      },
      serviceAccount: async () => {
        throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
      },
    };
    const hook = webhook(config(), down);
    const missingTag = await hook.send(
      review("Deployment", deployment("d", { images: [`${plain.host}/team/app:nope`] })),
    );
    assert.equal(missingTag.json.response.allowed, false);
    assert.match(missingTag.json.response.status.message, /tag-not-found/);
    const privateImage = await hook.send(
      review("Deployment", deployment("d", { images: [`${token.host}/team/private:v1`] })),
    );
    assert.equal(privateImage.json.response.allowed, true);
    assert.match(
      privateImage.json.response.warnings[0],
      /registry-error: could not read the pod's pull secrets/,
    );
    await hook.close();
  });

  test("a malformed pull secret denies every image as pull-secret-invalid", async () => {
    const broken = {
      type: "kubernetes.io/dockerconfigjson",
      data: { ".dockerconfigjson": Buffer.from("{not json").toString("base64") },
    };
    const hook = webhook(config(), fakeKube({ "team/broken": broken }, {}).reader);
    const { json } = await hook.send(
      review("Pod", pod("p", { images: [`${plain.host}/team/app:v1`], imagePullSecrets: ["broken"] })),
    );
    assert.equal(json.response.allowed, false);
    assert.match(
      json.response.status.message,
      /pull-secret-invalid: pull secret team\/broken cannot be parsed/,
    );
    await hook.close();
  });

  test("UPDATE: scaling with a since-deleted tag is allowed; a new missing tag is refused", async () => {
    const hook = webhook(config());
    const image = `${plain.host}/team/scaled:v1`;
    const before = deployment("web", { images: [image], replicas: 1 });
    const created = await hook.send(review("Deployment", before));
    assert.equal(created.json.response.allowed, true);
    const digest = (await makeImage("oci-manifest", { seed: "scale" })).digest;
    await plain.deleteManifest("team/scaled", digest);
    const scaled = await hook.send(
      review("Deployment", deployment("web", { images: [image], replicas: 5 }), {
        operation: "UPDATE",
        oldObject: before,
      }),
    );
    assert.equal(scaled.json.response.allowed, true);
    const changed = await hook.send(
      review("Deployment", deployment("web", { images: [`${plain.host}/team/app:missing`] }), {
        operation: "UPDATE",
        oldObject: before,
      }),
    );
    assert.equal(changed.json.response.allowed, false);
    await hook.close();
  });

  test("platforms: the configured set, narrowed by the pod's arch selector, is checked against the index", async () => {
    await plain.push(
      await makeImage("oci-index", { platforms: ["linux/amd64"], seed: "amd64-only" }),
      "team/amd64-only:v1",
    );
    const hook = webhook(config({ platforms: ["linux/amd64", "linux/arm64"] }));
    const both = `${plain.host}/team/app:v1`;
    const amd64Only = `${plain.host}/team/amd64-only:v1`;
    const allowed = await hook.send(review("Pod", pod("p", { images: [both] })));
    assert.equal(allowed.json.response.allowed, true);
    assert.equal(allowed.json.response.warnings, undefined);
    const partial = await hook.send(review("Pod", pod("p", { images: [amd64Only] })));
    assert.equal(partial.json.response.allowed, true);
    assert.match(partial.json.response.warnings[0], /ok: index lacks linux\/arm64/);
    const pinned = await hook.send(
      review("Pod", pod("p", { images: [amd64Only], nodeSelector: { "kubernetes.io/arch": "arm64" } })),
    );
    assert.equal(pinned.json.response.allowed, false);
    assert.match(pinned.json.response.status.message, /platform-not-found/);
    await hook.close();
  });

  test("dryRun requests are checked like any other and flagged in the audit record", async () => {
    const hook = webhook(config());
    const { json } = await hook.send(
      review("Pod", pod("p", { images: [`${plain.host}/team/app:nope`] }), { dryRun: true }),
    );
    assert.equal(json.response.allowed, false);
    assert.equal(hook.audit.records[0]?.dryRun, true);
    await hook.close();
  });

  test("registry down: allowed with a warning by default, refused with onRegistryError deny", async () => {
    const dead = "127.0.0.1:9"; // discard port: nothing listens
    const body = () => review("Pod", pod("p", { images: [`${dead}/team/app:v1`] }));
    const lenient = webhook(config({ registries: { [dead]: { insecure: true } } }));
    const warned = await lenient.send(body());
    assert.equal(warned.json.response.allowed, true);
    assert.match(warned.json.response.warnings[0], /registry-unreachable/);
    const strict = webhook(config({ onRegistryError: "deny", registries: { [dead]: { insecure: true } } }));
    const denied = await strict.send(body());
    assert.equal(denied.json.response.allowed, false);
    await Promise.all([lenient.close(), strict.close()]);
  });

  test("a registry that stalls is answered at the deadline as registry-unreachable", async () => {
    const hook = webhook(config({ timeoutMs: 1000 }));
    proxy.setFault({ kind: "stall" });
    try {
      const { json } = await hook.send(
        review("Pod", pod("p", { images: [`${proxy.host}/team/app:stalled`] })),
      );
      // The stall never ends: any answer at all came from the deadline.
      assert.equal(json.response.allowed, true);
      assert.match(json.response.warnings[0], /registry-unreachable/);
      assert.equal(hook.audit.records[0]?.images[0]?.result, "registry-unreachable");
    } finally {
      proxy.setFault(null);
    }
    await hook.close();
  });

  test("100 concurrent admissions of one uncached image make exactly one manifest request", async () => {
    const hook = webhook(config());
    proxy.reset();
    const image = `${proxy.host}/team/app:v1`;
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => hook.send(review("Pod", pod(`p${i}`, { images: [image] })))),
    );
    assert.ok(answers.every((a) => a.json.response.allowed === true));
    assert.equal(
      proxy.count((method, path) => method === "HEAD" && path.includes("/manifests/")),
      1,
    );
    await hook.close();
  });

  test("no credential, token or Authorization value reaches the audit log, the responses or the log", async () => {
    const wrong = { username: "alice", password: "Wrong-Pa55-zz" };
    const kube = fakeKube(
      {
        "team/bad": pullSecretData({ [token.host]: wrong }),
        "team/good": pullSecretData({ [token.host]: ALICE }),
      },
      {},
    );
    const hook = webhook(config(), kube.reader);
    const responses = [
      await hook.send(
        review("Pod", pod("p", { images: [`${token.host}/team/private:v1`], imagePullSecrets: ["bad"] })),
      ),
      await hook.send(
        review("Pod", pod("p", { images: [`${token.host}/team/other:v1`], imagePullSecrets: ["good"] })),
      ),
    ];
    assert.match(responses[0]?.json.response.status.message, /credentials-rejected/);
    assert.match(responses[1]?.json.response.status.message, /access-denied/);
    const everything = JSON.stringify([hook.audit.records, responses, hook.logLines]);
    for (const secret of [
      ALICE.password,
      wrong.password,
      Buffer.from(`alice:${ALICE.password}`).toString("base64"),
      "Bearer ey",
      "Basic ",
    ]) {
      assert.equal(everything.includes(secret), false, `leaked ${secret}`);
    }
    await hook.close();
  });
});

describe("malformed requests", () => {
  const cases: Array<[string, string | object, RegExp]> = [
    ["bad JSON", "{nope", /JSON/i],
    [
      "a wrong apiVersion",
      { apiVersion: "admission.k8s.io/v1beta1", kind: "AdmissionReview", request: {} },
      /apiVersion/,
    ],
    ["a wrong kind", { apiVersion: "admission.k8s.io/v1", kind: "Review", request: {} }, /kind/],
    [
      "a missing uid",
      { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { operation: "CREATE" } },
      /uid/,
    ],
  ];
  for (const [name, payload, reason] of cases) {
    test(`${name} is HTTP 400 with a reason`, async () => {
      const hook = webhook(config());
      const response = await hook.app.inject({
        method: "POST",
        url: "/validate",
        headers: { "content-type": "application/json" },
        payload: typeof payload === "string" ? payload : JSON.stringify(payload),
      });
      assert.equal(response.statusCode, 400);
      assert.match(response.json().error, reason);
      await hook.close();
    });
  }

  test("a body over the limit is HTTP 400 with a reason", async () => {
    const hook = webhook(config());
    const response = await hook.app.inject({
      method: "POST",
      url: "/validate",
      headers: { "content-type": "application/json" },
      payload: `{"pad":"${"x".repeat(8 * 1024 * 1024)}"}`,
    });
    assert.equal(response.statusCode, 400);
    assert.match(response.json().error, /larger than/);
    await hook.close();
  });

  test("health, readiness and metrics answer", async () => {
    const hook = webhook(config());
    await hook.send(review("Pod", pod("p", { images: [`${plain.host}/team/app:v1`] })));
    assert.equal((await hook.app.inject({ url: "/healthz" })).statusCode, 200);
    assert.equal((await hook.app.inject({ url: "/readyz" })).statusCode, 200);
    const metrics = (await hook.app.inject({ url: "/metrics" })).body;
    assert.match(metrics, /pullcheck_admissions_total\{decision="allowed",mode="enforce",kind="Pod"\} 1/);
    assert.match(metrics, /pullcheck_registry_request_duration_seconds_bucket/);
    assert.match(metrics, /pullcheck_cache_requests_total\{outcome="miss"\}/);
    await hook.close();
  });
});
