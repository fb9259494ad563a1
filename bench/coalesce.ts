/**
 * 100 concurrent checks of one uncached image in one engine: how many manifest requests reach
 * the registry? The checks arrive spread over the first ~33 ms of a lookup that takes +50 ms,
 * so both "same tick" and "joins a lookup already in flight" are exercised.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Engine } from "../src/check/engine.ts";
import type { CredentialContext } from "../src/check/types.ts";
import { startFaultProxy } from "../test/harness/fault-proxy.ts";
import { makeImage } from "../test/harness/images.ts";
import { startRegistry } from "../test/harness/registry.ts";
import { dockerConfigCredentials, inProcessEngine, isManifestRequest } from "./lib/engine.ts";
import { BENCH_USER, tokenRegistryWithRepos } from "./lib/fixtures.ts";
import type { Benchmark } from "./lib/types.ts";

const CONCURRENT = 100;
const DELAY_MS = 50;

/** Starts `count` checks of `image`, three per millisecond, and waits for all of them. */
async function concurrentChecks(
  engine: Engine,
  image: string,
  credentials: CredentialContext,
  count: number,
): Promise<string[]> {
  const checks = Array.from({ length: count }, async (_, i) => {
    await sleep(Math.floor(i / 3));
    const [result] = await engine.check([{ image }], credentials, AbortSignal.timeout(10_000));
    return result?.result ?? "missing";
  });
  return Promise.all(checks);
}

export const coalesce: Benchmark = {
  name: "coalesce",
  description: `${CONCURRENT} concurrent checks of one uncached image: manifest requests`,
  async run(log) {
    const plain = await startRegistry();
    const token = await tokenRegistryWithRepos(2, "bench/coalesce");
    const plainProxy = await startFaultProxy({ url: plain.url });
    const tokenProxy = await startFaultProxy({ url: token.registry.url, caPem: token.registry.caPem });
    const { engine, close } = inProcessEngine(
      { [plainProxy.host]: { insecure: true }, [tokenProxy.host]: { insecure: true } },
      { [tokenProxy.host]: token.registry.caPem as string },
    );
    const cleanups: Array<() => Promise<unknown>> = [];
    try {
      await plain.push(await makeImage("oci-manifest", { seed: "coalesce" }), "bench/coalesce:v1");
      const tokenServer = token.registry.tokenServer;
      if (tokenServer === null) throw new Error("token registry without a token server");
      for (const proxy of [plainProxy, tokenProxy]) proxy.setFault({ kind: "delay", ms: DELAY_MS });

      // Anonymous, no auth: one lookup is one manifest HEAD.
      plainProxy.reset();
      const plainResults = await concurrentChecks(
        engine,
        `${plainProxy.host}/bench/coalesce:v1`,
        { sources: [], invalid: [], missing: [] },
        CONCURRENT,
      );
      const plainManifest = plainProxy.count(isManifestRequest);

      // Token auth: the baseline is what one lone check of another uncached image costs.
      const credentials = dockerConfigCredentials(tokenProxy.host, BENCH_USER);
      const [first, second] = token.images.map((image) =>
        image.replace(token.registry.host, tokenProxy.host),
      );
      // Each side gets a fresh engine and client, so neither starts with the registry's
      // challenge already learned from the other.
      const cold = () =>
        inProcessEngine(
          { [tokenProxy.host]: { insecure: true } },
          { [tokenProxy.host]: token.registry.caPem as string },
        );
      const loneSide = cold();
      const crowdSide = cold();
      cleanups.push(loneSide.close, crowdSide.close);
      tokenProxy.reset();
      let tokensBefore = tokenServer.requests;
      const lone = await concurrentChecks(loneSide.engine, first as string, credentials, 1);
      const loneManifest = tokenProxy.count(isManifestRequest);
      const loneTokens = tokenServer.requests - tokensBefore;
      tokenProxy.reset();
      tokensBefore = tokenServer.requests;
      const crowd = await concurrentChecks(crowdSide.engine, second as string, credentials, CONCURRENT);
      const crowdManifest = tokenProxy.count(isManifestRequest);
      const crowdTokens = tokenServer.requests - tokensBefore;

      const notOk = [...plainResults, ...lone, ...crowd].filter((r) => r !== "ok").length;
      if (notOk > 0) throw new Error(`${notOk} checks were not ok`);
      const details = [
        `plain registry (+${DELAY_MS} ms), ${CONCURRENT} concurrent checks: ${plainManifest} manifest request(s) (target exactly 1)`,
        `token registry (+${DELAY_MS} ms), 1 lone check of an uncached image: ${loneManifest} manifest + ${loneTokens} token requests (baseline, cold client: 401 challenge, token, authorized HEAD)`,
        `token registry (+${DELAY_MS} ms), ${CONCURRENT} concurrent checks of another uncached image, cold client: ${crowdManifest} manifest + ${crowdTokens} token requests (ratio to the lone check: ${(crowdManifest / loneManifest).toFixed(2)}×)`,
      ];
      for (const line of details) log(line);
      const pass = plainManifest === 1 && crowdManifest === loneManifest && crowdTokens === loneTokens;
      return {
        measured: `${plainManifest} manifest request (token auth: ${crowdManifest} = lone check's ${loneManifest})`,
        target: "exactly 1 (one lookup)",
        pass,
        details,
      };
    } finally {
      await Promise.all(cleanups.map((cleanup) => cleanup()));
      await close();
      await plainProxy.stop();
      await tokenProxy.stop();
      await plain.stop();
      await token.registry.stop();
    }
  },
};
