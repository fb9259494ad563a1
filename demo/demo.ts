// The local demo: a real registry, a real kube-apiserver + etcd, and pullcheck serving
// as its own ServiceAccount behind the shipped ValidatingWebhookConfiguration. It applies
// a good and a bad Deployment in an enforce namespace and a bad one in a warn namespace,
// shows what kubectl printed and the audit lines, then cleans everything up.
// Run it with `bash scripts/demo.sh` (which installs and builds what is missing).
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { makeImage } from "../test/harness/images.ts";
import { type Cluster, startCluster } from "../test/harness/kube.ts";
import { startRegistry, type TestRegistry } from "../test/harness/registry.ts";
import { harnessTempDir } from "../test/harness/temp.ts";
import {
  applyObjects,
  issueWebhookCerts,
  registerWebhook,
  renderKustomization,
  startWebhook,
  type WebhookProcess,
} from "../test/harness/webhook.ts";

const REPO = new URL("..", import.meta.url).pathname;
const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const dim = (text: string) => (process.stdout.isTTY ? `\x1b[2m${text}\x1b[0m` : text);

function step(text: string): void {
  process.stdout.write(`\n${bold(`==> ${text}`)}\n`);
}

function show(command: string, result: { code: number; stdout: string; stderr: string }): void {
  process.stdout.write(`${dim(`$ ${command}`)}\n`);
  const output = `${result.stdout}${result.stderr}`.trim();
  if (output) process.stdout.write(`${output.replace(/^/gm, "  ")}\n`);
  process.stdout.write(dim(`  (exit ${result.code})\n`));
}

function deploymentYaml(namespace: string, name: string, image: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers: [{ name: app, image: "${image}" }]
`;
}

/** A namespace with its `default` ServiceAccount: this API server runs no controller manager to create it. */
async function createNamespace(on: Cluster, name: string, labels: Record<string, string>): Promise<void> {
  await applyObjects(on, [
    { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: name } },
  ]);
}

let cluster: Cluster | undefined;
let registry: TestRegistry | undefined;
let webhook: WebhookProcess | undefined;

async function main(): Promise<void> {
  step(
    "starting a registry (Distribution, plain HTTP on loopback) and a Kubernetes API server (kube-apiserver + etcd)",
  );
  [registry, cluster] = await Promise.all([startRegistry(), startCluster()]);
  const image = await makeImage("oci-index");
  await registry.push(image, "shop/web:1.0");
  process.stdout.write(`  registry ${registry.host} holds shop/web:1.0 (linux/amd64 + linux/arm64)\n`);
  process.stdout.write(`  API server ${cluster.server}\n`);

  step(
    "installing pullcheck's manifests (kustomize base) and starting the webhook as its own ServiceAccount",
  );
  const rendered = await renderKustomization(cluster, `${REPO}manifests/base`);
  const configuration = rendered.find((o) => o.kind === "ValidatingWebhookConfiguration");
  const configMap = rendered.find(
    (o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("pullcheck-config"),
  );
  if (!configuration || !configMap)
    throw new Error("manifests/base did not render the webhook configuration and config");
  await applyObjects(
    cluster,
    rendered.filter((o) => o !== configuration),
  );
  const shipped = parseYaml((configMap.data as Record<string, string>)["config.yaml"] ?? "") as Record<
    string,
    unknown
  >;
  const certs = await issueWebhookCerts(harnessTempDir("demo-certs"));
  webhook = await startWebhook({
    config: { ...shipped, registries: { [registry.host]: { insecure: true } } },
    kubeconfig: await cluster.kubeconfigFor("pullcheck-system", "pullcheck"),
    certs,
    dir: harnessTempDir("demo-webhook"),
  });
  await createNamespace(cluster, "pullcheck-probe", {});
  await registerWebhook(cluster, configuration, webhook, certs.caBundle, { namespace: "pullcheck-probe" });
  process.stdout.write(
    `  pullcheck serving at ${webhook.url}; ValidatingWebhookConfiguration "pullcheck" registered\n`,
  );

  step("namespaces: shop (pullcheck.dev/mode=enforce) and staging (pullcheck.dev/mode=warn)");
  for (const [ns, mode] of [
    ["shop", "enforce"],
    ["staging", "warn"],
  ] as const) {
    await cluster.kubectl(["create", "namespace", ns]);
    show(
      `kubectl label namespace ${ns} pullcheck.dev/mode=${mode}`,
      await cluster.kubectl(["label", "namespace", ns, `pullcheck.dev/mode=${mode}`]),
    );
  }

  const good = `${registry.host}/shop/web:1.0`;
  const bad = `${registry.host}/shop/web:1.1`;

  step(`a good Deployment in shop (image ${good}) is admitted`);
  show(
    "kubectl apply -f web.yaml",
    await cluster.kubectl(["apply", "-f", "-"], { input: deploymentYaml("shop", "web", good) }),
  );

  step(`a bad Deployment in shop (tag 1.1 was never pushed) is refused at apply time`);
  show(
    "kubectl apply -f web-v2.yaml",
    await cluster.kubectl(["apply", "-f", "-"], { input: deploymentYaml("shop", "web-v2", bad) }),
  );
  show("kubectl get deployments -n shop", await cluster.kubectl(["get", "deployments", "-n", "shop"]));

  step("the same bad Deployment in staging (warn) is created, with a Warning");
  show(
    "kubectl apply -f web-v2.yaml",
    await cluster.kubectl(["apply", "-f", "-"], { input: deploymentYaml("staging", "web-v2", bad) }),
  );

  step("the audit log (one JSON line per denied or warned admission)");
  // Audit lines are written asynchronously; wait for the last one before reading the file.
  await webhook.waitForAudit((line) => line.namespace === "staging" && line.decision === "warned");
  // (The registration probe's own record, in pullcheck-probe, is left out.)
  for (const line of webhook
    .auditLines()
    .filter((l) => l.decision !== "allowed" && l.namespace !== "pullcheck-probe")) {
    process.stdout.write(`  ${JSON.stringify(line)}\n`);
  }

  step("the same check from the CLI, as a CI pipeline would run it");
  // Plain HTTP must be configured, exactly as for the webhook.
  const config = join(harnessTempDir("demo-cli"), "config.yaml");
  writeFileSync(config, `registries: { "${registry.host}": { insecure: true } }\n`);
  process.stdout.write(dim(`$ pullcheck check --config config.yaml ${good} ${bad}\n`));
  const run = spawnSync(
    process.execPath,
    [`${REPO}dist/main.js`, "check", "--config", config, "--output", "table", good, bad],
    {
      encoding: "utf8",
    },
  );
  process.stdout.write(`${run.stdout.replace(/^/gm, "  ")}`);
  process.stdout.write(dim(`  (exit ${run.status}: 1 = at least one definite failure)\n`));
}

async function cleanup(): Promise<void> {
  step("cleaning up");
  await Promise.allSettled([webhook?.stop(), registry?.stop()]);
  await cluster?.stop();
  process.stdout.write("  done: no process left behind\n");
}

try {
  await main();
  await cleanup();
} catch (error) {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  await cleanup();
  process.exitCode = 1;
}
