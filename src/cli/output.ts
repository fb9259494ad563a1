import type { CheckResult } from "../check/types.ts";
import { classOf } from "../results.ts";

/** PRODUCT.md exit codes of `check`: 1 definite failure, 3 only indeterminate, 0 otherwise. */
export function exitCodeFor(results: readonly CheckResult[]): 0 | 1 | 3 {
  let indeterminate = false;
  for (const { result } of results) {
    const kind = classOf(result);
    if (kind === "definite") return 1;
    if (kind === "indeterminate") indeterminate = true;
  }
  return indeterminate ? 3 : 0;
}

export function renderJson(results: readonly object[]): string {
  return `${JSON.stringify({ results }, null, 2)}\n`;
}

/** A plain aligned table; long messages wrap onto their own indented line. */
export function renderTable(rows: ReadonlyArray<readonly string[]>, header: readonly string[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? "").length)));
  return `${all
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")}\n`;
}

export function checkTable(results: readonly CheckResult[]): string {
  const rows = results.map((r) => [r.result, r.image, r.source ?? "", r.message]);
  return renderTable(rows, ["RESULT", "IMAGE", "SOURCE", "MESSAGE"]);
}
