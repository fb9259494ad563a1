import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { handleAdmission } from "../admission/handler.ts";
import type { AuditSink } from "../audit.ts";
import type { Engine } from "../check/engine.ts";
import type { Config } from "../config/schema.ts";
import type { KubeReader } from "../credentials/kube.ts";
import { buildApp } from "./app.ts";
import type { Metrics } from "./metrics.ts";

export interface WebhookAppDeps {
  readonly config: Config;
  readonly engine: Engine;
  readonly kube: KubeReader;
  readonly audit: AuditSink;
  readonly metrics: Metrics;
  readonly ready: () => boolean;
  readonly logger?: Logger;
  readonly https?: { cert: string; key: string };
}

/** The webhook as `serve` runs it: the HTTP app with admissions wired to the engine, audit and metrics. */
export function buildWebhookApp(deps: WebhookAppDeps): FastifyInstance {
  return buildApp({
    admit: (body, routeMode) =>
      handleAdmission(body, routeMode, {
        engine: deps.engine,
        kube: deps.kube,
        audit: deps.audit,
        settings: deps.config,
        onDecision: deps.metrics.recordDecision,
      }),
    metrics: deps.metrics,
    ready: deps.ready,
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(deps.https ? { https: deps.https } : {}),
  });
}
