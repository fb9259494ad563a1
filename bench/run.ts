/**
 * Runs the performance benchmarks: `node bench/run.ts [name...]` (all when no name is given).
 * Each benchmark prints its raw numbers and the ratio against a baseline measured in the same
 * run; the summary table at the end says PASS or MISS against the target.
 */
import os from "node:os";
import { checkVsSkopeo } from "./check-vs-skopeo.ts";
import { coalesce } from "./coalesce.ts";
import { coalesceAdmission } from "./coalesce-admission.ts";
import { coldPath } from "./cold-path.ts";
import type { Benchmark, BenchOutcome } from "./lib/types.ts";
import { repeatRequests } from "./repeat-requests.ts";
import { rss10k } from "./rss-10k.ts";
import { warmPath } from "./warm-path.ts";

const ALL: readonly Benchmark[] = [
  checkVsSkopeo,
  repeatRequests,
  coalesce,
  warmPath,
  coldPath,
  coalesceAdmission,
  rss10k,
];

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + " ".repeat(width - text.length);
}

function table(rows: readonly (readonly string[])[]): string {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length))) ?? [];
  return rows.map((row) => row.map((cell, i) => pad(cell, widths[i] ?? 0)).join("  ")).join("\n");
}

async function main(names: readonly string[]): Promise<number> {
  const unknown = names.filter((name) => !ALL.some((b) => b.name === name));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(", ")}; known: ${ALL.map((b) => b.name).join(", ")}`);
    return 2;
  }
  const selected = names.length === 0 ? ALL : ALL.filter((b) => names.includes(b.name));
  console.log(
    `pullcheck benchmarks — ${new Date().toISOString()} — ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), node ${process.version}`,
  );
  const rows: string[][] = [["benchmark", "measured", "target", "verdict"]];
  let failed = false;
  for (const bench of selected) {
    console.log(`\n## ${bench.name}: ${bench.description}`);
    let outcome: BenchOutcome;
    try {
      outcome = await bench.run((line) => console.log(`  ${line}`));
    } catch (error) {
      failed = true;
      console.log(`  ERROR: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      rows.push([bench.name, "error", "", "ERROR"]);
      continue;
    }
    rows.push([bench.name, outcome.measured, outcome.target, outcome.pass ? "PASS" : "MISS"]);
  }
  console.log(`\n${table(rows)}`);
  // A MISS is a measurement, not a failure of the script; only errors make the exit code non-zero.
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
