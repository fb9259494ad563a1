/**
 * Admission latency of a Pod with 10 distinct uncached images vs a Pod with 1 uncached image,
 * the registry behind a +50 ms delay proxy. Fresh tags every iteration, so nothing is cached.
 */
import { pod, review } from "../test/support/reviews.ts";
import { delayedWebhook } from "./lib/delayed-webhook.ts";
import { median, ms, ratio, timed } from "./lib/stats.ts";
import type { Benchmark } from "./lib/types.ts";
import { admissionClient, verdictOf } from "./lib/webhook.ts";

const DELAY_MS = 50;
const ITERATIONS = 9;
const MANY = 10;
const TARGET = 1.3;

export const coldPath: Benchmark = {
  name: "cold-path",
  description: `admission latency, Pod with ${MANY} uncached images vs 1, registry +${DELAY_MS} ms away`,
  async run(log) {
    // Iteration 0 is a warm-up (connections, JIT) and is not counted.
    const tagsOf = (iteration: number, pods: "one" | "many") =>
      pods === "one"
        ? [`it${iteration}-one`]
        : Array.from({ length: MANY }, (_, i) => `it${iteration}-many-${i}`);
    const allTags: string[] = [];
    for (let i = 0; i <= ITERATIONS; i++) allTags.push(...tagsOf(i, "one"), ...tagsOf(i, "many"));
    const setup = await delayedWebhook("cold-path", allTags, DELAY_MS);
    const client = admissionClient(setup.certs.caFile);
    try {
      const admit = async (iteration: number, pods: "one" | "many") => {
        const images = tagsOf(iteration, pods).map(setup.image);
        const body = JSON.stringify(review("Pod", pod(`p-${iteration}-${pods}`, { images })));
        const answer = await timed(() => client.post(setup.webhook.url, body));
        const verdict = verdictOf(answer.value.text);
        if (answer.value.status !== 200 || !verdict.allowed) {
          throw new Error(`admission ${iteration}/${pods} not allowed: ${verdict.message}`);
        }
        return answer.ms;
      };
      const one: number[] = [];
      const many: number[] = [];
      setup.proxy.reset();
      for (let iteration = 0; iteration <= ITERATIONS; iteration++) {
        // Alternate which pod goes first, so neither always meets a freshly idle process.
        const order = iteration % 2 === 0 ? (["one", "many"] as const) : (["many", "one"] as const);
        for (const pods of order) {
          const elapsed = await admit(iteration, pods);
          if (iteration > 0) (pods === "one" ? one : many).push(elapsed);
        }
      }
      const manifestRequests = setup.proxy.count((_m, path) => path.includes("/manifests/"));
      const expected = (ITERATIONS + 1) * (MANY + 1);
      if (manifestRequests !== expected) {
        throw new Error(`expected ${expected} manifest requests (nothing cached), saw ${manifestRequests}`);
      }
      const oneMedian = median(one);
      const manyMedian = median(many);
      const slowdown = manyMedian / oneMedian;
      const details = [
        `1 image:  ${one.map(ms).join(", ")} (median ${ms(oneMedian)})`,
        `${MANY} images: ${many.map(ms).join(", ")} (median ${ms(manyMedian)})`,
        `every image was a registry lookup: ${manifestRequests} manifest requests for ${expected} image checks; the proxy adds ${DELAY_MS} ms to each`,
        `latency ratio ${MANY} images / 1 image: ${ratio(slowdown)} (target ≤ ${TARGET})`,
      ];
      for (const line of details) log(line);
      return {
        measured: `${ratio(slowdown)} (${ms(manyMedian)} vs ${ms(oneMedian)})`,
        target: `≤ ${TARGET}×`,
        pass: slowdown <= TARGET,
        details,
      };
    } finally {
      await client.close();
      await setup.stop();
    }
  },
};
