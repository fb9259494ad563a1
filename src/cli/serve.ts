import type { Server } from "node:https";
import { createAuditSink } from "../audit.ts";
import { engineFromConfig } from "../check/from-config.ts";
import { readRegistryCas } from "../config/registries.ts";
import type { Config } from "../config/schema.ts";
import { cachedReader } from "../credentials/kube.ts";
import { apiServerReader, loadKubeConfig } from "../credentials/kube-api.ts";
import { createLogger } from "../log.ts";
import { createRegistryClient } from "../registry/client.ts";
import { Metrics } from "../server/metrics.ts";
import { readTlsPair, watchTlsPair } from "../server/tls-source.ts";
import { buildWebhookApp } from "../server/webhook-app.ts";
import { type CliIO, InputError } from "./inputs.ts";

export interface ServeFlags {
  readonly kubeconfig?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly port?: number;
}

/** `pullcheck serve`: resolves with the exit code once a SIGTERM/SIGINT shutdown has finished. */
export async function runServe(config: Config, flags: ServeFlags, _io: CliIO): Promise<number> {
  const certFile = flags.tlsCert ?? config.tls.certFile;
  const keyFile = flags.tlsKey ?? config.tls.keyFile;
  const tls = await readTlsPair(certFile, keyFile);
  if (!tls.ok) throw new InputError(`tls: ${tls.reason}`);
  const cas = await readRegistryCas(config.registries);
  if (!cas.ok) throw new InputError(`invalid config: ${cas.problems.join("; ")}`);
  let kubeConfig: ReturnType<typeof loadKubeConfig>;
  try {
    kubeConfig = loadKubeConfig(flags.kubeconfig);
  } catch (error) {
    throw new InputError(`kubeconfig: ${(error as Error).message.split("\n")[0]}`);
  }

  const logger = createLogger(config.logLevel);
  const metrics = new Metrics();
  const client = createRegistryClient({ observe: metrics.observeRequest });
  const engine = engineFromConfig(config, client, cas.pems, metrics.engine);
  const kube = cachedReader(apiServerReader(kubeConfig), config.kubeCacheSeconds * 1000);
  const audit = createAuditSink({
    file: config.audit.file,
    level: config.logLevel === "debug" || config.logLevel === "trace" ? "debug" : "info",
  });

  let ready = false;
  const app = buildWebhookApp({
    config,
    engine,
    kube,
    audit,
    metrics,
    ready: () => ready,
    logger,
    https: tls.pair,
  });

  const watcher = watchTlsPair({
    certFile,
    keyFile,
    initial: tls.pair,
    intervalMs: config.tls.reloadSeconds * 1000,
    apply: (pair) => {
      (app.server as Server).setSecureContext({ ...pair, minVersion: "TLSv1.2" });
      logger.info({ certFile }, "serving certificate reloaded");
    },
    onError: (reason) => logger.error({ certFile }, `serving certificate not reloaded: ${reason}`),
  });

  process.on("unhandledRejection", (reason) => {
    logger.error({ err: reason }, "unhandled rejection (kept running)");
  });

  const address = await app.listen({ host: config.listen.host, port: flags.port ?? config.listen.port });
  ready = true;
  logger.info(
    { url: address, mode: config.mode, onRegistryError: config.onRegistryError },
    "pullcheck listening",
  );

  return new Promise((resolve) => {
    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      ready = false;
      logger.info({ signal }, "shutting down: finishing in-flight admissions");
      watcher.close();
      await app.close();
      await client.close();
      await audit.flush();
      logger.flush();
      resolve(0);
    };
    process.once("SIGTERM", () => void shutdown("SIGTERM"));
    process.once("SIGINT", () => void shutdown("SIGINT"));
  });
}
