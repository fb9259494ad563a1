import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";

/** `times`: how many matching requests get the fault before it stops applying (default: unlimited). */
export type Fault =
  /** Answer this instead of forwarding. */
  | { kind: "status"; status: number; headers?: Record<string, string>; body?: string; times?: number }
  /** Accept the request, never answer. */
  | { kind: "stall"; times?: number }
  /** Forward after a delay. */
  | { kind: "delay"; ms: number; times?: number }
  /** Destroy the socket. */
  | { kind: "reset"; times?: number };

export type RequestMatch = (method: string, path: string) => boolean;

export interface ProxiedRequest {
  readonly method: string;
  /** Path and query string as the client sent them. */
  readonly path: string;
  /** Status the client got; 0 while pending, for stalls and for resets. 502: upstream unreachable. */
  readonly status: number;
  /** The fault applied to this request, or null when it was simply forwarded. */
  readonly fault: Fault["kind"] | null;
}

export interface FaultProxy {
  /** "127.0.0.1:PORT" (plain HTTP) */
  readonly host: string;
  readonly url: string;
  /** Every request seen, in order of arrival. */
  readonly requests: ReadonlyArray<ProxiedRequest>;
  /** Sets the one active fault (null: forward everything); match picks the requests it applies to (default all). */
  setFault(fault: Fault | null, match?: RequestMatch): void;
  count(match?: RequestMatch): number;
  /** Clears the request log. */
  reset(): void;
  stop(): Promise<void>;
}

// Connection-level headers describe one hop and must not be copied to the next.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
]);

/** Keeps repeated headers (e.g. several WWW-Authenticate lines) as separate lines, in order. */
export function forwardableRawHeaders(raw: readonly string[], replaceHost?: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) continue;
    if (replaceHost !== undefined && lower === "host") continue;
    out.push(name, raw[i + 1] as string);
  }
  if (replaceHost !== undefined) out.push("Host", replaceHost);
  return out;
}

interface MutableRecord {
  method: string;
  path: string;
  status: number;
  fault: Fault["kind"] | null;
}

/** Proxies plain HTTP to `target` (http or https; caPem trusted for https) and injects faults on demand. */
export async function startFaultProxy(target: { url: string; caPem?: string | null }): Promise<FaultProxy> {
  const upstream = new URL(target.url);
  const isHttps = upstream.protocol === "https:";
  const agent = isHttps
    ? new https.Agent({ keepAlive: true, ...(target.caPem ? { ca: target.caPem } : {}) })
    : new http.Agent({ keepAlive: true });
  const log: MutableRecord[] = [];
  let active: { fault: Fault; match: RequestMatch; used: number } | null = null;
  const timers = new Set<NodeJS.Timeout>();

  const forward = (req: IncomingMessage, res: ServerResponse, record: MutableRecord): void => {
    const transport = isHttps ? https : http;
    const out = transport.request({
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: forwardableRawHeaders(req.rawHeaders, upstream.host),
      agent,
    });
    out.on("response", (answer) => {
      record.status = answer.statusCode ?? 0;
      res.writeHead(record.status, forwardableRawHeaders(answer.rawHeaders));
      answer.pipe(res);
      answer.on("error", () => res.destroy());
    });
    out.on("error", (error) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      record.status = 502;
      res.writeHead(502, { "content-type": "text/plain" });
      res.end(`fault proxy: upstream ${target.url} failed: ${error.message}`);
    });
    // A client that gives up (timeout, abort) must not leave the upstream request running.
    res.on("close", () => {
      if (!res.writableFinished) out.destroy();
    });
    req.pipe(out);
  };

  // The active fault if it applies to this request, counting it against `times`.
  const takeFault = (method: string, path: string): Fault | null => {
    if (active === null || !active.match(method, path)) return null;
    const { fault } = active;
    if (fault.times !== undefined && active.used >= fault.times) return null;
    active.used++;
    return fault;
  };

  const server = http.createServer((req, res) => {
    const method = req.method ?? "GET";
    const path = req.url ?? "/";
    const record: MutableRecord = { method, path, status: 0, fault: null };
    log.push(record);
    const fault = takeFault(method, path);
    if (fault === null) {
      forward(req, res, record);
      return;
    }
    record.fault = fault.kind;
    switch (fault.kind) {
      case "status": {
        req.resume();
        const body = Buffer.from(fault.body ?? "");
        record.status = fault.status;
        res.writeHead(fault.status, { "content-length": body.length, ...fault.headers });
        res.end(body);
        return;
      }
      case "stall":
        req.resume();
        return;
      case "reset":
        req.socket.destroy();
        return;
      case "delay": {
        const timer = setTimeout(() => {
          timers.delete(timer);
          forward(req, res, record);
        }, fault.ms);
        timers.add(timer);
        return;
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, resolve);
  });
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const matchesAll: RequestMatch = () => true;

  return {
    host,
    url: `http://${host}`,
    requests: log,
    setFault: (fault, match = matchesAll) => {
      active = fault === null ? null : { fault, match, used: 0 };
    },
    count: (match = matchesAll) => log.filter((r) => match(r.method, r.path)).length,
    reset: () => {
      log.length = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
