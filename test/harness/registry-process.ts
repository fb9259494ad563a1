import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { harnessRequest } from "./http.ts";
import type { PortAttempt } from "./ports.ts";
import { reapOnExit } from "./reaper.ts";

export interface RegistryProcess {
  readonly pid: number;
  /** The last lines the registry wrote to stderr. */
  stderrTail(): string;
  stop(): Promise<void>;
}

// The shell keeps the registry's pid (exec) and leaves a watcher on our stdin pipe: when this
// process dies, even by SIGKILL, the pipe closes and the watcher terminates the registry.
const WRAPPER =
  'exec 3<&0; (read _ <&3; kill -TERM $$ 2>/dev/null) & exec 3<&-; exec docker-registry serve "$1"';

function tailOf(path: string, bytes = 4000): string {
  try {
    const text = readFileSync(path, "utf8");
    return text.length > bytes ? `…${text.slice(-bytes)}` : text;
  } catch {
    return "";
  }
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export interface LaunchOptions {
  configPath: string;
  stderrPath: string;
  /** Base URL the registry will answer on once up ("http://127.0.0.1:PORT"). */
  url: string;
  caPem: string | null;
  readyTimeoutMs?: number;
}

/** Starts `docker-registry serve` and waits until `GET /v2/` answers like a registry. */
export async function launchRegistry(options: LaunchOptions): Promise<PortAttempt<RegistryProcess>> {
  const stderrFd = openSync(options.stderrPath, "a");
  const child = spawn("sh", ["-c", WRAPPER, "sh", options.configPath], {
    stdio: ["pipe", "ignore", stderrFd],
  });
  closeSync(stderrFd);
  reapOnExit(child);
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  let spawnError: Error | undefined;
  child.once("error", (error) => {
    spawnError = error;
  });

  const stop = async (): Promise<void> => {
    child.stdin?.end();
    if (!(await waitForExit(child, 3000))) {
      child.kill("SIGKILL");
      await waitForExit(child, 3000);
    }
  };
  const failure = async (message: string): Promise<PortAttempt<RegistryProcess>> => {
    await stop();
    const tail = tailOf(options.stderrPath);
    return {
      ok: false,
      portInUse: /address already in use/i.test(tail),
      error: new Error(`${message}\n--- docker-registry stderr (${options.stderrPath}) ---\n${tail}`),
    };
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 15_000);
  while (Date.now() < deadline) {
    if (spawnError) return failure(`could not start docker-registry: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      const hint =
        child.exitCode === 127
          ? " — not installed? run ensure_debian_packages from scripts/toolchain.sh"
          : "";
      return failure(
        `docker-registry exited early (code ${child.exitCode}, signal ${child.signalCode})${hint}`,
      );
    }
    try {
      const res = await harnessRequest({ url: `${options.url}/v2/`, caPem: options.caPem, timeoutMs: 2000 });
      // Only a registry sends this header: guards against another process that grabbed the port.
      if (res.headers["docker-distribution-api-version"] === "registry/2.0" && child.exitCode === null) {
        return {
          ok: true,
          value: { pid: child.pid ?? -1, stderrTail: () => tailOf(options.stderrPath), stop },
        };
      }
    } catch {
      // not listening yet
    }
    await sleep(40);
  }
  return failure(`docker-registry did not answer GET ${options.url}/v2/ in time`);
}
