// `pullcheck serve` as a process over real HTTPS: certificates from `pullcheck certs`,
// hot reload when the files change, and a graceful SIGTERM that still answers in-flight
// admissions (the registry behind them is real, stalled by the fault proxy).
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Agent, request } from "undici";
import { runCertsCommand } from "../../src/cli/certs.ts";
import type { CliIO } from "../../src/cli/inputs.ts";
import { type FaultProxy, startFaultProxy } from "../harness/fault-proxy.ts";
import { startRegistry, type TestRegistry } from "../harness/registry.ts";
import { dummyKubeconfig, type ServeProcess, startServe } from "../harness/serve.ts";
import { pod, review } from "../support/reviews.ts";

let dir: string;
let registry: TestRegistry;
let proxy: FaultProxy;

const quiet: CliIO = {
  stdout: () => {},
  stderr: () => {},
  readFile: (p) => readFile(p, "utf8"),
  readStdin: async () => "",
  stdoutIsTTY: false,
};

async function issue(out: string): Promise<string> {
  await runCertsCommand(
    { service: "pullcheck", namespace: "test", out, dns: [], ip: ["127.0.0.1"], days: 30 },
    quiet,
  );
  return readFile(join(out, "ca.crt"), "utf8");
}

/** Does a TLS client trusting only `caPem` accept the server? */
async function trusts(url: string, caPem: string): Promise<boolean> {
  const agent = new Agent({ connect: { ca: caPem } });
  try {
    const response = await request(`${url}/healthz`, { dispatcher: agent });
    await response.body.text();
    return response.statusCode === 200;
  } catch {
    return false;
  } finally {
    await agent.close();
  }
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`gave up waiting: ${what}`);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "pullcheck-serve-"));
  registry = await startRegistry();
  proxy = await startFaultProxy({ url: registry.url });
});

after(async () => {
  await proxy?.stop();
  await registry?.stop();
});

describe("pullcheck serve", () => {
  let serve: ServeProcess;
  let caA: string;
  const live = () => join(dir, "live");

  before(async () => {
    caA = await issue(live());
    const config = join(dir, "config.yaml");
    await writeFile(
      config,
      [
        "listen: { host: 127.0.0.1 }",
        `tls: { certFile: ${join(live(), "tls.crt")}, keyFile: ${join(live(), "tls.key")}, reloadSeconds: 1 }`,
        `registries: { "${proxy.host}": { insecure: true } }`,
        "timeoutMs: 4000",
        `audit: { file: ${join(dir, "audit.log")} }`,
      ].join("\n"),
    );
    serve = await startServe(["--config", config, "--kubeconfig", await dummyKubeconfig(dir), "--port", "0"]);
  });

  after(async () => {
    await serve?.stop();
  });

  test("serves TLS 1.2+ with the certificate from pullcheck certs, and refuses older TLS", async () => {
    assert.equal(await trusts(serve.url, caA), true);
    const old = new Agent({ connect: { ca: caA, maxVersion: "TLSv1.1", minVersion: "TLSv1" } });
    await assert.rejects(request(`${serve.url}/healthz`, { dispatcher: old }));
    await old.close();
  });

  test("a rotated certificate is served without a restart; a broken one keeps the last good one", async () => {
    const next = join(dir, "next");
    const caB = await issue(next);
    assert.notEqual(caB, caA);
    await writeFile(join(live(), "tls.crt"), "garbage");
    await new Promise((r) => setTimeout(r, 2500)); // two reload periods
    assert.equal(await trusts(serve.url, caA), true, "the broken pair must not replace the good one");
    await cp(join(next, "tls.key"), join(live(), "tls.key"));
    await cp(join(next, "tls.crt"), join(live(), "tls.crt"));
    await until(() => trusts(serve.url, caB), "the new certificate to be served");
    assert.equal(await trusts(serve.url, caA), false);
    assert.match(serve.log(), /serving certificate not reloaded/);
    assert.match(serve.log(), /serving certificate reloaded/);
    caA = caB;
  });

  test("SIGTERM finishes the in-flight admission, flushes the audit log and exits 0", async () => {
    proxy.setFault({ kind: "delay", ms: 1500 });
    const agent = new Agent({ connect: { ca: caA } });
    const body = review("Pod", pod("slow", { images: [`${proxy.host}/team/app:missing`] }));
    const inFlight = request(`${serve.url}/validate`, {
      method: "POST",
      dispatcher: agent,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    await until(async () => proxy.count() > 0, "the admission to reach the registry");
    const code = serve.stop();
    const response = await inFlight;
    const json = (await response.body.json()) as { response: { uid: string; allowed: boolean } };
    assert.equal(response.statusCode, 200);
    assert.equal(json.response.uid, body.request.uid);
    assert.equal(json.response.allowed, false);
    assert.equal(await code, 0);
    await agent.close();
    proxy.setFault(null);
    const audit = (await readFile(join(dir, "audit.log"), "utf8")).trim().split("\n");
    const last = JSON.parse(audit.at(-1) ?? "{}");
    assert.equal(last.uid, body.request.uid);
    assert.equal(last.decision, "denied");
  });
});
