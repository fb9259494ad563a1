/**
 * `pullcheck check` (the built CLI, one process) of 50 distinct images on a token-auth
 * registry vs a sequential `skopeo inspect --raw` loop over the same 50 images.
 */
import { execFile } from "node:child_process";
import { dirname } from "node:path";
import { promisify } from "node:util";
import {
  assertBuilt,
  BENCH_USER,
  DIST_MAIN,
  scratchDir,
  tokenRegistryWithRepos,
  writeConfig,
  writeDockerConfig,
} from "./lib/fixtures.ts";
import { median, ms, ratio, timed } from "./lib/stats.ts";
import type { Benchmark } from "./lib/types.ts";

const execFileAsync = promisify(execFile);
const COUNT_CONNECTIONS = new URL("./lib/count-connections.mjs", import.meta.url).pathname;

/** "100 TLS to the registry, 16 TLS to the token server" from count-connections.mjs's line. */
function connectionSummary(stderr: string, registryHost: string): string {
  const line = stderr.split("\n").find((l) => l.startsWith("bench-connections "));
  if (line === undefined) return "not reported";
  const counts = JSON.parse(line.slice("bench-connections ".length)) as { tls: Record<string, number> };
  const registryPort = registryHost.split(":")[1] ?? "";
  let toRegistry = 0;
  let elsewhere = 0;
  for (const [port, n] of Object.entries(counts.tls)) {
    if (port === registryPort) toRegistry += n;
    else elsewhere += n;
  }
  return `${toRegistry} TLS to the registry, ${elsewhere} TLS to the token server`;
}

const IMAGES = 50;
const PULLCHECK_RUNS = 5;
const SKOPEO_LOOPS = 2;
const STARTUP_RUNS = 5;
const TARGET = 20;

export const checkVsSkopeo: Benchmark = {
  name: "check-vs-skopeo",
  description: `pullcheck check of ${IMAGES} images (one process) vs a sequential skopeo inspect --raw loop`,
  async run(log) {
    assertBuilt();
    const { registry, images } = await tokenRegistryWithRepos(IMAGES, "bench/app");
    try {
      const dir = scratchDir("check-vs-skopeo");
      const caFile = registry.caFile as string;
      const configFile = await writeConfig(dir, { registries: { [registry.host]: { caFile } } });
      const dockerConfig = await writeDockerConfig(dir, registry.host, BENCH_USER);
      const pullcheckArgs = [
        DIST_MAIN,
        "check",
        "--config",
        configFile,
        "--docker-config",
        dockerConfig,
        "--output",
        "json",
        ...images,
      ];
      const runPullcheck = async () => {
        const { stdout } = await execFileAsync(process.execPath, pullcheckArgs, { maxBuffer: 16 << 20 });
        const results = (JSON.parse(stdout) as { results: { result: string }[] }).results;
        const ok = results.filter((r) => r.result === "ok").length;
        if (ok !== IMAGES) throw new Error(`pullcheck check: only ${ok}/${IMAGES} images ok`);
      };
      const skopeo = (image: string) =>
        execFileAsync("skopeo", [
          "inspect",
          "--raw",
          "--cert-dir",
          dirname(caFile),
          "--creds",
          `${BENCH_USER.username}:${BENCH_USER.password}`,
          `docker://${image}`,
        ]);

      // Warm-up: page cache for node, the dist files and skopeo; not counted.
      await runPullcheck();
      await skopeo(images[0] as string);

      const pullcheckMs: number[] = [];
      for (let i = 0; i < PULLCHECK_RUNS; i++) pullcheckMs.push((await timed(runPullcheck)).ms);
      const skopeoLoopMs: number[] = [];
      for (let i = 0; i < SKOPEO_LOOPS; i++) {
        const loop = await timed(async () => {
          for (const image of images) await skopeo(image);
        });
        skopeoLoopMs.push(loop.ms);
      }
      // What bounds pullcheck: the cost of starting the CLI at all, with no network.
      const startupMs: number[] = [];
      const bareNodeMs: number[] = [];
      for (let i = 0; i < STARTUP_RUNS; i++) {
        startupMs.push((await timed(() => execFileAsync(process.execPath, [DIST_MAIN, "--version"]))).ms);
        bareNodeMs.push((await timed(() => execFileAsync(process.execPath, ["-e", "0"]))).ms);
      }

      // One more, untimed run that counts the connections pullcheck opens (evidence, not a target).
      const counted = await execFileAsync(
        process.execPath,
        ["--import", COUNT_CONNECTIONS, ...pullcheckArgs],
        {
          maxBuffer: 16 << 20,
        },
      );
      const connections = connectionSummary(counted.stderr, registry.host);

      const pullcheckMedian = median(pullcheckMs);
      const skopeoMedian = median(skopeoLoopMs);
      const speedup = skopeoMedian / pullcheckMedian;
      const startup = median(startupMs);
      const networkPart = pullcheckMedian - startup;
      const details = [
        `pullcheck check, ${IMAGES} images, ${PULLCHECK_RUNS} runs: ${pullcheckMs.map(ms).join(", ")} (median ${ms(pullcheckMedian)})`,
        `skopeo inspect --raw loop, ${IMAGES} images, ${SKOPEO_LOOPS} loops: ${skopeoLoopMs.map(ms).join(", ")} (median ${ms(skopeoMedian)}, ${ms(skopeoMedian / IMAGES)} per image)`,
        `connections opened by one pullcheck check run: ${connections}`,
        `speed-up: ${ratio(speedup)} (target ≥ ${TARGET}×)`,
        `start-up floor: \`node dist/main.js --version\` median ${ms(startup)}; \`node -e 0\` median ${ms(median(bareNodeMs))}`,
        `pullcheck minus its start-up floor: ${ms(networkPart)} for ${IMAGES} images; skopeo loop / that = ${ratio(skopeoMedian / networkPart)}`,
        `upper bound set by start-up alone (0 ms of network work): skopeo loop / \`--version\` = ${ratio(skopeoMedian / startup)}; the ${TARGET}× target needs the whole run in ${ms(skopeoMedian / TARGET)}`,
      ];
      for (const line of details) log(line);
      return {
        measured: `${ratio(speedup)} faster`,
        target: `≥ ${TARGET}×`,
        pass: speedup >= TARGET,
        details,
      };
    } finally {
      await registry.stop();
    }
  },
};
