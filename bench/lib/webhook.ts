/**
 * Servers for the webhook benchmarks, each a child process so the load generator does not
 * share their event loop: `pullcheck serve` from dist/ and the bare fastify baseline.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Agent, request } from "undici";
import { dummyKubeconfig } from "../../test/harness/serve.ts";
import { DIST_MAIN, type WebhookCertFiles, writeConfig } from "./fixtures.ts";

const START_TIMEOUT_MS = 30_000;
const BARE_SERVER = new URL("./bare-server.ts", import.meta.url).pathname;

export interface ServerProcess {
  /** https://127.0.0.1:PORT */
  readonly url: string;
  readonly pid: number;
  /** What the process wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM, SIGKILL after 10 s; resolves when it has exited. */
  stop(): Promise<void>;
}

/** Spawns `args`, resolves once `findUrl` finds the URL in its output. */
function startChild(
  what: string,
  args: readonly string[],
  findUrl: (stdout: string, stderr: string) => string | null,
): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    // Only the start-up line matters; the audit stream is not kept.
    if (stdout.length < 64 * 1024) stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    if (stderr.length < 1024 * 1024) stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${what} did not start within ${START_TIMEOUT_MS} ms:\n${stderr}`));
    }, START_TIMEOUT_MS);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before listening:\n${stderr}`));
    };
    child.once("exit", onExit);
    const look = () => {
      const url = findUrl(stdout, stderr);
      if (url === null) return;
      clearTimeout(timer);
      child.off("exit", onExit);
      child.stdout?.off("data", look);
      child.stderr?.off("data", look);
      resolve({ url, pid: child.pid as number, stderr: () => stderr, stop });
    };
    child.stdout?.on("data", look);
    child.stderr?.on("data", look);
  });
}

/** `node dist/main.js serve` on 127.0.0.1 with a free port; `config` without listen/tls. */
export async function startPullcheckServe(
  dir: string,
  certs: WebhookCertFiles,
  config: Record<string, unknown>,
): Promise<ServerProcess> {
  const configFile = await writeConfig(
    dir,
    {
      ...config,
      listen: { host: "127.0.0.1", port: 0 },
      tls: { certFile: certs.certFile, keyFile: certs.keyFile },
    },
    `serve-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`,
  );
  const kubeconfig = await dummyKubeconfig(dir);
  return startChild(
    "pullcheck serve",
    [DIST_MAIN, "serve", "--config", configFile, "--kubeconfig", kubeconfig],
    (_out, err) => {
      for (const line of err.split("\n")) {
        if (!line.includes('"pullcheck listening"')) continue;
        const url = (JSON.parse(line) as { url?: string }).url;
        if (url) return url;
      }
      return null;
    },
  );
}

/** The bare fastify baseline answering `responseBody` to every POST /validate. */
export async function startBareServer(
  dir: string,
  certs: WebhookCertFiles,
  responseBody: string,
  burnMicroseconds = 0,
): Promise<ServerProcess> {
  const responseFile = join(dir, "bare-response.json");
  await writeFile(responseFile, responseBody);
  return startChild(
    "bare fastify server",
    [BARE_SERVER, certs.certFile, certs.keyFile, responseFile, String(burnMicroseconds)],
    (out) => {
      const line = out.split("\n").find((l) => l.startsWith("https://"));
      return line ? line.trim() : null;
    },
  );
}

/** A keep-alive HTTPS client trusting the webhook CA, for single timed admissions. */
export function admissionClient(caFile: string, connections?: number) {
  const agent = new Agent({
    connect: { ca: readFileSync(caFile, "utf8") },
    ...(connections === undefined ? {} : { connections }),
  });
  return {
    async post(url: string, body: string): Promise<{ status: number; text: string }> {
      const response = await request(`${url}/validate`, {
        dispatcher: agent,
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      return { status: response.statusCode, text: await response.body.text() };
    },
    async get(url: string, path: string): Promise<number> {
      const response = await request(`${url}${path}`, { dispatcher: agent });
      await response.body.text();
      return response.statusCode;
    },
    close: () => agent.close(),
  };
}

/** Parses an AdmissionReview answer: allowed, and the message when not. */
export function verdictOf(text: string): { allowed: boolean; message: string } {
  const parsed = JSON.parse(text) as { response?: { allowed?: boolean; status?: { message?: string } } };
  return { allowed: parsed.response?.allowed === true, message: parsed.response?.status?.message ?? "" };
}
