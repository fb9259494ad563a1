import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { makeImage } from "../harness/images.ts";
import { type Cluster, type KubectlResult, startCluster } from "../harness/kube.ts";
import { freePort } from "../harness/ports.ts";
import { startRegistry, type TestRegistry } from "../harness/registry.ts";
import { harnessTempDir } from "../harness/temp.ts";
import {
  type AuditLine,
  applyObjects,
  issueWebhookCerts,
  type KubeObject,
  registerWebhook,
  renderKustomization,
  startWebhook,
  type WebhookCerts,
  type WebhookProcess,
} from "../harness/webhook.ts";

// The user stories of PRODUCT.md "Admission behaviour", told through the real kubectl to a
// real kube-apiserver that calls `pullcheck serve` through the ValidatingWebhookConfiguration
// and RBAC that manifests/ ships. The webhook runs with its own ServiceAccount's token and the
// shipped config (only loopback addresses, registries and the audit file differ).

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ALICE = { username: "alice", password: "alice-Pull-7c1" };
const PROBE_NAMESPACE = "pullcheck-e2e-probe";

let cluster: Cluster;
let plain: TestRegistry;
let basic: TestRegistry;
let token: TestRegistry;
let certs: WebhookCerts;
let webhook: WebhookProcess;
/** Extra webhook processes a story starts; stopped in after() even when the story fails. */
const extraWebhooks: WebhookProcess[] = [];
let shippedConfiguration: KubeObject;
let shippedConfig: Record<string, unknown>;
let webhookKubeconfig: string;
/** 127.0.0.1:PORT where nothing listens. */
let deadHost: string;

const good = () => `${plain.host}/team/app:v1`;
const missingTag = () => `${plain.host}/team/app:does-not-exist`;

// ---------------------------------------------------------------------------------------------
// Objects

interface PodSpecOptions {
  imagePullSecrets?: string[];
  serviceAccountName?: string;
}

function podSpec(image: string, options: PodSpecOptions = {}): Record<string, unknown> {
  return {
    ...(options.serviceAccountName ? { serviceAccountName: options.serviceAccountName } : {}),
    ...(options.imagePullSecrets
      ? { imagePullSecrets: options.imagePullSecrets.map((name) => ({ name })) }
      : {}),
    containers: [{ name: "app", image }],
  };
}

function template(name: string, image: string, options: PodSpecOptions = {}) {
  return { metadata: { labels: { app: name } }, spec: podSpec(image, options) };
}

function deployment(name: string, image: string, options: PodSpecOptions = {}): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: template(name, image, options) },
  };
}

function pod(name: string, image: string, options: PodSpecOptions = {}): KubeObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name }, spec: podSpec(image, options) };
}

/** Every kind PRODUCT.md lists besides Deployment, each wrapping `image` the way users write it. */
function everyOtherKind(image: string): KubeObject[] {
  const name = (kind: string) => `bad-${kind.toLowerCase()}`;
  const selector = (kind: string) => ({ matchLabels: { app: name(kind) } });
  const jobSpec = (kind: string) => ({
    template: { ...template(name(kind), image), spec: { ...podSpec(image), restartPolicy: "Never" } },
  });
  return [
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: name("StatefulSet") },
      spec: {
        serviceName: name("StatefulSet"),
        selector: selector("StatefulSet"),
        template: template(name("StatefulSet"), image),
      },
    },
    {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: name("DaemonSet") },
      spec: { selector: selector("DaemonSet"), template: template(name("DaemonSet"), image) },
    },
    {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: name("ReplicaSet") },
      spec: { selector: selector("ReplicaSet"), template: template(name("ReplicaSet"), image) },
    },
    {
      apiVersion: "v1",
      kind: "ReplicationController",
      metadata: { name: name("ReplicationController") },
      spec: {
        selector: { app: name("ReplicationController") },
        template: template(name("ReplicationController"), image),
      },
    },
    { apiVersion: "batch/v1", kind: "Job", metadata: { name: name("Job") }, spec: jobSpec("Job") },
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: name("CronJob") },
      spec: { schedule: "*/5 * * * *", jobTemplate: { spec: jobSpec("CronJob") } },
    },
    pod(name("Pod"), image),
  ];
}

// ---------------------------------------------------------------------------------------------
// kubectl

function describeRun(what: string, result: KubectlResult): string {
  return `${what}: exit ${result.code}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}\n--- webhook log (tail) ---\n${webhook?.log().split("\n").slice(-15).join("\n")}`;
}

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const result = await cluster.kubectl(args, input === undefined ? {} : { input });
  assert.equal(result.code, 0, describeRun(`kubectl ${args.join(" ")}`, result));
  return result.stdout;
}

function apply(namespace: string, object: KubeObject, ...flags: string[]): Promise<KubectlResult> {
  return cluster.kubectl(["apply", "-n", namespace, ...flags, "-f", "-"], { input: JSON.stringify(object) });
}

/** A namespace with the given labels and a `default` ServiceAccount (no controller manager creates it). */
async function namespace(name: string, labels: Record<string, string> = {}): Promise<string> {
  await applyObjects(cluster, [
    { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: name } },
  ]);
  return name;
}

async function pullSecret(
  namespace: string,
  name: string,
  registry: TestRegistry,
  password = ALICE.password,
) {
  await kubectlOk([
    "-n",
    namespace,
    "create",
    "secret",
    "docker-registry",
    name,
    `--docker-server=${registry.host}`,
    `--docker-username=${ALICE.username}`,
    `--docker-password=${password}`,
  ]);
}

async function names(namespace: string, resource: string): Promise<string[]> {
  const out = await kubectlOk(["-n", namespace, "get", resource, "-o", "name"]);
  return out.split("\n").filter((line) => line !== "");
}

/** kubectl's `Warning:` lines that come from pullcheck (PodSecurity admission warns too, e.g. in pullcheck-system). */
function warnings(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line.startsWith("Warning: pullcheck"));
}

const auditFor =
  (namespace: string, kind: string, name: string) =>
  (line: AuditLine): boolean =>
    line.namespace === namespace && line.kind === kind && line.name === name;

/** Asserts kubectl was refused by pullcheck, naming container, image and result. */
function assertDenied(
  result: KubectlResult,
  what: string,
  image: string,
  category: string,
  container = "app",
) {
  assert.notEqual(result.code, 0, describeRun(what, result));
  assert.match(result.stderr, /denied the request: pullcheck denied/, describeRun(what, result));
  assert.ok(result.stderr.includes(`"${container}"`), `names the container: ${result.stderr}`);
  assert.ok(result.stderr.includes(`"${image}"`), `names the image: ${result.stderr}`);
  assert.ok(result.stderr.includes(`: ${category}: `), `names ${category}: ${result.stderr}`);
}

// ---------------------------------------------------------------------------------------------
// Setup

before(async () => {
  let registries: TestRegistry[];
  [cluster, registries] = await Promise.all([
    startCluster(),
    Promise.all([
      startRegistry(),
      startRegistry({ auth: "htpasswd", users: { alice: ALICE.password } }),
      startRegistry({
        auth: "token",
        users: { alice: ALICE.password },
        pullGrants: { alice: ["team/private"] },
      }),
    ]),
  ]);
  [plain, basic, token] = registries as [TestRegistry, TestRegistry, TestRegistry];
  deadHost = `127.0.0.1:${await freePort()}`;

  const image = await makeImage("oci-index");
  await Promise.all([
    plain.push(image, "team/app:v1"),
    basic.push(image, "team/private:v1"),
    token.push(image, "team/private:v1"),
  ]);

  // Everything the base ships except the webhook configuration, which needs the URL first.
  const rendered = await renderKustomization(cluster, `${REPO_ROOT}manifests/base`);
  const configuration = rendered.find((o) => o.kind === "ValidatingWebhookConfiguration");
  assert.ok(configuration, "manifests/base renders a ValidatingWebhookConfiguration");
  shippedConfiguration = configuration;
  await applyObjects(
    cluster,
    rendered.filter((o) => o !== configuration),
  );
  const configMap = rendered.find(
    (o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("pullcheck-config"),
  );
  const configText = (configMap?.data as Record<string, string> | undefined)?.["config.yaml"];
  assert.ok(configText, "manifests/base renders the pullcheck config");
  shippedConfig = parseYaml(configText) as Record<string, unknown>;

  webhookKubeconfig = await cluster.kubeconfigFor("pullcheck-system", "pullcheck");
  certs = await issueWebhookCerts(harnessTempDir("webhook-certs"));
  webhook = await startStoryWebhook({});
  await namespace(PROBE_NAMESPACE);
  await registerWebhook(cluster, shippedConfiguration, webhook, certs.caBundle, {
    namespace: PROBE_NAMESPACE,
  });
});

after(async () => {
  const stops: Promise<unknown>[] = [webhook?.stop(), ...extraWebhooks.map((w) => w.stop())];
  await Promise.allSettled(stops);
  await Promise.allSettled([plain?.stop(), basic?.stop(), token?.stop(), cluster?.stop()]);
});

/** The shipped config with this machine's registries, all audit records (debug), and `overrides`. */
function startStoryWebhook(overrides: Record<string, unknown>): Promise<WebhookProcess> {
  return startWebhook({
    config: {
      ...shippedConfig,
      registries: {
        [plain.host]: { insecure: true },
        [deadHost]: { insecure: true },
        [basic.host]: { caFile: basic.caFile },
        [token.host]: { caFile: token.caFile },
      },
      logLevel: "debug",
      ...overrides,
    },
    kubeconfig: webhookKubeconfig,
    certs,
    dir: harnessTempDir("webhook"),
  });
}

// ---------------------------------------------------------------------------------------------
// Stories

describe("pullcheck as installed from manifests/, through kubectl and a real kube-apiserver", () => {
  const enforceStories: { name: string; ns: string; labels: Record<string, string>; webhook: string }[] = [
    {
      name: "a namespace labelled enforce",
      ns: "s1-labelled",
      labels: { "pullcheck.dev/mode": "enforce" },
      webhook: "enforce.pullcheck.dev",
    },
    {
      name: "a namespace without the label (config default: enforce)",
      ns: "s1-unlabelled",
      labels: {},
      webhook: "default.pullcheck.dev",
    },
  ];
  for (const story of enforceStories) {
    test(`1. in ${story.name}, applying a Deployment whose tag does not exist is refused and audited`, async () => {
      const ns = await namespace(story.ns, story.labels);
      const result = await apply(ns, deployment("web", missingTag()));
      assertDenied(result, "kubectl apply", missingTag(), "tag-not-found");
      assert.ok(result.stderr.includes(`admission webhook "${story.webhook}" denied`), result.stderr);
      assert.deepEqual(await names(ns, "deployments"), [], "nothing was created");
      const record = await webhook.waitForAudit(auditFor(ns, "Deployment", "web"));
      assert.equal(record.decision, "denied");
      assert.equal(record.mode, "enforce");
      assert.equal(record.operation, "CREATE");
      assert.equal(record.dryRun, false);
      assert.deepEqual(
        record.images.map((i) => [i.container, i.image, i.result]),
        [["app", missingTag(), "tag-not-found"]],
      );
    });
  }

  test("2. a private image is admitted with a pod-level pull secret and refused without one", async () => {
    const ns = await namespace("s2-private");
    await pullSecret(ns, "basic-cred", basic);
    await pullSecret(ns, "token-cred", token);
    const cases = [
      {
        name: "htpasswd-with",
        image: `${basic.host}/team/private:v1`,
        secrets: ["basic-cred"],
        result: null,
      },
      { name: "token-with", image: `${token.host}/team/private:v1`, secrets: ["token-cred"], result: null },
      {
        name: "htpasswd-without",
        image: `${basic.host}/team/private:v1`,
        secrets: undefined,
        result: "credentials-missing",
      },
      {
        name: "token-without",
        image: `${token.host}/team/private:v1`,
        secrets: undefined,
        result: "not-found-or-unauthorized",
      },
      // A secret for another registry does not match this one.
      {
        name: "token-with-basic-cred",
        image: `${token.host}/team/private:v1`,
        secrets: ["basic-cred"],
        result: "not-found-or-unauthorized",
      },
    ];
    for (const c of cases) {
      const options = c.secrets ? { imagePullSecrets: c.secrets } : {};
      const result = await apply(ns, deployment(c.name, c.image, options));
      if (c.result === null) {
        assert.equal(result.code, 0, describeRun(`${c.name}: kubectl apply`, result));
        assert.deepEqual(warnings(result.stderr), [], c.name);
      } else {
        assertDenied(result, `${c.name}: kubectl apply`, c.image, c.result);
      }
    }
    assert.deepEqual(await names(ns, "deployments"), [
      "deployment.apps/htpasswd-with",
      "deployment.apps/token-with",
    ]);
  });

  test("3. a Deployment relying on its ServiceAccount's imagePullSecrets is admitted", async () => {
    const ns = await namespace("s3-sa-secrets");
    await pullSecret(ns, "regcred", token);
    await kubectlOk(["-n", ns, "create", "serviceaccount", "builder"]);
    await kubectlOk([
      "-n",
      ns,
      "patch",
      "serviceaccount",
      "builder",
      "-p",
      JSON.stringify({ imagePullSecrets: [{ name: "regcred" }] }),
    ]);
    const image = `${token.host}/team/private:v1`;

    const admitted = await apply(ns, deployment("via-sa", image, { serviceAccountName: "builder" }));
    assert.equal(admitted.code, 0, describeRun("kubectl apply (SA builder)", admitted));
    assert.deepEqual(warnings(admitted.stderr), []);
    const record = await webhook.waitForAudit(auditFor(ns, "Deployment", "via-sa"));
    assert.equal(record.decision, "allowed");
    assert.equal(record.images[0]?.result, "ok");

    // The `default` ServiceAccount has no pull secrets: the same image is refused.
    const refused = await apply(ns, deployment("via-default", image));
    assertDenied(refused, "kubectl apply (SA default)", image, "not-found-or-unauthorized");
  });

  test("4. in a namespace labelled warn, the bad Deployment is created and kubectl prints a Warning", async () => {
    const ns = await namespace("s4-warn");
    await kubectlOk(["label", "ns", ns, "pullcheck.dev/mode=warn"]);
    const result = await apply(ns, deployment("web", missingTag()));
    assert.equal(result.code, 0, describeRun("kubectl apply", result));
    const lines = warnings(result.stderr);
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0] ?? "", /tag-not-found/);
    assert.ok(lines[0]?.includes(`"${missingTag()}"`), lines[0]);
    assert.ok(
      (lines[0] ?? "").slice("Warning: ".length).length < 256,
      "a warning stays under 256 characters",
    );
    assert.deepEqual(await names(ns, "deployments"), ["deployment.apps/web"]);
    const record = await webhook.waitForAudit(auditFor(ns, "Deployment", "web"));
    assert.equal(record.decision, "warned");
    assert.equal(record.mode, "warn");
  });

  test("5. off namespaces and the excluded system namespaces are never checked", async () => {
    const off = await namespace("s5-off", { "pullcheck.dev/mode": "off" });
    const offLabelledLater = await namespace("s5-off-later");
    await kubectlOk(["label", "ns", offLabelledLater, "pullcheck.dev/mode=off"]);
    const enforcedSystem = "kube-public";
    await kubectlOk(["label", "ns", enforcedSystem, "pullcheck.dev/mode=enforce", "--overwrite"]);
    const skipped = [off, offLabelledLater, "kube-system", enforcedSystem, "pullcheck-system"];

    const requestsBefore = await webhook.admissionRequests();
    for (const ns of skipped) {
      const result = await apply(ns, deployment("unchecked", missingTag()));
      assert.equal(result.code, 0, describeRun(`kubectl apply -n ${ns}`, result));
      assert.deepEqual(warnings(result.stderr), [], ns);
      assert.deepEqual(await names(ns, "deployments/unchecked"), ["deployment.apps/unchecked"], ns);
    }
    assert.equal(await webhook.admissionRequests(), requestsBefore, "the webhook received no request");

    // Control: the same apply in a checked namespace reaches the webhook. Audit lines are
    // written in order, so once its line is there, any line for the namespaces above would be too.
    const checked = await namespace("s5-control");
    const control = await apply(checked, deployment("unchecked", missingTag()));
    assertDenied(control, "kubectl apply (control)", missingTag(), "tag-not-found");
    assert.equal(await webhook.admissionRequests(), requestsBefore + 1);
    await webhook.waitForAudit(auditFor(checked, "Deployment", "unchecked"));
    assert.deepEqual(
      webhook.auditLines().filter((line) => skipped.includes(line.namespace)),
      [],
      "no audit record for a skipped namespace",
    );
  });

  test("6. UPDATE: scaling a Deployment whose tag was since deleted is allowed; a new missing tag is refused", async () => {
    const ns = await namespace("s6-update");
    const image = await makeImage("oci-manifest", { seed: "e2e-scale" });
    const { digest } = await plain.push(image, "team/scaled:v1");
    const ref = `${plain.host}/team/scaled:v1`;
    const created = await apply(ns, deployment("web", ref));
    assert.equal(created.code, 0, describeRun("kubectl apply", created));
    await plain.deleteManifest("team/scaled", digest);

    // The scale subresource is not in the webhook's rules; a patch of spec.replicas is an
    // UPDATE of the Deployment itself, which the webhook does see.
    await kubectlOk(["-n", ns, "scale", "deploy/web", "--replicas=3"]);
    const before = await webhook.admissionRequests();
    await kubectlOk(["-n", ns, "patch", "deploy/web", "--type=merge", "-p", '{"spec":{"replicas":4}}']);
    assert.equal(await webhook.admissionRequests(), before + 1, "the UPDATE went through the webhook");
    assert.equal(await kubectlOk(["-n", ns, "get", "deploy/web", "-o", "jsonpath={.spec.replicas}"]), "4");

    const missing = `${plain.host}/team/scaled:v2-missing`;
    const setImage = await cluster.kubectl(["-n", ns, "set", "image", "deploy/web", `app=${missing}`]);
    assertDenied(setImage, "kubectl set image", missing, "tag-not-found");
    assert.equal(
      await kubectlOk([
        "-n",
        ns,
        "get",
        "deploy/web",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
      ]),
      ref,
    );
    const record = await webhook.waitForAudit(
      (l) => auditFor(ns, "Deployment", "web")(l) && l.operation === "UPDATE",
    );
    assert.equal(record.decision, "denied");
    assert.deepEqual(
      record.images.map((i) => i.image),
      [missing],
      "only the new image is checked",
    );
  });

  test("7. StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob and a bare Pod with a bad image are each refused", async () => {
    const ns = await namespace("s7-kinds");
    for (const object of everyOtherKind(missingTag())) {
      const result = await apply(ns, object);
      assertDenied(result, `kubectl apply ${object.kind}`, missingTag(), "tag-not-found");
      const record = await webhook.waitForAudit(auditFor(ns, object.kind, object.metadata.name));
      assert.equal(record.decision, "denied", object.kind);
    }
    const left = await kubectlOk([
      "-n",
      ns,
      "get",
      "statefulsets,daemonsets,replicasets,replicationcontrollers,jobs,cronjobs,pods",
      "-o",
      "name",
    ]);
    assert.equal(left, "", "nothing was created");
  });

  test("7. kubectl debug with a bad --image is refused (pods/ephemeralcontainers)", async () => {
    const ns = await namespace("s7-debug");
    const created = await apply(ns, pod("web", good()));
    assert.equal(created.code, 0, describeRun("kubectl apply Pod", created));

    const okDebug = await cluster.kubectl([
      "-n",
      ns,
      "debug",
      "pod/web",
      "--profile=general",
      `--image=${good()}`,
      "--target=app",
      "-c",
      "debugger-ok",
    ]);
    assert.equal(okDebug.code, 0, describeRun("kubectl debug (good image)", okDebug));

    const refused = await cluster.kubectl([
      "-n",
      ns,
      "debug",
      "pod/web",
      "--profile=general",
      `--image=${missingTag()}`,
      "--target=app",
      "-c",
      "debugger",
    ]);
    assertDenied(refused, "kubectl debug", missingTag(), "tag-not-found", "debugger");
    const ephemeral = await kubectlOk([
      "-n",
      ns,
      "get",
      "pod/web",
      "-o",
      "jsonpath={.spec.ephemeralContainers[*].name}",
    ]);
    assert.equal(ephemeral, "debugger-ok");
    const record = await webhook.waitForAudit(
      (l) => auditFor(ns, "Pod", "web")(l) && l.decision === "denied",
    );
    assert.equal(record.operation, "UPDATE");
    assert.deepEqual(
      record.images.map((i) => [i.container, i.result]),
      [["debugger", "tag-not-found"]],
    );
  });

  test("8. kubectl apply --dry-run=server of the bad Deployment is refused the same way and audited as dryRun", async () => {
    const ns = await namespace("s8-dry-run");
    const result = await apply(ns, deployment("web", missingTag()), "--dry-run=server");
    assertDenied(result, "kubectl apply --dry-run=server", missingTag(), "tag-not-found");
    const record = await webhook.waitForAudit(auditFor(ns, "Deployment", "web"));
    assert.equal(record.decision, "denied");
    assert.equal(record.dryRun, true);
  });

  test("9. a registry that is down: admitted with a Warning by default, refused with onRegistryError: deny", async () => {
    const ns = await namespace("s9-down");
    const image = `${deadHost}/team/app:v1`;
    const warned = await apply(ns, deployment("default-policy", image));
    assert.equal(warned.code, 0, describeRun("kubectl apply", warned));
    const lines = warnings(warned.stderr);
    assert.equal(lines.length, 1, warned.stderr);
    assert.match(lines[0] ?? "", /registry-unreachable/);

    const denying = await startStoryWebhook({ onRegistryError: "deny" });
    extraWebhooks.push(denying);
    await registerWebhook(cluster, shippedConfiguration, denying, certs.caBundle, {
      namespace: PROBE_NAMESPACE,
    });
    try {
      const refused = await apply(ns, deployment("deny-policy", image));
      assertDenied(refused, "kubectl apply (onRegistryError: deny)", image, "registry-unreachable");
      const record = await denying.waitForAudit(auditFor(ns, "Deployment", "deny-policy"));
      assert.equal(record.decision, "denied");
    } finally {
      await registerWebhook(cluster, shippedConfiguration, webhook, certs.caBundle, {
        namespace: PROBE_NAMESPACE,
      });
      await denying.stop();
    }
    assert.deepEqual(await names(ns, "deployments"), ["deployment.apps/default-policy"]);
  });

  test("10. a pull secret of the same name in another namespace is never used", async () => {
    const withoutSecret = await namespace("s10-a");
    const withSecret = await namespace("s10-b");
    await pullSecret(withSecret, "regcred", basic);
    const image = `${basic.host}/team/private:v1`;

    // The webhook's own token reads the secret in B: the shipped RBAC is enough.
    const admitted = await apply(withSecret, pod("web", image, { imagePullSecrets: ["regcred"] }));
    assert.equal(admitted.code, 0, describeRun("kubectl apply in B", admitted));
    assert.deepEqual(warnings(admitted.stderr), []);

    const refused = await apply(withoutSecret, pod("web", image, { imagePullSecrets: ["regcred"] }));
    assertDenied(refused, "kubectl apply in A", image, "credentials-missing");
    assert.match(refused.stderr, /pull secret \S*regcred not found/);
  });

  test("11. with the webhook stopped, the shipped failurePolicy: Ignore admits and the system namespaces stay usable", async () => {
    const ns = await namespace("s11-down", { "pullcheck.dev/mode": "enforce" });
    const code = await webhook.stop();
    assert.equal(code, 0, "SIGTERM shuts the webhook down cleanly");

    const result = await apply(ns, deployment("web", missingTag()));
    assert.equal(result.code, 0, describeRun("kubectl apply with the webhook down", result));
    assert.deepEqual(await names(ns, "deployments"), ["deployment.apps/web"]);

    const configMap = await cluster.kubectl([
      "-n",
      "kube-system",
      "create",
      "configmap",
      "still-usable",
      "--from-literal=k=v",
    ]);
    assert.equal(configMap.code, 0, describeRun("kubectl create configmap -n kube-system", configMap));
    const systemDeployment = await apply("kube-system", deployment("still-usable", missingTag()));
    assert.equal(systemDeployment.code, 0, describeRun("kubectl apply -n kube-system", systemDeployment));
  });
});
