// Child process of the rss-10k benchmark: `node --expose-gc bench/lib/rss-child.mjs HOST REPOSITORY COUNT`.
// Plain JavaScript importing the built dist/ modules, so the process is what `pullcheck` runs
// (no TypeScript type stripping loaded). Prints one JSON line with the measurements.
import { engineFromConfig } from "../../dist/check/from-config.js";
import { validateConfig } from "../../dist/config/schema.js";
import { createRegistryClient } from "../../dist/registry/client.js";

const [host, repository, countText] = process.argv.slice(2);
const count = Number(countText);
const BATCH = 100;

function settled() {
  // Two passes: the first may only schedule finalisation of what it found unreachable.
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage();
}

const validated = validateConfig({ registries: { [host]: { insecure: true } } });
if (!validated.ok) throw new Error(validated.problems.join("; "));
const client = createRegistryClient();
const engine = engineFromConfig(validated.config, client, new Map());
const credentials = { sources: [], invalid: [], missing: [] };
const tags = Array.from({ length: count }, (_, i) => `t${i}`);

async function checkAll() {
  let notOk = 0;
  for (let start = 0; start < tags.length; start += BATCH) {
    const requests = tags
      .slice(start, start + BATCH)
      .map((tag) => ({ image: `${host}/${repository}:${tag}` }));
    const results = await engine.check(requests, credentials, AbortSignal.timeout(60_000));
    notOk += results.filter((r) => r.result !== "ok").length;
  }
  return notOk;
}

const baseline = settled();
const started = performance.now();
const notOkFill = await checkAll();
const fillMs = performance.now() - started;
const filled = settled();
// A second pass: if every result is still cached it sends no request (the parent counts).
const notOkSecond = await checkAll();
await client.close();
console.log(
  JSON.stringify({
    baseline: {
      rss: baseline.rss,
      heapUsed: baseline.heapUsed,
      external: baseline.external,
      arrayBuffers: baseline.arrayBuffers,
      heapTotal: baseline.heapTotal,
    },
    filled: {
      rss: filled.rss,
      heapUsed: filled.heapUsed,
      external: filled.external,
      arrayBuffers: filled.arrayBuffers,
      heapTotal: filled.heapTotal,
    },
    fillMs,
    notOk: notOkFill + notOkSecond,
  }),
);
