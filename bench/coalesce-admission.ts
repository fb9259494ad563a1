/**
 * 100 concurrent admissions (over HTTPS, 100 open connections) of Pods using one uncached
 * image, the registry +50 ms away: how many manifest requests reach it?
 */
import { pod, review } from "../test/support/reviews.ts";
import { delayedWebhook } from "./lib/delayed-webhook.ts";
import { median, ms, timed } from "./lib/stats.ts";
import type { Benchmark } from "./lib/types.ts";
import { admissionClient, verdictOf } from "./lib/webhook.ts";

const CONCURRENT = 100;
const DELAY_MS = 50;

export const coalesceAdmission: Benchmark = {
  name: "coalesce-admission",
  description: `${CONCURRENT} concurrent admissions of one uncached image: manifest requests`,
  async run(log) {
    const setup = await delayedWebhook("coalesce-admission", ["shared"], DELAY_MS);
    const client = admissionClient(setup.certs.caFile, CONCURRENT);
    try {
      // Open the connections first, so the admissions arrive together rather than one TLS handshake apart.
      const health = await Promise.all(
        Array.from({ length: CONCURRENT }, () => client.get(setup.webhook.url, "/healthz")),
      );
      if (health.some((status) => status !== 200)) throw new Error("webhook not healthy");
      setup.proxy.reset();
      const image = setup.image("shared");
      const answers = await timed(() =>
        Promise.all(
          Array.from({ length: CONCURRENT }, async (_, i) => {
            const body = JSON.stringify(
              review("Pod", pod(`p-${i}`, { images: [image] }), { uid: `co-${i}` }),
            );
            return timed(() => client.post(setup.webhook.url, body));
          }),
        ),
      );
      const refused = answers.value.filter((a) => a.value.status !== 200 || !verdictOf(a.value.text).allowed);
      if (refused.length > 0) throw new Error(`${refused.length} admissions were not allowed`);
      const manifest = setup.proxy.count((_m, path) => path.includes("/manifests/"));
      const latencies = answers.value.map((a) => a.ms);
      const details = [
        `${CONCURRENT} admissions in ${ms(answers.ms)}; each took ${ms(Math.min(...latencies))} … ${ms(Math.max(...latencies))} (median ${ms(median(latencies))})`,
        `manifest requests reaching the registry: ${manifest} (target exactly 1); all requests: ${setup.proxy.count()}`,
      ];
      for (const line of details) log(line);
      return {
        measured: `${manifest} manifest request${manifest === 1 ? "" : "s"}`,
        target: "exactly 1",
        pass: manifest === 1,
        details,
      };
    } finally {
      await client.close();
      await setup.stop();
    }
  },
};
