import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { reapOnExit } from "./reaper.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

export interface ServeProcess {
  /** https://127.0.0.1:PORT, from the "pullcheck listening" log line. */
  readonly url: string;
  /** Everything the process wrote to stderr so far (its JSON log). */
  log(): string;
  /** SIGTERM (SIGKILL if it does not exit in time); resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface ServeOptions {
  /** The command that runs pullcheck; default: this Node running src/main.ts. */
  readonly command?: readonly string[];
  /** Extra environment, e.g. an image's ENV lines. */
  readonly env?: Readonly<Record<string, string>>;
}

/** A kubeconfig that points nowhere: enough for pods that name no pull secrets. */
export async function dummyKubeconfig(dir: string): Promise<string> {
  const path = join(dir, "kubeconfig");
  await writeFile(
    path,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters: [{name: none, cluster: {server: 'https://127.0.0.1:1'}}]",
      "users: [{name: none, user: {token: unused}}]",
      "contexts: [{name: none, context: {cluster: none, user: none}}]",
      "current-context: none",
    ].join("\n"),
  );
  return path;
}

/**
 * Starts `pullcheck serve ARGS` and waits for its "listening" log line. The child gets
 * none of the variables that would point it at another config or cluster.
 */
export function startServe(args: readonly string[], options: ServeOptions = {}): Promise<ServeProcess> {
  const [executable, ...prefix] = (options.command ?? [process.execPath, MAIN]) as [string, ...string[]];
  const env = { ...process.env, ...options.env };
  for (const name of [
    "KUBERNETES_SERVICE_HOST",
    "KUBERNETES_SERVICE_PORT",
    "PULLCHECK_CONFIG",
    "KUBECONFIG",
  ]) {
    delete env[name];
  }
  const child = spawn(executable, [...prefix, "serve", ...args], {
    stdio: ["ignore", "ignore", "pipe"],
    env,
  });
  reapOnExit(child);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let stderr = "";
  child.stderr?.setEncoding("utf8");

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`pullcheck serve did not listen within ${START_TIMEOUT_MS} ms:\n${stderr}`));
    }, START_TIMEOUT_MS);
    const onEarlyExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`pullcheck serve exited (${code}) before listening:\n${stderr}`));
    };
    child.once("exit", onEarlyExit);
    let listening = false;
    child.stderr?.on("data", (chunk: string) => {
      stderr += chunk;
      if (listening) return;
      const line = stderr.split("\n").find((l) => l.includes('"pullcheck listening"') && l.endsWith("}"));
      const url = line ? (JSON.parse(line) as { url?: string }).url : undefined;
      if (!url) return;
      listening = true;
      clearTimeout(timer);
      child.off("exit", onEarlyExit);
      resolve({
        url: url.replace("0.0.0.0", "127.0.0.1"),
        log: () => stderr,
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
          child.kill("SIGTERM");
          const kill = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
          const code = await exited;
          clearTimeout(kill);
          return code;
        },
      });
    });
  });
}
