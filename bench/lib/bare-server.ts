/**
 * The warm-path baseline: a bare fastify HTTPS server with the webhook's certificate and TLS
 * settings that answers POST /validate with a constant AdmissionReview. Run as a child:
 * `node bench/lib/bare-server.ts CERT KEY RESPONSE_JSON_FILE [BURN_US]`; prints its URL on
 * stdout. BURN_US > 0 spins that many microseconds of CPU per request: a calibration of how
 * throughput on this machine responds to a known amount of extra work per request.
 */
import { readFileSync } from "node:fs";
import Fastify from "fastify";

const [certFile, keyFile, responseFile, burnArg] = process.argv.slice(2);
const burnNs = BigInt(Math.round(Number(burnArg ?? "0") * 1000));
if (!certFile || !keyFile || !responseFile) {
  console.error("usage: bare-server.ts CERT KEY RESPONSE_JSON_FILE");
  process.exit(2);
}
const answer = readFileSync(responseFile, "utf8");
const app = Fastify({
  https: { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8"), minVersion: "TLSv1.2" },
  bodyLimit: 7 * 1024 * 1024,
  return503OnClosing: true,
});
// The body is parsed as JSON like the webhook's, then ignored.
app.post("/validate", async (_request, reply) => {
  if (burnNs > 0n) {
    const end = process.hrtime.bigint() + burnNs;
    while (process.hrtime.bigint() < end) {
      // spin: a fixed amount of CPU per request
    }
  }
  return reply.type("application/json; charset=utf-8").send(answer);
});
const url = await app.listen({ host: "127.0.0.1", port: 0 });
console.log(url);
process.once("SIGTERM", () => {
  void app.close().then(() => process.exit(0));
});
