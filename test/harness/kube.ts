import { type ChildProcess, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { harnessRequest } from "./http.ts";
import { freePort, type PortAttempt, withFreePort } from "./ports.ts";
import { forgetDirectory, reapOnExit, removeOnExit } from "./reaper.ts";
import { makeCa, makeServerCert } from "./tls.ts";

/**
 * A real kube-apiserver + etcd on loopback, started the way controller-runtime's envtest does
 * (no kubelet, no controller manager). Binaries come from scripts/build-kube.sh.
 */

export interface KubectlResult {
  /** Exit code; 124 when the harness killed kubectl after `timeoutMs` (as timeout(1) does). */
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubectlOptions {
  input?: string;
  kubeconfig?: string;
  timeoutMs?: number;
}

export interface Cluster {
  /** Temp dir holding certs, kubeconfigs, the etcd data and the logs. */
  readonly dir: string;
  /** https://127.0.0.1:PORT */
  readonly server: string;
  /** Admin kubeconfig (bearer token of a user in system:masters). */
  readonly kubeconfig: string;
  /** CA of the apiserver's serving certificate. */
  readonly caFile: string;
  /** Process ids (and process-group ids) of the two servers. */
  readonly pids: { readonly etcd: number; readonly apiserver: number };
  kubectl(args: string[], opts?: KubectlOptions): Promise<KubectlResult>;
  /** Kubeconfig for a ServiceAccount (token from `kubectl create token`), e.g. to run the webhook as its own SA. */
  kubeconfigFor(namespace: string, serviceAccount: string): Promise<string>;
  /** Kills apiserver and etcd (whole process groups); removes `dir` unless KEEP_CLUSTER=1. */
  stop(): Promise<void>;
}

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const START_TIMEOUT_MS = Number(process.env.KUBE_START_TIMEOUT_MS ?? 120_000);
const KUBECTL = process.env.KUBECTL ?? "kubectl";
/** Keep the cluster's directory (certs, kubeconfigs, logs, etcd data) after stop(), for debugging. */
const KEEP_CLUSTER = process.env.KEEP_CLUSTER === "1";
const SERVICE_CIDR = "10.0.0.0/24";
const SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local";

// ---------------------------------------------------------------------------------------------
// Binaries

let binaries: Promise<{ apiserver: string; etcd: string }> | undefined;

/** Builds (or finds in the cache) kube-apiserver and etcd; the build's progress goes to stderr. */
export function kubeBinaries(): Promise<{ apiserver: string; etcd: string }> {
  binaries ??= runBuildScript().then(
    (binDir) => ({ apiserver: join(binDir, "kube-apiserver"), etcd: join(binDir, "etcd") }),
    (error: unknown) => {
      binaries = undefined; // let a later caller try again
      throw error;
    },
  );
  return binaries;
}

function runBuildScript(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [join(REPO_ROOT, "scripts/build-kube.sh")], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => {
      const binDir = stdout.trim().split("\n").at(-1)?.trim();
      if (code === 0 && binDir) resolve(binDir);
      else reject(new Error(`scripts/build-kube.sh failed (exit ${code}); its output is above`));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Pure pieces: command lines and kubeconfig files

interface EtcdPlan {
  dataDir: string;
  clientPort: number;
  peerPort: number;
}

function etcdArgs(plan: EtcdPlan): string[] {
  const client = `http://127.0.0.1:${plan.clientPort}`;
  const peer = `http://127.0.0.1:${plan.peerPort}`;
  return [
    "--name=default",
    `--data-dir=${plan.dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    // Throwaway data: skipping fsync keeps a busy test machine from stalling on disk.
    "--unsafe-no-fsync=true",
    "--log-level=warn",
  ];
}

interface ApiserverPlan {
  dir: string;
  etcdUrl: string;
  securePort: number;
  files: ClusterFiles;
}

function apiserverArgs(plan: ApiserverPlan): string[] {
  const { files } = plan;
  return [
    `--etcd-servers=${plan.etcdUrl}`,
    "--bind-address=127.0.0.1",
    // Without it the apiserver looks for a non-loopback interface to advertise.
    "--advertise-address=127.0.0.1",
    `--secure-port=${plan.securePort}`,
    // The endpoint reconciler refuses a loopback advertise address; no pod needs the
    // kubernetes Service endpoints here.
    "--endpoint-reconciler-type=none",
    `--cert-dir=${join(plan.dir, "apiserver-certs")}`,
    `--tls-cert-file=${files.servingCert}`,
    `--tls-private-key-file=${files.servingKey}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    "--authorization-mode=RBAC",
    `--token-auth-file=${files.tokenAuth}`,
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
    `--service-account-key-file=${files.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${files.serviceAccountPrivateKey}`,
    "--allow-privileged=true",
    "--profiling=false",
    // The default plugin set stays on (ServiceAccount, ValidatingAdmissionWebhook, ...).
  ];
}

interface KubeconfigUser {
  name: string;
  token: string;
}

/** A kubeconfig (JSON is valid YAML) that verifies the server against `caFile`. */
function kubeconfigText(server: string, caFile: string, user: KubeconfigUser): string {
  return `${JSON.stringify(
    {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "pullcheck-e2e", cluster: { server, "certificate-authority": caFile } }],
      users: [{ name: user.name, user: { token: user.token } }],
      contexts: [{ name: user.name, context: { cluster: "pullcheck-e2e", user: user.name } }],
      "current-context": user.name,
    },
    null,
    2,
  )}\n`;
}

function lastLines(text: string, count: number): string {
  const lines = text.trimEnd().split("\n");
  return lines.slice(-count).join("\n");
}

// ---------------------------------------------------------------------------------------------
// Files: CA, serving cert, admin token, service-account keys

interface ClusterFiles {
  caFile: string;
  servingCert: string;
  servingKey: string;
  tokenAuth: string;
  adminToken: string;
  serviceAccountPublicKey: string;
  serviceAccountPrivateKey: string;
}

function writeClusterFiles(dir: string): ClusterFiles {
  const ca = makeCa({ commonName: "pullcheck e2e kube CA" });
  const serving = makeServerCert(ca, {
    commonName: "kube-apiserver",
    ips: ["127.0.0.1", "10.0.0.1"],
    dnsNames: ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"],
  });
  const serviceAccountKeys = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const adminToken = randomBytes(24).toString("hex");
  const files: ClusterFiles = {
    caFile: join(dir, "ca.crt"),
    servingCert: join(dir, "apiserver.crt"),
    servingKey: join(dir, "apiserver.key"),
    tokenAuth: join(dir, "tokens.csv"),
    adminToken,
    serviceAccountPublicKey: join(dir, "sa.pub"),
    serviceAccountPrivateKey: join(dir, "sa.key"),
  };
  writeFileSync(files.caFile, ca.certPem);
  writeFileSync(files.servingCert, serving.certPem);
  writeFileSync(files.servingKey, serving.keyPem, { mode: 0o600 });
  // token,user,uid,"group1,group2"
  writeFileSync(files.tokenAuth, `${adminToken},pullcheck-admin,pullcheck-admin,"system:masters"\n`, {
    mode: 0o600,
  });
  writeFileSync(
    files.serviceAccountPublicKey,
    serviceAccountKeys.publicKey.export({ type: "spki", format: "pem" }),
  );
  writeFileSync(
    files.serviceAccountPrivateKey,
    serviceAccountKeys.privateKey.export({ type: "pkcs8", format: "pem" }),
    { mode: 0o600 },
  );
  return files;
}

// ---------------------------------------------------------------------------------------------
// Processes

// The process-group leader is a shell that execs the server (same pid) after leaving a
// watcher on our stdin pipe: if this process dies without running exit hooks (SIGKILL,
// a crash), the pipe closes and the watcher kills the whole group.
const WRAPPER = 'exec 3<&0; (read _ <&3; kill -KILL -$$ 2>/dev/null) & exec 3<&-; exec "$@"';

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is already gone
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Pids of the processes in group `pgid` that are still running. Zombies do not count: a
 * watcher orphaned by its server is reaped by init whenever init gets to it, and it holds no
 * port or file. Reads /proc (Linux only, like the rest of the e2e setup).
 */
export function runningProcessesInGroup(pgid: number): number[] {
  const running: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) === pgid && fields[0] !== "Z") running.push(Number(entry));
  }
  return running;
}

interface ServerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
  logTail(): string;
  stop(): Promise<void>;
}

function launch(binary: string, args: string[], logFile: string): ServerProcess {
  const logFd = openSync(logFile, "a");
  const child = spawn("sh", ["-c", WRAPPER, "sh", binary, ...args], {
    detached: true,
    stdio: ["pipe", logFd, logFd],
  });
  closeSync(logFd);
  reapOnExit(child, (c) => killGroup(c, "SIGKILL"));
  child.once("error", (error) =>
    writeFileSync(logFile, `harness: spawn failed: ${error.message}\n`, { flag: "a" }),
  );
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  const pid = child.pid ?? -1;

  const stop = async (): Promise<void> => {
    // A graceful shutdown costs 2-3 s per server and only matters when someone will read the
    // logs and data afterwards; otherwise everything is thrown away.
    if (KEEP_CLUSTER) {
      killGroup(child, "SIGTERM");
      if (!(await waitForExit(child, 10_000))) killGroup(child, "SIGKILL");
    } else {
      killGroup(child, "SIGKILL");
    }
    await waitForExit(child, 5_000);
    // The watcher shares the group; wait until nothing of it is left running.
    for (let i = 0; i < 50 && pid > 0 && runningProcessesInGroup(pid).length > 0; i++) {
      killGroup(child, "SIGKILL");
      await sleep(40);
    }
  };
  const logTail = (): string => {
    try {
      return lastLines(readFileSync(logFile, "utf8"), 40);
    } catch {
      return "";
    }
  };
  return { child, pid, logFile, logTail, stop };
}

interface RunningServer {
  readonly server: ServerProcess;
  /** Where it answers: http://127.0.0.1:PORT for etcd, https://127.0.0.1:PORT for the apiserver. */
  readonly url: string;
}

/** Polls `probe` until it answers true, the process exits, or the deadline passes. */
async function waitUntilReady(
  server: ServerProcess,
  name: string,
  url: string,
  probe: () => Promise<boolean>,
): Promise<PortAttempt<RunningServer>> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let failure: string | undefined;
  while (failure === undefined) {
    if (hasExited(server.child)) {
      failure = `${name} exited early (code ${server.child.exitCode}, signal ${server.child.signalCode})`;
    } else if (Date.now() > deadline) {
      failure = `${name} was not ready at ${url} within ${START_TIMEOUT_MS} ms`;
    } else if (await probe().catch(() => false)) {
      return { ok: true, value: { server, url } };
    } else {
      await sleep(250);
    }
  }
  await server.stop();
  const tail = server.logTail();
  return {
    ok: false,
    portInUse: /address already in use/i.test(tail),
    error: new Error(`${failure}\n--- last lines of ${server.logFile} ---\n${tail}`),
  };
}

async function startEtcd(
  binary: string,
  dir: string,
  clientPort: number,
): Promise<PortAttempt<RunningServer>> {
  const plan = { dataDir: join(dir, "etcd-data"), clientPort, peerPort: await freePort() };
  rmSync(plan.dataDir, { recursive: true, force: true });
  const url = `http://127.0.0.1:${clientPort}`;
  const etcd = launch(binary, etcdArgs(plan), join(dir, "etcd.log"));
  return waitUntilReady(etcd, "etcd", url, async () => {
    const res = await harnessRequest({ url: `${url}/health`, timeoutMs: 2000 });
    return res.status === 200 && res.body.toString().includes('"true"');
  });
}

async function startApiserver(
  binary: string,
  plan: Omit<ApiserverPlan, "securePort">,
  securePort: number,
): Promise<PortAttempt<RunningServer>> {
  const url = `https://127.0.0.1:${securePort}`;
  const apiserver = launch(
    binary,
    apiserverArgs({ ...plan, securePort }),
    join(plan.dir, "kube-apiserver.log"),
  );
  const caPem = readFileSync(plan.files.caFile, "utf8");
  return waitUntilReady(apiserver, "kube-apiserver", url, async () => {
    const res = await harnessRequest({
      url: `${url}/readyz`,
      headers: { authorization: `Bearer ${plan.files.adminToken}` },
      caPem,
      timeoutMs: 5000,
    });
    return res.status === 200;
  });
}

// ---------------------------------------------------------------------------------------------
// kubectl

function runKubectl(args: string[], input: string | undefined, timeoutMs: number): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(KUBECTL, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      if (timedOut) {
        resolve({ code: 124, stdout, stderr: `${stderr}harness: kubectl killed after ${timeoutMs} ms\n` });
      } else {
        resolve({ code: code ?? 128, stdout, stderr });
      }
    });
    child.stdin.on("error", () => {
      // kubectl may exit before reading its input; the exit code tells the story.
    });
    child.stdin.end(input ?? "");
  });
}

// ---------------------------------------------------------------------------------------------
// The cluster

/** Starts etcd and kube-apiserver on free loopback ports and waits for /readyz. */
export async function startCluster(): Promise<Cluster> {
  const bins = await kubeBinaries();
  const dir = mkdtempSync(join(tmpdir(), "pullcheck-kube-"));
  if (!KEEP_CLUSTER) removeOnExit(dir);
  const started: ServerProcess[] = [];
  try {
    const files = writeClusterFiles(dir);
    const etcd = await withFreePort((port) => startEtcd(bins.etcd, dir, port), 3);
    started.push(etcd.server);
    const apiserver = await withFreePort(
      (port) => startApiserver(bins.apiserver, { dir, etcdUrl: etcd.url, files }, port),
      3,
    );
    started.push(apiserver.server);
    const server = apiserver.url;
    const kubeconfig = join(dir, "admin.kubeconfig");
    writeFileSync(
      kubeconfig,
      kubeconfigText(server, files.caFile, { name: "admin", token: files.adminToken }),
      {
        mode: 0o600,
      },
    );
    return makeCluster({
      dir,
      server,
      kubeconfig,
      caFile: files.caFile,
      etcd: etcd.server,
      apiserver: apiserver.server,
    });
  } catch (error) {
    for (const running of started.reverse()) await running.stop();
    removeClusterDir(dir);
    throw error;
  }
}

function removeClusterDir(dir: string): void {
  forgetDirectory(dir);
  if (KEEP_CLUSTER) console.error(`KEEP_CLUSTER=1: cluster files and logs left in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

interface ClusterParts {
  dir: string;
  server: string;
  kubeconfig: string;
  caFile: string;
  etcd: ServerProcess;
  apiserver: ServerProcess;
}

function makeCluster(parts: ClusterParts): Cluster {
  const { dir, server, kubeconfig, caFile, etcd, apiserver } = parts;
  const cacheDir = join(dir, "kubectl-cache");
  let stopping: Promise<void> | undefined;

  const kubectl = (args: string[], opts: KubectlOptions = {}): Promise<KubectlResult> =>
    runKubectl(
      [`--kubeconfig=${opts.kubeconfig ?? kubeconfig}`, `--cache-dir=${cacheDir}`, ...args],
      opts.input,
      opts.timeoutMs ?? 60_000,
    );

  const kubeconfigFor = async (namespace: string, serviceAccount: string): Promise<string> => {
    const result = await kubectl(["create", "token", serviceAccount, "-n", namespace, "--duration=1h"]);
    if (result.code !== 0) {
      throw new Error(`kubectl create token ${serviceAccount} -n ${namespace} failed: ${result.stderr}`);
    }
    const name = `system:serviceaccount:${namespace}:${serviceAccount}`;
    const path = join(dir, `sa-${namespace}-${serviceAccount}.kubeconfig`);
    writeFileSync(path, kubeconfigText(server, caFile, { name, token: result.stdout.trim() }), {
      mode: 0o600,
    });
    return path;
  };

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await apiserver.stop();
      await etcd.stop();
      removeClusterDir(dir);
    })();
    return stopping;
  };

  return {
    dir,
    server,
    kubeconfig,
    caFile,
    pids: { etcd: etcd.pid, apiserver: apiserver.pid },
    kubectl,
    kubeconfigFor,
    stop,
  };
}
