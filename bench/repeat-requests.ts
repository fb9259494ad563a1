/**
 * The same 10 images checked 1,000 times in one process (real engine, real client): how many
 * requests reach the registry (through the fault proxy) and the token server?
 */
import { startFaultProxy } from "../test/harness/fault-proxy.ts";
import { dockerConfigCredentials, inProcessEngine, isManifestRequest } from "./lib/engine.ts";
import { BENCH_USER, tokenRegistryWithRepos } from "./lib/fixtures.ts";
import { ms, timed } from "./lib/stats.ts";
import type { Benchmark } from "./lib/types.ts";

const IMAGES = 10;
const ROUNDS = 1000;
const TARGET = 20;

export const repeatRequests: Benchmark = {
  name: "repeat-requests",
  description: `${IMAGES} images checked ${ROUNDS} times in one process: requests reaching the registry`,
  async run(log) {
    // The second ten repositories are for the one-at-a-time diagnostic below.
    const { registry, repositories: all } = await tokenRegistryWithRepos(2 * IMAGES, "bench/repeat");
    const repositories = all.slice(0, IMAGES);
    const proxy = await startFaultProxy({ url: registry.url, caPem: registry.caPem });
    const { engine, close } = inProcessEngine(
      { [proxy.host]: { insecure: true } },
      { [proxy.host]: registry.caPem as string },
    );
    try {
      const tokens = registry.tokenServer;
      if (tokens === null) throw new Error("token registry without a token server");
      const credentials = dockerConfigCredentials(proxy.host, BENCH_USER);
      const requests = repositories.map((repository) => ({ image: `${proxy.host}/${repository}:v1` }));
      proxy.reset();
      const tokensBefore = tokens.requests;
      let notOk = 0;
      const elapsed = await timed(async () => {
        for (let round = 0; round < ROUNDS; round++) {
          const results = await engine.check(requests, credentials, AbortSignal.timeout(10_000));
          notOk += results.filter((r) => r.result !== "ok").length;
        }
      });
      if (notOk > 0) throw new Error(`${notOk} of ${IMAGES * ROUNDS} checks were not ok`);
      const manifest = proxy.count(isManifestRequest);
      const manifestByStatus = countBy(proxy.requests.filter((r) => isManifestRequest(r.method, r.path)));
      const token = tokens.requests - tokensBefore;
      const other = proxy.count() - manifest;
      const total = manifest + token + other;
      // Diagnostic, not the target: a fresh engine checking ten other images one at a time, so each
      // lookup could know the registry's challenge from the previous one.
      const fresh = inProcessEngine(
        { [proxy.host]: { insecure: true } },
        { [proxy.host]: registry.caPem as string },
      );
      proxy.reset();
      try {
        for (const repository of all.slice(IMAGES)) {
          await fresh.engine.check(
            [{ image: `${proxy.host}/${repository}:v1` }],
            credentials,
            AbortSignal.timeout(10_000),
          );
        }
      } finally {
        await fresh.close();
      }
      const sequential401 = proxy.count((m, p) => isManifestRequest(m, p)) - IMAGES;
      const details = [
        `${ROUNDS} rounds × ${IMAGES} images (${IMAGES} repositories, token auth, one credential) in ${ms(elapsed.ms)}`,
        `manifest requests: ${manifest} (${Object.entries(manifestByStatus)
          .map(([key, n]) => `${key}: ${n}`)
          .join(", ")})`,
        `token requests: ${token}`,
        `other registry requests: ${other}`,
        `total: ${total} for ${IMAGES * ROUNDS} checks (target ≤ ${TARGET})`,
        `diagnostic: ${IMAGES} other images checked one at a time by a fresh engine drew ${sequential401} unauthenticated 401 manifest answer(s): the registry's challenge has to be learned once per client; after that each new repository fetches its token first`,
      ];
      for (const line of details) log(line);
      return {
        measured: `${total} requests (${manifest} manifest + ${token} token${other ? ` + ${other} other` : ""})`,
        target: `≤ ${TARGET}`,
        pass: total <= TARGET,
        details,
      };
    } finally {
      await close();
      await proxy.stop();
      await registry.stop();
    }
  },
};

function countBy(records: readonly { method: string; status: number }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of records) {
    const key = `${r.method} ${r.status}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
