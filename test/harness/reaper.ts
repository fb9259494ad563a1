import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";

/**
 * The safety net every harness shares: whatever a test started and did not stop (a
 * failed assertion before stop(), a crash) is killed, and registered directories
 * removed, when the test process exits.
 */
const children = new Map<ChildProcess, (child: ChildProcess) => void>();
const directories = new Set<string>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", () => {
    for (const [child, kill] of children) kill(child);
    for (const dir of directories) rmSync(dir, { recursive: true, force: true });
  });
}

/** Kills `child` at exit unless it exited first; `kill` defaults to SIGKILL on the process. */
export function reapOnExit(
  child: ChildProcess,
  kill: (child: ChildProcess) => void = (c) => c.kill("SIGKILL"),
): void {
  install();
  children.set(child, kill);
  child.once("exit", () => children.delete(child));
}

/** Removes `dir` at exit unless forgotten first. */
export function removeOnExit(dir: string): void {
  install();
  directories.add(dir);
}

export function forgetDirectory(dir: string): void {
  directories.delete(dir);
}
