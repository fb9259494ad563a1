import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import type { Logger } from "pino";
import type { AdmissionReply } from "../admission/handler.ts";
import type { Mode } from "../admission/verdict.ts";
import type { Metrics } from "./metrics.ts";

export interface AppDeps {
  readonly admit: (body: unknown, routeMode: Mode | null) => Promise<AdmissionReply>;
  readonly metrics: Metrics;
  /** Ready only when certificates and config are loaded. */
  readonly ready: () => boolean;
  readonly logger?: Logger;
  /** TLS material; omitted in tests that use inject(). */
  readonly https?: { cert: string; key: string };
  readonly bodyLimitBytes?: number;
}

/** AdmissionReviews carry the object and its old version; the API server caps objects at ~3 MiB each. */
const DEFAULT_BODY_LIMIT = 7 * 1024 * 1024;

const ROUTE_MODES = new Set<string>(["enforce", "warn", "off"]);

/** Builds the webhook's HTTP app without listening: `serve` listens, tests inject. */
export function buildApp(deps: AppDeps): FastifyInstance {
  // Fastify gets no logger: it would make a child logger for every request only to log
  // nothing (the audit record is the per-admission log). Errors are logged below.
  const options: FastifyServerOptions & { https?: object } = {
    bodyLimit: deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT,
    return503OnClosing: true,
    ...(deps.https ? { https: { ...deps.https, minVersion: "TLSv1.2" } } : {}),
  };
  const app = Fastify(options) as unknown as FastifyInstance;

  // Malformed input of any kind is a 400 with a one-line reason, never a stack trace.
  app.setErrorHandler((error, _request, reply) => {
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) {
      deps.logger?.error({ err: error }, "request failed");
      return reply.code(500).send({ error: "internal error" });
    }
    deps.metrics.badRequests.inc();
    const reason =
      (error as { code?: string }).code === "FST_ERR_CTP_BODY_TOO_LARGE"
        ? `request body is larger than ${deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT} bytes`
        : error instanceof Error
          ? error.message
          : String(error);
    return reply.code(400).send({ error: reason });
  });
  // close() stops new connections and closes idle ones, but a keep-alive socket that is
  // busy at that moment would hold the process open for the whole keep-alive timeout once
  // its answer is sent. Keep closing sockets as they fall idle until close() is done.
  let idleSweeper: NodeJS.Timeout | undefined;
  app.addHook("preClose", async () => {
    const server = app.server as { closeIdleConnections?: () => void };
    idleSweeper = setInterval(() => server.closeIdleConnections?.(), 50);
  });
  app.addHook("onClose", async () => clearInterval(idleSweeper));
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: "not found" }));

  const validate = async (body: unknown, routeMode: Mode | null, reply: import("fastify").FastifyReply) => {
    const stop = deps.metrics.admissionDuration.startTimer();
    const answer = await deps.admit(body, routeMode);
    stop();
    if (answer.status === 400) deps.metrics.badRequests.inc();
    return reply.code(answer.status).send(answer.body);
  };

  app.post("/validate", (request, reply) => validate(request.body, null, reply));
  app.post<{ Params: { mode: string } }>("/validate/:mode", (request, reply) => {
    const mode = request.params.mode;
    if (!ROUTE_MODES.has(mode)) return reply.code(404).send({ error: `unknown mode "${mode}"` });
    return validate(request.body, mode as Mode, reply);
  });
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) =>
    deps.ready() ? { status: "ready" } : reply.code(503).send({ status: "not ready" }),
  );
  app.get("/metrics", async (_request, reply) => {
    reply.header("content-type", deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
  return app;
}
