/**
 * A plain registry behind a +N ms delay proxy, one small image under many fresh tags, and
 * `pullcheck serve` (child process) pointed at the proxy: the set-up of the cold-path
 * benchmarks, where every admission must really ask the registry.
 */
import { type FaultProxy, startFaultProxy } from "../../test/harness/fault-proxy.ts";
import { makeImage } from "../../test/harness/images.ts";
import { startRegistry, type TestRegistry } from "../../test/harness/registry.ts";
import { assertBuilt, fanOutTags, issueCerts, scratchDir, type WebhookCertFiles } from "./fixtures.ts";
import { type ServerProcess, startPullcheckServe } from "./webhook.ts";

export const REPOSITORY = "bench/cold";

export interface DelayedWebhook {
  readonly registry: TestRegistry;
  readonly proxy: FaultProxy;
  readonly webhook: ServerProcess;
  readonly certs: WebhookCertFiles;
  /** `${proxy.host}/bench/cold:${tag}` */
  image(tag: string): string;
  stop(): Promise<void>;
}

export async function delayedWebhook(
  label: string,
  tags: readonly string[],
  delayMs: number,
): Promise<DelayedWebhook> {
  assertBuilt();
  const registry = await startRegistry();
  let proxy: FaultProxy | undefined;
  let webhook: ServerProcess | undefined;
  const stop = async () => {
    await webhook?.stop();
    await proxy?.stop();
    await registry.stop();
  };
  try {
    await registry.push(await makeImage("oci-manifest", { seed: label }), `${REPOSITORY}:seed`);
    await fanOutTags(registry.url, REPOSITORY, "seed", tags);
    const started = await startFaultProxy({ url: registry.url });
    proxy = started;
    started.setFault({ kind: "delay", ms: delayMs });
    const dir = scratchDir(label);
    const certs = await issueCerts(dir);
    webhook = await startPullcheckServe(dir, certs, { registries: { [started.host]: { insecure: true } } });
    return {
      registry,
      proxy: started,
      webhook,
      certs,
      image: (tag) => `${started.host}/${REPOSITORY}:${tag}`,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
