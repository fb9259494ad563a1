import type { IncomingHttpHeaders } from "node:http";
import http from "node:http";
import https from "node:https";

export interface HarnessResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Header name (lowercase) -> every value, in order; repeated headers stay separate. */
  readonly headerLines: ReadonlyMap<string, readonly string[]>;
  readonly body: Buffer;
}

export interface HarnessRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** PEM trusted for https URLs instead of the system store (null/absent: the system store). */
  caPem?: string | null;
  timeoutMs?: number;
  /** A keep-alive agent to reuse connections (its own `ca` applies); default: a fresh connection. */
  agent?: http.Agent;
}

function headerLinesOf(raw: string[]): Map<string, string[]> {
  const lines = new Map<string, string[]>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const list = lines.get(name) ?? [];
    list.push(raw[i + 1] as string);
    lines.set(name, list);
  }
  return lines;
}

/** One HTTP(S) request from the harness itself. */
export function harnessRequest(request: HarnessRequest): Promise<HarnessResponse> {
  const url = new URL(request.url);
  const isHttps = url.protocol === "https:";
  const transport = isHttps ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      url,
      {
        method: request.method ?? "GET",
        headers: request.headers ?? {},
        agent: request.agent ?? false,
        timeout: request.timeoutMs ?? 15_000,
        ...(isHttps ? { ca: request.caPem ?? undefined } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            headerLines: headerLinesOf(res.rawHeaders),
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${request.method ?? "GET"} ${request.url} timed out`)));
    req.on("error", reject);
    req.end(request.body);
  });
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}
