import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

export interface ServeProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stderr so far (its JSON log). */
  log(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
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

/** Starts `pullcheck serve` from the sources and waits for its "listening" log line. */
export function startServe(
  args: readonly string[],
  options: { command?: readonly string[] } = {},
): Promise<ServeProcess> {
  const command = options.command ?? [process.execPath, MAIN];
  const [executable, ...prefix] = command as [string, ...string[]];
  const child = spawn(executable, [...prefix, "serve", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stdout?.resume();
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`serve did not start within 20 s:\n${stderr}`));
    }, 20_000);
    const onEarlyExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening:\n${stderr}`));
    };
    child.on("exit", onEarlyExit);
    child.stderr?.on("data", (chunk) => {
      stderr += chunk;
      const match =
        /"url":"(https:\/\/[^"]+)".*"msg":"pullcheck listening"|"msg":"pullcheck listening".*"url":"(https:\/\/[^"]+)"/.exec(
          stderr,
        );
      if (!match) return;
      clearTimeout(timer);
      child.off("exit", onEarlyExit);
      resolve({
        url: (match[1] ?? match[2]) as string,
        child,
        log: () => stderr,
        stop: async () => {
          if (child.exitCode === null) child.kill("SIGTERM");
          return exited;
        },
      });
    });
  });
}
