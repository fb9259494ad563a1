import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { delimiter, dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Agent, fetch } from "undici";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { validateConfig } from "../../src/config/schema.ts";
import { type Cluster, startCluster } from "../harness/kube.ts";
import { harnessTempDir } from "../harness/temp.ts";

// What users install, proven without Docker or a registry:
// - the npm package, built and installed the way the Dockerfile does (build, production-only
//   dependencies), then run as the image runs it: `pullcheck certs`, `pullcheck serve`;
// - the kustomize manifests, rendered by kubectl and checked against each other, the config
//   schema, the Dockerfile and the routing PRODUCT.md promises;
// - scripts/install-certs.sh, against a real kube-apiserver.

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const STEP_TIMEOUT_MS = 240_000;

// ---------------------------------------------------------------------------------------------
// Processes

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Node 24 (this test's own) first on PATH: the installed bin's `#!/usr/bin/env node` must find it. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`,
    ...extra,
  };
  // Nothing from the machine may decide where pullcheck looks.
  for (const name of ["KUBERNETES_SERVICE_HOST", "PULLCHECK_CONFIG"]) delete env[name];
  return env;
}

function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? childEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? STEP_TIMEOUT_MS);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function describeRun(what: string, result: Finished): string {
  return `${what} exited ${result.code ?? result.signal}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

interface Served {
  readonly child: ChildProcess;
  readonly url: string;
  readonly logLines: readonly string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `pullcheck serve` and resolves with the URL from its "pullcheck listening" log line. */
function startServe(bin: string, args: readonly string[], cwd: string): Promise<Served> {
  const child = spawn(bin, ["serve", ...args], { cwd, env: childEnv(), stdio: ["ignore", "ignore", "pipe"] });
  const logLines: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`pullcheck serve did not log "pullcheck listening" in time:\n${logLines.join("\n")}`));
    }, 20_000);
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (line) => {
      logLines.push(line);
      const entry = parseJsonLine(line);
      if (entry?.msg === "pullcheck listening" && typeof entry.url === "string") {
        clearTimeout(timer);
        resolve({ child, url: entry.url, logLines, exited });
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(`pullcheck serve exited (${code ?? signal}) before listening:\n${logLines.join("\n")}`),
      );
    });
  });
}

function parseJsonLine(line: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1))
    .sort();
}

// ---------------------------------------------------------------------------------------------
// The package, installed as the image installs it

interface Installed {
  /** node_modules/.bin/pullcheck of the clean install. */
  readonly bin: string;
  readonly installDir: string;
  readonly packageDir: string;
}

let installing: Promise<Installed> | undefined;

/** `npm pack` the repo (prepack builds dist/), then `npm install --omit=dev <tarball>` in a clean dir. */
function installPackage(): Promise<Installed> {
  installing ??= (async () => {
    const packDir = harnessTempDir("pack");
    const packed = await run("npm", ["pack", "--pack-destination", packDir, "--no-fund"], { cwd: REPO_ROOT });
    assert.equal(packed.code, 0, describeRun("npm pack", packed));
    const tarballs = (await readdir(packDir)).filter((name) => name.endsWith(".tgz"));
    assert.equal(tarballs.length, 1, `npm pack wrote ${tarballs.join(", ") || "no tarball"}`);

    const installDir = harnessTempDir("install");
    await writeFile(
      join(installDir, "package.json"),
      JSON.stringify({ name: "install-check", private: true }),
    );
    const installed = await run(
      "npm",
      [
        "install",
        "--omit=dev",
        "--no-audit",
        "--no-fund",
        "--prefer-offline",
        join(packDir, tarballs[0] as string),
      ],
      { cwd: installDir },
    );
    assert.equal(installed.code, 0, describeRun("npm install", installed));
    return {
      bin: join(installDir, "node_modules", ".bin", "pullcheck"),
      installDir,
      packageDir: join(installDir, "node_modules", "pullcheck"),
    };
  })();
  return installing;
}

/** Names of devDependencies that the lockfile says only development needs. */
async function devOnlyDependencies(): Promise<string[]> {
  const manifest = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")) as {
    devDependencies?: Record<string, string>;
  };
  const lock = JSON.parse(await readFile(join(REPO_ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, { dev?: boolean }>;
  };
  return Object.keys(manifest.devDependencies ?? {}).filter(
    (name) => lock.packages[`node_modules/${name}`]?.dev,
  );
}

function admissionReview(uid: string, image: string): object {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid,
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      namespace: "test",
      name: "web",
      operation: "CREATE",
      userInfo: { username: "alice" },
      dryRun: false,
      object: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "web", namespace: "test" },
        spec: { containers: [{ name: "app", image }] },
      },
      oldObject: null,
    },
  };
}

interface AdmissionResponseBody {
  apiVersion?: string;
  kind?: string;
  response?: {
    uid?: string;
    allowed?: boolean;
    status?: { code?: number; message?: string };
    warnings?: string[];
  };
}

describe("the npm package, installed with production dependencies only", () => {
  let pkg: Installed;
  let workDir: string;
  let certsDir: string;
  let certs: Finished;
  let served: Served | undefined;
  let trusting: Agent;
  let untrusting: Agent;
  const auditFile = () => join(workDir, "audit.jsonl");

  before(async () => {
    pkg = await installPackage();
    workDir = harnessTempDir("serve");
    certsDir = join(workDir, "certs");
    certs = await run(
      pkg.bin,
      ["certs", "--service", "pullcheck", "--namespace", "test", "--out", certsDir, "--ip", "127.0.0.1"],
      { cwd: workDir, timeoutMs: 60_000 },
    );
    trusting = new Agent({
      connect: { ca: await readFile(join(certsDir, "ca.crt"), "utf8").catch(() => "") },
    });
    untrusting = new Agent();
  });

  after(async () => {
    if (served && served.child.exitCode === null && served.child.signalCode === null) {
      served.child.kill("SIGKILL");
      await served.exited;
    }
    await trusting?.close();
    await untrusting?.close();
  });

  test("the package holds dist/ and package.json, but no src/, test/ or bench/ files", async () => {
    const files = await filesUnder(pkg.packageDir);
    assert.ok(files.includes("package.json"), files.join("\n"));
    assert.ok(files.includes(join("dist", "main.js")), files.join("\n"));
    const leaked = files.filter(
      (file) => /^(src|test|bench)\//.test(file) || /\.test\.[cm]?[jt]s$/.test(file),
    );
    assert.deepEqual(leaked, []);
    const typescriptSources = files.filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"));
    assert.deepEqual(typescriptSources, [], "the package ships compiled JavaScript only");
  });

  test("node_modules holds no development-only dependency (typescript, @biomejs/biome, ...)", async () => {
    const devOnly = await devOnlyDependencies();
    for (const expected of ["typescript", "@biomejs/biome"]) {
      assert.ok(devOnly.includes(expected), `${expected} should be a development-only dependency`);
    }
    const present = new Set(
      (await readdir(join(pkg.installDir, "node_modules"), { recursive: true }))
        .map((path) => path.split("/"))
        .map((parts) => (parts[0]?.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? ""))),
    );
    assert.ok(present.has("fastify"), "production dependencies are installed");
    assert.deepEqual(
      devOnly.filter((name) => present.has(name)),
      [],
    );
  });

  test("`pullcheck certs` writes the CA, key and serving pair and prints only the base64 caBundle", async () => {
    assert.equal(certs.code, 0, describeRun("pullcheck certs", certs));
    assert.deepEqual(await readdir(certsDir).then((names) => names.sort()), [
      "ca.crt",
      "ca.key",
      "tls.crt",
      "tls.key",
    ]);
    const caPem = await readFile(join(certsDir, "ca.crt"), "utf8");
    assert.equal(certs.stdout, `${Buffer.from(caPem).toString("base64")}\n`);
  });

  test("`pullcheck serve` listens on loopback with the generated certificate and reports ready", async () => {
    const configPath = join(workDir, "config.yaml");
    await writeFile(
      configPath,
      [
        "mode: enforce",
        "listen: { host: 127.0.0.1, port: 8443 }",
        `tls: { certFile: ${JSON.stringify(join(certsDir, "tls.crt"))}, keyFile: ${JSON.stringify(join(certsDir, "tls.key"))} }`,
        `audit: { file: ${JSON.stringify(auditFile())} }`,
        "",
      ].join("\n"),
    );
    // A Pod without imagePullSecrets needs no API read, so the API server may be unreachable.
    const kubeconfigPath = join(workDir, "dummy.kubeconfig");
    await writeFile(
      kubeconfigPath,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters: [{ name: none, cluster: { server: 'https://127.0.0.1:1' } }]",
        "users: [{ name: none, user: { token: not-a-token } }]",
        "contexts: [{ name: none, context: { cluster: none, user: none } }]",
        "current-context: none",
        "",
      ].join("\n"),
    );
    served = await startServe(
      pkg.bin,
      ["--config", configPath, "--kubeconfig", kubeconfigPath, "--port", "0"],
      workDir,
    );
    assert.match(served.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(served.url, "https://127.0.0.1:8443", "--port 0 overrides listen.port");

    const ready = await fetch(`${served.url}/readyz`, { dispatcher: trusting });
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: "ready" });

    await assert.rejects(
      fetch(`${served.url}/readyz`, { dispatcher: untrusting }),
      "a client that does not trust the generated CA is refused",
    );
  });

  const admissions = [
    {
      name: "POST /validate in config mode enforce denies an invalid reference",
      path: "/validate",
      allowed: false,
      expectDenyMessage: true,
      expectWarning: false,
      auditDecision: "denied",
    },
    {
      name: "POST /validate/warn allows it with a warning",
      path: "/validate/warn",
      allowed: true,
      expectDenyMessage: false,
      expectWarning: true,
      auditDecision: "warned",
    },
    {
      name: "POST /validate/off allows it without looking",
      path: "/validate/off",
      allowed: true,
      expectDenyMessage: false,
      expectWarning: false,
      auditDecision: null,
    },
  ] as const;
  const uids = new Map<string, string>();

  for (const c of admissions) {
    test(c.name, async () => {
      assert.ok(served, "the server started");
      const uid = randomUUID();
      uids.set(c.path, uid);
      const response = await fetch(`${served.url}${c.path}`, {
        dispatcher: trusting,
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(admissionReview(uid, "UPPER/Case:x")),
      });
      assert.equal(response.status, 200);
      const body = (await response.json()) as AdmissionResponseBody;
      assert.equal(body.apiVersion, "admission.k8s.io/v1");
      assert.equal(body.kind, "AdmissionReview");
      assert.equal(body.response?.uid, uid);
      assert.equal(body.response?.allowed, c.allowed);
      const message = body.response?.status?.message ?? "";
      if (c.expectDenyMessage) assert.match(message, /invalid-reference/);
      else assert.equal(message, "");
      const warnings = body.response?.warnings ?? [];
      if (c.expectWarning) {
        assert.equal(warnings.length, 1, JSON.stringify(warnings));
        assert.match(warnings[0] ?? "", /invalid-reference/);
      } else {
        assert.deepEqual(warnings, []);
      }
    });
  }

  test("SIGTERM stops the server cleanly (exit 0) and flushes one audit line per denied or warned admission", async () => {
    assert.ok(served, "the server started");
    served.child.kill("SIGTERM");
    const exit = await withTimeout(served.exited, 5_000, "shutdown after SIGTERM");
    assert.deepEqual(exit, { code: 0, signal: null }, served.logLines.join("\n"));

    const records = (await readFile(auditFile(), "utf8"))
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { uid?: string; decision?: string; mode?: string });
    for (const c of admissions) {
      const uid = uids.get(c.path);
      const matching = records.filter((record) => record.uid === uid);
      if (c.auditDecision === null) assert.deepEqual(matching, [], `${c.path} writes no audit line`);
      else
        assert.deepEqual(
          matching.map((record) => record.decision),
          [c.auditDecision],
          c.path,
        );
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The kustomize manifests

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

interface SelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  values?: string[];
}

interface Webhook {
  name: string;
  clientConfig: {
    service?: { name: string; namespace: string; path?: string; port?: number };
    caBundle?: string;
  };
  namespaceSelector?: { matchLabels?: Record<string, string>; matchExpressions?: SelectorRequirement[] };
  rules: { apiGroups: string[]; apiVersions: string[]; resources: string[]; operations: string[] }[];
  failurePolicy?: string;
  sideEffects?: string;
  admissionReviewVersions?: string[];
  matchPolicy?: string;
  timeoutSeconds?: number;
}

/** Label selector semantics as the API server applies them (NotIn and DoesNotExist match a missing key). */
function selectorMatches(selector: Webhook["namespaceSelector"], labels: Record<string, string>): boolean {
  const byLabel = Object.entries(selector?.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const byExpression = (selector?.matchExpressions ?? []).every((requirement) => {
    const value = labels[requirement.key];
    const values = requirement.values ?? [];
    switch (requirement.operator) {
      case "In":
        return value !== undefined && values.includes(value);
      case "NotIn":
        return value === undefined || !values.includes(value);
      case "Exists":
        return value !== undefined;
      case "DoesNotExist":
        return value === undefined;
    }
    return false;
  });
  return byLabel && byExpression;
}

async function render(dir: string): Promise<K8sObject[]> {
  const rendered = await run("kubectl", ["kustomize", join(REPO_ROOT, dir)], {
    cwd: REPO_ROOT,
    timeoutMs: 60_000,
  });
  assert.equal(rendered.code, 0, describeRun(`kubectl kustomize ${dir}`, rendered));
  return parseAllDocuments(rendered.stdout).map((doc) => doc.toJS() as K8sObject);
}

function only<T extends K8sObject>(objects: readonly K8sObject[], kind: string, name?: string): T {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(
    found.length,
    1,
    `expected exactly one ${kind}${name ? ` ${name}` : ""}, found ${found.length}`,
  );
  return found[0] as T;
}

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string }[];
  ports?: { name?: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string }[];
  securityContext?: Record<string, unknown>;
}

interface Deployment extends K8sObject {
  spec: {
    replicas: number;
    template: {
      spec: {
        serviceAccountName: string;
        automountServiceAccountToken?: boolean;
        securityContext?: { runAsUser?: number; runAsNonRoot?: boolean; seccompProfile?: { type: string } };
        containers: Container[];
        volumes: { name: string; configMap?: { name: string }; secret?: { secretName: string } }[];
      };
    };
  };
}

/** The config file the Deployment's pod reads: PULLCHECK_CONFIG resolved through its volume mounts. */
function mountedConfig(objects: readonly K8sObject[]): {
  text: string;
  deployment: Deployment;
  container: Container;
} {
  const deployment = only<Deployment>(objects, "Deployment", "pullcheck");
  const container = deployment.spec.template.spec.containers[0] as Container;
  const configPath = container.env?.find((e) => e.name === "PULLCHECK_CONFIG")?.value ?? "";
  const mount = container.volumeMounts?.find((m) => configPath.startsWith(`${m.mountPath}/`));
  assert.ok(mount, `PULLCHECK_CONFIG=${configPath} lies under a volume mount`);
  const volume = deployment.spec.template.spec.volumes.find((v) => v.name === mount.name);
  assert.ok(volume?.configMap, `volume ${mount.name} is a ConfigMap`);
  const configMap = only<K8sObject & { data: Record<string, string> }>(
    objects,
    "ConfigMap",
    volume.configMap.name,
  );
  const text = configMap.data[configPath.slice(mount.mountPath.length + 1)];
  assert.ok(text !== undefined, `ConfigMap ${volume.configMap.name} has the key PULLCHECK_CONFIG names`);
  return { text, deployment, container };
}

const KUSTOMIZATIONS = [
  { dir: "manifests", mode: "enforce" },
  { dir: "manifests/base", mode: "enforce" },
  { dir: "manifests/overlays/enforce", mode: "enforce" },
  { dir: "manifests/overlays/warn", mode: "warn" },
] as const;

describe("the kustomize manifests", () => {
  const rendered = new Map<string, K8sObject[]>();

  before(async () => {
    for (const k of KUSTOMIZATIONS) rendered.set(k.dir, await render(k.dir));
  });
  const objectsOf = (dir: string): K8sObject[] => rendered.get(dir) ?? assert.fail(`${dir} was not rendered`);

  for (const k of KUSTOMIZATIONS) {
    test(`${k.dir} renders a pod whose mounted config is valid, in mode ${k.mode}, and serves TLS from the mounted Secret`, () => {
      const objects = objectsOf(k.dir);
      const { text, deployment, container } = mountedConfig(objects);
      const validation = validateConfig(parseYaml(text));
      assert.ok(validation.ok, validation.ok ? "" : validation.problems.join("; "));
      const config = validation.config;
      assert.equal(config.mode, k.mode);

      const tlsVolume = deployment.spec.template.spec.volumes.find(
        (v) => v.secret?.secretName === "pullcheck-tls",
      );
      const tlsMount = container.volumeMounts?.find((m) => m.name === tlsVolume?.name);
      assert.ok(tlsMount, "the Secret pullcheck-tls is mounted");
      assert.equal(config.tls.certFile, `${tlsMount.mountPath}/tls.crt`);
      assert.equal(config.tls.keyFile, `${tlsMount.mountPath}/tls.key`);

      const webhooks = only<K8sObject & { webhooks: Webhook[] }>(
        objects,
        "ValidatingWebhookConfiguration",
      ).webhooks;
      for (const webhook of webhooks) {
        assert.ok(
          config.timeoutMs < (webhook.timeoutSeconds ?? 10) * 1000,
          `${webhook.name}: timeoutMs ${config.timeoutMs} answers before timeoutSeconds ${webhook.timeoutSeconds}`,
        );
      }

      // API server -> Service 443 -> the container port the config listens on.
      const service = only<K8sObject & { spec: { ports: { port: number; targetPort: number | string }[] } }>(
        objects,
        "Service",
        "pullcheck",
      );
      for (const webhook of webhooks) {
        assert.equal(webhook.clientConfig.service?.name, service.metadata.name);
        assert.equal(webhook.clientConfig.service?.namespace, service.metadata.namespace);
        const port = service.spec.ports.find((p) => p.port === (webhook.clientConfig.service?.port ?? 443));
        assert.ok(port, `${webhook.name}: the Service exposes the webhook's port`);
        const containerPort = container.ports?.find(
          (p) => p.name === port.targetPort || p.containerPort === port.targetPort,
        );
        assert.equal(containerPort?.containerPort, config.listen.port);
      }
    });
  }

  test("the staging overlay's config differs from the base's only in mode", () => {
    const base = parseYaml(mountedConfig(objectsOf("manifests/base")).text) as Record<string, unknown>;
    const warn = parseYaml(mountedConfig(objectsOf("manifests/overlays/warn")).text) as Record<
      string,
      unknown
    >;
    assert.notEqual(base.mode, warn.mode);
    assert.deepEqual({ ...warn, mode: base.mode }, base);
  });

  const namespaces: { name: string; ns: string; labels: Record<string, string>; webhook: string | null }[] = [
    { name: "a namespace without the label", ns: "shop", labels: {}, webhook: "default.pullcheck.dev" },
    {
      name: "a namespace labelled enforce",
      ns: "shop",
      labels: { "pullcheck.dev/mode": "enforce" },
      webhook: "enforce.pullcheck.dev",
    },
    {
      name: "a namespace labelled warn",
      ns: "shop",
      labels: { "pullcheck.dev/mode": "warn" },
      webhook: "warn.pullcheck.dev",
    },
    { name: "a namespace labelled off", ns: "shop", labels: { "pullcheck.dev/mode": "off" }, webhook: null },
    {
      name: "a namespace with a typo'd label",
      ns: "shop",
      labels: { "pullcheck.dev/mode": "Enforce" },
      webhook: "default.pullcheck.dev",
    },
    { name: "kube-system", ns: "kube-system", labels: {}, webhook: null },
    {
      name: "kube-public labelled enforce",
      ns: "kube-public",
      labels: { "pullcheck.dev/mode": "enforce" },
      webhook: null,
    },
    { name: "kube-node-lease", ns: "kube-node-lease", labels: {}, webhook: null },
    { name: "pullcheck's own namespace", ns: "pullcheck-system", labels: {}, webhook: null },
  ];
  const expectedPaths: Record<string, string> = {
    "enforce.pullcheck.dev": "/validate/enforce",
    "warn.pullcheck.dev": "/validate/warn",
    "default.pullcheck.dev": "/validate",
  };

  for (const c of namespaces) {
    test(`${c.name} is routed to ${c.webhook ? `${c.webhook} (${expectedPaths[c.webhook]})` : "no webhook"}`, () => {
      const webhooks = only<K8sObject & { webhooks: Webhook[] }>(
        objectsOf("manifests"),
        "ValidatingWebhookConfiguration",
      ).webhooks;
      // The API server sets kubernetes.io/metadata.name on every namespace.
      const labels = { ...c.labels, "kubernetes.io/metadata.name": c.ns };
      const called = webhooks.filter((w) => selectorMatches(w.namespaceSelector, labels));
      assert.deepEqual(
        called.map((w) => w.name),
        c.webhook ? [c.webhook] : [],
      );
      if (c.webhook) assert.equal(called[0]?.clientConfig.service?.path, expectedPaths[c.webhook]);
    });
  }

  test("every webhook sees CREATE and UPDATE of each kind PRODUCT.md lists, fails open, and carries no caBundle", () => {
    const webhooks = only<K8sObject & { webhooks: Webhook[] }>(
      objectsOf("manifests"),
      "ValidatingWebhookConfiguration",
    ).webhooks;
    assert.equal(webhooks.length, 3);
    const expected = [
      "/v1/pods",
      "/v1/pods/ephemeralcontainers",
      "/v1/replicationcontrollers",
      "apps/v1/daemonsets",
      "apps/v1/deployments",
      "apps/v1/replicasets",
      "apps/v1/statefulsets",
      "batch/v1/cronjobs",
      "batch/v1/jobs",
    ];
    for (const webhook of webhooks) {
      const covered = webhook.rules.flatMap((rule) => {
        assert.deepEqual([...rule.operations].sort(), ["CREATE", "UPDATE"], webhook.name);
        return rule.apiGroups.flatMap((group) =>
          rule.apiVersions.flatMap((version) =>
            rule.resources.map((resource) => `${group}/${version}/${resource}`),
          ),
        );
      });
      assert.deepEqual(covered.sort(), expected, webhook.name);
      assert.equal(webhook.failurePolicy, "Ignore", webhook.name);
      assert.equal(webhook.sideEffects, "None", webhook.name);
      assert.equal(webhook.matchPolicy, "Equivalent", webhook.name);
      assert.deepEqual(webhook.admissionReviewVersions, ["v1"], webhook.name);
      // A value in the manifests would overwrite the one install-certs.sh set on every re-apply.
      assert.equal(webhook.clientConfig.caBundle, undefined, webhook.name);
    }
  });

  test("RBAC grants get on secrets and serviceaccounts and nothing else, to pullcheck's ServiceAccount", () => {
    const objects = objectsOf("manifests");
    const role = only<K8sObject & { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }>(
      objects,
      "ClusterRole",
    );
    const grants = role.rules.flatMap((rule) =>
      rule.apiGroups.flatMap((group) =>
        rule.resources.flatMap((resource) => rule.verbs.map((verb) => `${verb} ${group}/${resource}`)),
      ),
    );
    assert.deepEqual(grants.sort(), ["get /secrets", "get /serviceaccounts"]);
    const binding = only<
      K8sObject & { roleRef: { name: string }; subjects: { kind: string; name: string; namespace: string }[] }
    >(objects, "ClusterRoleBinding");
    const deployment = only<Deployment>(objects, "Deployment");
    assert.equal(binding.roleRef.name, role.metadata.name);
    assert.deepEqual(binding.subjects, [
      {
        kind: "ServiceAccount",
        name: deployment.spec.template.spec.serviceAccountName,
        namespace: deployment.metadata.namespace,
      },
    ]);
    assert.notEqual(
      deployment.spec.template.spec.automountServiceAccountToken,
      false,
      "the pod needs its token",
    );
  });

  test("the Deployment runs the image the way the Dockerfile builds it", async () => {
    const dockerfile = await readFile(join(REPO_ROOT, "Dockerfile"), "utf8");
    const manifest = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")) as {
      bin: Record<string, string>;
    };
    const deployment = only<Deployment>(objectsOf("manifests"), "Deployment");
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0] as Container;

    const user = /^USER (\d+):(\d+)$/m.exec(dockerfile);
    assert.equal(Number(user?.[1]), pod.securityContext?.runAsUser, "Dockerfile USER = runAsUser");
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.equal(pod.securityContext?.seccompProfile?.type, "RuntimeDefault");
    assert.deepEqual(container.securityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });

    const exposed = /^EXPOSE (\d+)$/m.exec(dockerfile);
    assert.equal(Number(exposed?.[1]), container.ports?.[0]?.containerPort, "EXPOSE = containerPort");
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile);
    assert.deepEqual(JSON.parse(entrypoint?.[1] ?? "[]"), ["node", `/app/${manifest.bin.pullcheck}`]);
    assert.deepEqual(container.args, ["serve"]);
    assert.match(dockerfile, /^FROM \$\{NODE_IMAGE\}/m);
    assert.match(dockerfile, /^ARG NODE_IMAGE=node:24-bookworm-slim$/m, "the base image pins Node 24");
  });
});

// ---------------------------------------------------------------------------------------------
// scripts/install-certs.sh against a real API server

describe("scripts/install-certs.sh on a cluster where the manifests were applied", () => {
  let cluster: Cluster;
  let pkg: Installed;
  let certsDir: string;

  const kubectl = async (args: string[]): Promise<string> => {
    const result = await cluster.kubectl(args);
    assert.equal(result.code, 0, `kubectl ${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  };
  const installCerts = () =>
    run("bash", [join(REPO_ROOT, "scripts/install-certs.sh")], {
      cwd: REPO_ROOT,
      env: childEnv({ KUBECONFIG: cluster.kubeconfig, PULLCHECK: pkg.bin, PULLCHECK_CERTS_DIR: certsDir }),
      timeoutMs: 120_000,
    });
  const caBundles = async (): Promise<string[]> =>
    (
      await kubectl([
        "get",
        "validatingwebhookconfiguration",
        "pullcheck",
        "-o",
        'go-template={{range .webhooks}}{{.clientConfig.caBundle}}{{"\\n"}}{{end}}',
      ])
    )
      .split("\n")
      .filter((line) => line !== "");
  const caBundleOnDisk = async () => Buffer.from(await readFile(join(certsDir, "ca.crt"))).toString("base64");

  before(async () => {
    [cluster, pkg] = await Promise.all([startCluster(), installPackage()]);
    certsDir = join(harnessTempDir("install-certs"), "certs");
  });

  after(async () => {
    await cluster?.stop();
  });

  test("the API server accepts every object of `kubectl apply -k manifests/` (strict field validation)", async () => {
    const applied = await cluster.kubectl(["apply", "--validate=strict", "-k", join(REPO_ROOT, "manifests")]);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(
      applied.stdout,
      /validatingwebhookconfiguration\.admissionregistration\.k8s\.io\/pullcheck created/,
    );
    assert.match(applied.stdout, /deployment\.apps\/pullcheck created/);
  });

  test("both overlays pass a server-side dry run (the warn overlay changes only the config)", async () => {
    for (const overlay of ["overlays/enforce", "overlays/warn"]) {
      const dryRun = await cluster.kubectl([
        "apply",
        "--dry-run=server",
        "--validate=strict",
        "-k",
        join(REPO_ROOT, "manifests", overlay),
      ]);
      assert.equal(dryRun.code, 0, `${overlay}: ${dryRun.stderr}`);
      assert.match(
        dryRun.stdout,
        /configmap\/pullcheck-config-\w+ (created|configured|unchanged) \(server dry run\)/,
      );
    }
  });

  test("pullcheck's ServiceAccount may get secrets and serviceaccounts in any namespace, but not list them", async () => {
    const as = "--as=system:serviceaccount:pullcheck-system:pullcheck";
    const cases = [
      { args: ["get", "secrets", "-n", "default"], allowed: "yes" },
      { args: ["get", "serviceaccounts", "-n", "kube-system"], allowed: "yes" },
      { args: ["list", "secrets", "-n", "default"], allowed: "no" },
      { args: ["watch", "secrets", "-n", "default"], allowed: "no" },
      { args: ["get", "namespaces"], allowed: "no" },
      { args: ["get", "pods", "-n", "default"], allowed: "no" },
    ];
    for (const c of cases) {
      const result = await cluster.kubectl(["auth", "can-i", as, ...c.args]);
      assert.equal(result.stdout.trim(), c.allowed, `can-i ${c.args.join(" ")}: ${result.stderr}`);
    }
  });

  test("it creates the Secret pullcheck-tls and sets the CA as caBundle of all three webhooks", async () => {
    const result = await installCerts();
    assert.equal(result.code, 0, describeRun("install-certs.sh", result));
    const secret = JSON.parse(
      await kubectl(["-n", "pullcheck-system", "get", "secret", "pullcheck-tls", "-o", "json"]),
    ) as {
      type: string;
      data: Record<string, string>;
    };
    assert.equal(secret.type, "kubernetes.io/tls");
    assert.equal(
      secret.data["tls.crt"],
      Buffer.from(await readFile(join(certsDir, "tls.crt"))).toString("base64"),
    );
    assert.deepEqual(await caBundles(), Array(3).fill(await caBundleOnDisk()));
  });

  test("running it again renews the serving certificate but keeps the CA, and re-applying keeps the caBundle", async () => {
    const firstCert = await readFile(join(certsDir, "tls.crt"), "utf8");
    const bundle = await caBundleOnDisk();
    const again = await installCerts();
    assert.equal(again.code, 0, describeRun("install-certs.sh (again)", again));
    assert.notEqual(await readFile(join(certsDir, "tls.crt"), "utf8"), firstCert);
    assert.equal(await caBundleOnDisk(), bundle);

    const reapplied = await cluster.kubectl(["apply", "-k", join(REPO_ROOT, "manifests")]);
    assert.equal(reapplied.code, 0, reapplied.stderr);
    assert.deepEqual(await caBundles(), Array(3).fill(bundle));
  });
});
