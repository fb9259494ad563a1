import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { harnessRequest } from "./http.ts";
import type { Cluster, KubectlResult } from "./kube.ts";
import { startServe } from "./serve.ts";

/**
 * `pullcheck serve` as a child process, registered with a real kube-apiserver through the
 * ValidatingWebhookConfiguration that manifests/ ships, pointed at the process by URL (the
 * API server cannot reach a Service here). Everything else in that object (selectors, rules,
 * failurePolicy, timeouts) stays as shipped, so the tests exercise it.
 */

const execFileAsync = promisify(execFile);
const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

/** Node 24 (this process's own) runs the sources; nothing from the machine may pick pullcheck's config. */

// ---------------------------------------------------------------------------------------------
// Pure: manifests

/** A Kubernetes object as rendered by kustomize; only the fields the harness reads are typed. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

interface WebhookEntry {
  name: string;
  clientConfig: {
    service?: { name: string; namespace: string; path?: string; port?: number };
    url?: string;
    caBundle?: string;
  };
  [key: string]: unknown;
}

/** Parses multi-document YAML (kubectl kustomize output) into objects, skipping empty documents. */
export function parseManifests(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as KubeObject | null)
    .filter((object): object is KubeObject => object !== null && typeof object === "object");
}

/**
 * The shipped ValidatingWebhookConfiguration with every webhook's Service reference replaced
 * by `baseUrl` + the same path, and the caBundle set. Everything else is kept as it is.
 */
export function pointWebhooksAtUrl(configuration: KubeObject, baseUrl: string, caBundle: string): KubeObject {
  if (configuration.kind !== "ValidatingWebhookConfiguration") {
    throw new Error(`expected a ValidatingWebhookConfiguration, got ${configuration.kind}`);
  }
  const webhooks = (configuration.webhooks as WebhookEntry[]).map((webhook) => {
    const service = webhook.clientConfig.service;
    if (!service) throw new Error(`webhook ${webhook.name} has no clientConfig.service to replace`);
    return { ...webhook, clientConfig: { url: `${baseUrl}${service.path ?? "/"}`, caBundle } };
  });
  return { ...structuredClone(configuration), webhooks };
}

/** Reads one sample's value from Prometheus text, summing every labelled series of that name. */
export function metricTotal(text: string, name: string): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([A-Za-z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match?.[1] === name) total += Number(match[3]);
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// Certificates

export interface WebhookCerts {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
  /** base64 of ca.crt, as `pullcheck certs` prints it. */
  readonly caBundle: string;
}

/** Runs the real `pullcheck certs` for the shipped Service name plus IP 127.0.0.1. */
export async function issueWebhookCerts(dir: string): Promise<WebhookCerts> {
  const { stdout } = await execFileAsync(
    process.execPath,
    [
      MAIN,
      "certs",
      "--service",
      "pullcheck",
      "--namespace",
      "pullcheck-system",
      "--out",
      dir,
      "--ip",
      "127.0.0.1",
    ],
    { timeout: 60_000 },
  );
  const caBundle = stdout.trim().split("\n").at(-1)?.trim() ?? "";
  if (!caBundle) throw new Error("pullcheck certs printed no caBundle");
  return {
    certFile: join(dir, "tls.crt"),
    keyFile: join(dir, "tls.key"),
    caFile: join(dir, "ca.crt"),
    caBundle,
  };
}

// ---------------------------------------------------------------------------------------------
// The webhook process

/** One line of pullcheck's audit log. */
export interface AuditLine {
  event: string;
  uid: string;
  operation: string;
  dryRun: boolean;
  user: string;
  namespace: string;
  kind: string;
  name: string;
  mode: string;
  decision: "allowed" | "denied" | "warned";
  images: { container: string; image: string; result: string; message: string }[];
}

export interface WebhookProcess {
  /** https://127.0.0.1:PORT */
  readonly url: string;
  readonly configFile: string;
  readonly auditFile: string;
  /** What the process wrote to stderr so far (its JSON log). */
  log(): string;
  /** Admission reviews answered so far (every POST to a /validate route, allowed or not). */
  admissionRequests(): Promise<number>;
  /** Every audit line written so far. */
  auditLines(): AuditLine[];
  /** Polls the audit file until a line satisfies `match` (lines are written asynchronously). */
  waitForAudit(match: (line: AuditLine) => boolean, timeoutMs?: number): Promise<AuditLine>;
  /** SIGTERM (SIGKILL if it does not exit in time); resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface WebhookOptions {
  /** The config, without tls/listen/audit (the harness sets those). */
  readonly config: Record<string, unknown>;
  readonly kubeconfig: string;
  readonly certs: WebhookCerts;
  /** Where the config file and the audit log go. */
  readonly dir: string;
}

/** Starts `pullcheck serve` on 127.0.0.1 with a free port and waits for its "listening" line. */
export async function startWebhook(options: WebhookOptions): Promise<WebhookProcess> {
  const auditFile = join(options.dir, "audit.jsonl");
  const configFile = join(options.dir, "config.yaml");
  const config = {
    ...options.config,
    audit: { file: auditFile },
    listen: { host: "127.0.0.1", port: 0 },
    tls: { certFile: options.certs.certFile, keyFile: options.certs.keyFile },
  };
  // JSON is YAML.
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  writeFileSync(auditFile, "");

  const serve = await startServe(["--config", configFile, "--kubeconfig", options.kubeconfig, "--port", "0"]);
  const url = serve.url;

  const caPem = readFileSync(options.certs.caFile, "utf8");
  const auditLines = (): AuditLine[] =>
    readFileSync(auditFile, "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as AuditLine);

  return {
    url,
    configFile,
    auditFile,
    log: () => serve.log(),
    async admissionRequests() {
      const res = await harnessRequest({ url: `${url}/metrics`, caPem, timeoutMs: 5000 });
      if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
      return metricTotal(res.body.toString(), "pullcheck_admission_duration_seconds_count");
    },
    auditLines,
    async waitForAudit(match, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = auditLines().find(match);
        if (found) return found;
        if (Date.now() > deadline) {
          throw new Error(
            `no matching audit line within ${timeoutMs} ms; the file holds:\n${readFileSync(auditFile, "utf8")}`,
          );
        }
        await sleep(50);
      }
    },
    stop: () => serve.stop(),
  };
}

// ---------------------------------------------------------------------------------------------
// Registration with the API server

function mustSucceed(what: string, result: KubectlResult): string {
  if (result.code !== 0) throw new Error(`${what} failed (exit ${result.code}): ${result.stderr}`);
  return result.stdout;
}

/** `kubectl kustomize DIR`, parsed. */
export async function renderKustomization(cluster: Cluster, dir: string): Promise<KubeObject[]> {
  return parseManifests(mustSucceed(`kubectl kustomize ${dir}`, await cluster.kubectl(["kustomize", dir])));
}

/** `kubectl apply` of the given objects (as a v1 List). */
export async function applyObjects(cluster: Cluster, objects: readonly KubeObject[]): Promise<string> {
  const list = { apiVersion: "v1", kind: "List", items: objects };
  return mustSucceed(
    "kubectl apply",
    await cluster.kubectl(["apply", "-f", "-"], { input: JSON.stringify(list) }),
  );
}

export interface RegistrationProbe {
  /** A namespace the shipped selectors route to a webhook, holding a `default` ServiceAccount. */
  readonly namespace: string;
}

/**
 * Points the shipped webhook configuration at `webhook` and waits until the API server calls
 * it: the API server picks up configuration changes asynchronously, so server-side dry-run
 * probes are sent until the process's request counter moves.
 */
export async function registerWebhook(
  cluster: Cluster,
  configuration: KubeObject,
  webhook: WebhookProcess,
  caBundle: string,
  probe: RegistrationProbe,
): Promise<void> {
  await applyObjects(cluster, [pointWebhooksAtUrl(configuration, webhook.url, caBundle)]);
  const probePod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "registration-probe", namespace: probe.namespace },
    // An invalid reference: answered without any network lookup.
    spec: { containers: [{ name: "probe", image: "INVALID-probe-reference" }] },
  };
  const before = await webhook.admissionRequests();
  for (let attempt = 0; attempt < 100; attempt++) {
    await cluster.kubectl(["create", "--dry-run=server", "-f", "-"], { input: JSON.stringify(probePod) });
    if ((await webhook.admissionRequests()) > before) return;
    await sleep(100);
  }
  throw new Error(`the API server never called the webhook at ${webhook.url}`);
}
