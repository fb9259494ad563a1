/**
 * `pullcheck serve` answering /validate over real HTTPS with every image cached, vs a bare
 * fastify HTTPS server (same certificate and TLS settings) answering a constant AdmissionReview
 * to the same request body. Both are child processes; autocannon runs here.
 */
import autocannon, { type Result } from "autocannon";
import { makeImage } from "../test/harness/images.ts";
import { startRegistry } from "../test/harness/registry.ts";
import { pod, review } from "../test/support/reviews.ts";
import { assertBuilt, issueCerts, scratchDir } from "./lib/fixtures.ts";
import { cpuMs } from "./lib/proc.ts";
import { ms, percentile, ratio } from "./lib/stats.ts";
import type { Benchmark } from "./lib/types.ts";
import {
  admissionClient,
  type ServerProcess,
  startBareServer,
  startPullcheckServe,
  verdictOf,
} from "./lib/webhook.ts";

const CONNECTIONS = 10;
const DURATION_S = 10;
const WARMUP_S = 2;
const CONTAINERS = 3;
const TARGET_THROUGHPUT = 0.85;
const TARGET_P99 = 1.5;
/** The calibration server spins this long per request (about pullcheck's own admission work). */
const CALIBRATION_BURN_US = 5;

interface Run {
  readonly server: "pullcheck" | "bare" | "bare+5µs";
  readonly result: Result;
  /** From per-response times (fractional ms); autocannon's own histograms are whole milliseconds. */
  readonly p50: number;
  readonly p99: number;
  /** Server CPU (user + system) per answered request, microseconds. */
  readonly cpuPerRequestUs: number;
}

function load(
  url: string,
  body: string,
  expectBody: string,
  duration: number,
): Promise<{ result: Result; p50: number; p99: number }> {
  const times: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${url}/validate`,
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        connections: CONNECTIONS,
        duration,
        expectBody,
        timeout: 10,
      },
      (error, result) => {
        if (error) reject(error);
        else resolve({ result, p50: percentile(times, 0.5), p99: percentile(times, 0.99) });
      },
    );
    instance.on("response", (_client, _status, _bytes, responseTimeMs) => times.push(responseTimeMs));
  });
}

function describeRun(run: Run): string {
  const r = run.result;
  return `${run.server.padEnd(9)} ${r.requests.average.toFixed(0).padStart(6)} req/s, latency p50 ${ms(run.p50)}, p99 ${ms(run.p99)}, max ${r.latency.max} ms, server CPU ${run.cpuPerRequestUs.toFixed(0)} µs/request (busy ${((run.cpuPerRequestUs * r.requests.total) / (r.duration * 1e4)).toFixed(0)}% of one core), ${r.requests.total} requests, errors ${r.errors}, non-2xx ${r.non2xx}, body mismatches ${r.mismatches}`;
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

export const warmPath: Benchmark = {
  name: "warm-path",
  description: `/validate with every image cached vs a bare fastify HTTPS server (${CONNECTIONS} connections, ${DURATION_S} s runs)`,
  async run(log) {
    assertBuilt();
    const registry = await startRegistry();
    const servers: ServerProcess[] = [];
    try {
      const image = await makeImage("oci-manifest", { seed: "warm" });
      const images: string[] = [];
      for (let i = 0; i < CONTAINERS; i++) {
        await registry.push(image, `bench/warm-${i}:v1`);
        images.push(`${registry.host}/bench/warm-${i}:v1`);
      }
      const dir = scratchDir("warm-path");
      const certs = await issueCerts(dir);
      const body = JSON.stringify(review("Pod", pod("web", { images }), { uid: "bench-warm" }));

      const pullcheck = await startPullcheckServe(dir, certs, {
        registries: { [registry.host]: { insecure: true } },
      });
      servers.push(pullcheck);
      const trusted = admissionClient(certs.caFile);
      const first = await trusted.post(pullcheck.url, body);
      await trusted.close();
      const verdict = verdictOf(first.text);
      if (first.status !== 200 || !verdict.allowed) {
        throw new Error(`warm-up admission was not allowed (HTTP ${first.status}): ${verdict.message}`);
      }
      // The bare server answers exactly what pullcheck answered, so both send the same bytes.
      const bare = await startBareServer(dir, certs, first.text);
      servers.push(bare);
      const calibration = await startBareServer(dir, certs, first.text, CALIBRATION_BURN_US);
      servers.push(calibration);
      const urls = { pullcheck: pullcheck.url, bare: bare.url, "bare+5µs": calibration.url };
      const pids = { pullcheck: pullcheck.pid, bare: bare.pid, "bare+5µs": calibration.pid };

      for (const server of ["pullcheck", "bare", "bare+5µs"] as const)
        await load(urls[server], body, first.text, WARMUP_S);
      const runs: Run[] = [];
      // ABBA order, so drift over time (thermal, other tenants) hits both sides alike.
      for (const server of ["pullcheck", "bare", "bare+5µs", "bare+5µs", "bare", "pullcheck"] as const) {
        const pid = pids[server];
        const cpuBefore = cpuMs(pid);
        const measured = await load(urls[server], body, first.text, DURATION_S);
        const cpuPerRequestUs = ((cpuMs(pid) - cpuBefore) * 1000) / measured.result.requests.total;
        const run: Run = { server, ...measured, cpuPerRequestUs };
        runs.push(run);
        log(describeRun(run));
      }
      const bad = runs.filter((r) => r.result.errors + r.result.non2xx + r.result.mismatches > 0);
      if (bad.length > 0)
        throw new Error(`errors or unexpected answers under load:\n${bad.map(describeRun).join("\n")}`);

      const of = (server: Run["server"]) => runs.filter((r) => r.server === server).map((r) => r.result);
      const throughput =
        mean(of("pullcheck").map((r) => r.requests.average)) /
        mean(of("bare").map((r) => r.requests.average));
      const p99Of = (server: Run["server"]) =>
        mean(runs.filter((r) => r.server === server).map((r) => r.p99));
      const cpuOf = (server: Run["server"]) =>
        mean(runs.filter((r) => r.server === server).map((r) => r.cpuPerRequestUs));
      const calibrated =
        mean(of("bare+5µs").map((r) => r.requests.average)) / mean(of("bare").map((r) => r.requests.average));
      const p99Pullcheck = p99Of("pullcheck");
      const p99Bare = p99Of("bare");
      const p99 = p99Pullcheck / p99Bare;
      const details = [
        ...runs.map(describeRun),
        `Pod with ${CONTAINERS} containers (all cached, no pull secrets), request body ${body.length} bytes, answer ${first.text.length} bytes`,
        `server CPU per request: pullcheck ${cpuOf("pullcheck").toFixed(0)} µs, bare ${cpuOf("bare").toFixed(0)} µs (a server at ~1,000 ms CPU per second is saturated; the other core runs autocannon)`,
        `throughput ratio pullcheck/bare: ${ratio(throughput)} (target ≥ ${TARGET_THROUGHPUT})`,
        `p99 latency: pullcheck ${ms(p99Pullcheck)}, bare ${ms(p99Bare)}, ratio ${ratio(p99)} (target ≤ ${TARGET_P99})`,
        `calibration: the bare server spinning ${CALIBRATION_BURN_US} µs of CPU per request reaches ${ratio(calibrated)} of its own throughput (p99 ${ms(p99Of("bare+5µs"))}); a throughput ratio of ${TARGET_THROUGHPUT} leaves well under ${CALIBRATION_BURN_US} µs for all admission work here`,
      ];
      for (const line of details.slice(-5)) log(line);
      return {
        measured: `throughput ${ratio(throughput)}, p99 ${ratio(p99)}`,
        target: `≥ ${TARGET_THROUGHPUT}, ≤ ${TARGET_P99}`,
        pass: throughput >= TARGET_THROUGHPUT && p99 <= TARGET_P99,
        details,
      };
    } finally {
      for (const server of servers) await server.stop();
      await registry.stop();
    }
  },
};
