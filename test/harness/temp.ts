import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

let root: string | undefined;

// One root per test process, removed when the process exits however the tests ended.
function harnessRoot(): string {
  if (root === undefined) {
    const created = mkdtempSync(join(tmpdir(), `pullcheck-harness-${process.pid}-`));
    root = created;
    process.once("exit", () => rmSync(created, { recursive: true, force: true }));
  }
  return root;
}

/** A new empty directory that lives until the test process exits. */
export function harnessTempDir(prefix: string): string {
  return mkdtempSync(join(harnessRoot(), `${prefix}-`));
}
