/**
 * One HTTP exchange over undici, body read up to a limit. IO; no policy.
 * Failures come back as values; the caller classifies them.
 */
import type { Dispatcher } from "undici";
import { request } from "undici";

export type HeaderValue = string | string[] | undefined;

export interface Exchange {
  readonly url: URL;
  readonly method: string;
  readonly status: number;
  readonly headers: Readonly<Record<string, HeaderValue>>;
  readonly body: Buffer;
  /** The body was longer than the limit and was cut off. */
  readonly truncated: boolean;
}

export type ExchangeResult =
  | { readonly ok: true; readonly exchange: Exchange }
  | { readonly ok: false; readonly error: unknown };

export interface ExchangeRequest {
  readonly url: URL;
  readonly method: "GET" | "HEAD";
  readonly headers: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
  readonly maxBodyBytes: number;
}

export async function exchange(dispatcher: Dispatcher, req: ExchangeRequest): Promise<ExchangeResult> {
  try {
    const response = await request(req.url, {
      dispatcher,
      method: req.method,
      headers: req.headers,
      signal: req.signal,
      // undici closes the connection after every HEAD (for servers that wrongly send a
      // body); registries answer HEAD correctly, and a new TLS handshake per lookup would
      // cost more than the lookup itself.
      reset: false,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > req.maxBodyBytes) {
        truncated = true;
        response.body.destroy();
        break;
      }
      chunks.push(chunk);
    }
    return {
      ok: true,
      exchange: {
        url: req.url,
        method: req.method,
        status: response.statusCode,
        headers: response.headers,
        body: Buffer.concat(chunks),
        truncated,
      },
    };
  } catch (error) {
    return { ok: false, error };
  }
}

/** The first value of a header (repeated headers arrive as arrays). */
export function firstHeader(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
