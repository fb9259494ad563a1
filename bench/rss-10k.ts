/**
 * RSS of a process holding 10,000 cached results: a child running the built engine and client
 * checks 10,000 distinct tags (one small image tagged 10,000 times on a real registry, through
 * a counting proxy), forces GC and reads its own RSS, before and after.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { type FaultProxy, startFaultProxy } from "../test/harness/fault-proxy.ts";
import { makeImage } from "../test/harness/images.ts";
import { startRegistry } from "../test/harness/registry.ts";
import { assertBuilt, fanOutTags } from "./lib/fixtures.ts";
import { mb, ms, timed } from "./lib/stats.ts";
import type { Benchmark } from "./lib/types.ts";

const execFileAsync = promisify(execFile);
const CHILD = new URL("./lib/rss-child.mjs", import.meta.url).pathname;
const ENTRIES = 10_000;
const TARGET_MB = 150;
const REPOSITORY = "bench/rss";

interface ChildReport {
  baseline: { rss: number; heapUsed: number; heapTotal: number; external: number };
  filled: { rss: number; heapUsed: number; heapTotal: number; external: number };
  fillMs: number;
  notOk: number;
}

export const rss10k: Benchmark = {
  name: "rss-10k",
  description: `RSS of a process holding ${ENTRIES.toLocaleString("en")} cached results`,
  async run(log) {
    assertBuilt();
    const registry = await startRegistry();
    const proxy = await startFaultProxy({ url: registry.url });
    try {
      await registry.push(await makeImage("oci-manifest", { seed: "rss" }), `${REPOSITORY}:seed`);
      const tags = Array.from({ length: ENTRIES }, (_, i) => `t${i}`);
      const pushed = await timed(() => fanOutTags(registry.url, REPOSITORY, "seed", tags));
      log(`tagged one image ${ENTRIES} times in ${ms(pushed.ms)}`);
      // The image sets NODE_OPTIONS (Dockerfile ENV); measure the process as shipped, and with
      // Node's defaults for comparison.
      const shipped = imageNodeOptions();
      const defaults = await measureChild(proxy, []);
      const report = await measureChild(proxy, shipped);
      const delta = report.filled.rss - report.baseline.rss;
      const heapDelta = report.filled.heapUsed - report.baseline.heapUsed;
      const details = [
        `cached: ${ENTRIES} distinct ok results (${registry.host}/${REPOSITORY}:t0…t${ENTRIES - 1}, one small OCI manifest under ${ENTRIES} tags, looked up for real; filled in ${ms(report.fillMs)})`,
        `each child process sent exactly ${ENTRIES} manifest requests over two passes: all ${ENTRIES} results were held when RSS was read`,
        `with the image's NODE_OPTIONS (${shipped.join(" ")}): RSS after GC ${mb(report.baseline.rss)} empty, ${mb(report.filled.rss)} with ${ENTRIES} results (+${mb(delta)})`,
        `with Node's defaults: RSS after GC ${mb(defaults.baseline.rss)} empty, ${mb(defaults.filled.rss)} with ${ENTRIES} results; V8 heap committed ${mb(defaults.filled.heapTotal)} vs ${mb(report.filled.heapTotal)}`,
        `heap used after GC: ${mb(report.baseline.heapUsed)} → ${mb(report.filled.heapUsed)} (+${mb(heapDelta)}, ~${Math.round(heapDelta / ENTRIES)} bytes per cached result)`,
        `target: RSS ≤ ${TARGET_MB} MB`,
      ];
      for (const line of details) log(line);
      return {
        measured: `${mb(report.filled.rss)} (baseline ${mb(report.baseline.rss)}; Node defaults ${mb(defaults.filled.rss)})`,
        target: `≤ ${TARGET_MB} MB`,
        pass: report.filled.rss <= TARGET_MB * 1024 * 1024,
        details,
      };
    } finally {
      await proxy.stop();
      await registry.stop();
    }
  },
};

/** NODE_OPTIONS from the Dockerfile's ENV lines: the flags the shipped server runs with. */
function imageNodeOptions(): string[] {
  const dockerfile = readFileSync(new URL("../Dockerfile", import.meta.url), "utf8");
  const line = dockerfile.split("\n").find((l) => /^ENV\s+NODE_OPTIONS=/.test(l));
  return line
    ? line
        .replace(/^ENV\s+NODE_OPTIONS=/, "")
        .trim()
        .split(/\s+/)
    : [];
}

/** One child process: fill the cache, then read its memory. */
async function measureChild(proxy: FaultProxy, nodeFlags: readonly string[]): Promise<ChildReport> {
  proxy.reset();
  const { stdout } = await execFileAsync(
    process.execPath,
    [...nodeFlags, "--expose-gc", CHILD, proxy.host, REPOSITORY, String(ENTRIES)],
    { timeout: 300_000 },
  );
  const report = JSON.parse(stdout) as ChildReport;
  if (report.notOk > 0) throw new Error(`${report.notOk} checks were not ok`);
  const manifest = proxy.count((_m, path) => path.includes("/manifests/"));
  if (manifest !== ENTRIES) throw new Error(`expected ${ENTRIES} manifest requests, saw ${manifest}`);
  return report;
}
