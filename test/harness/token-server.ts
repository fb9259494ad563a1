import { createPrivateKey, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { type AccessEntry, signJwt, tokenClaims } from "./jwt.ts";
import { type CertPair, certDerBase64, makeServerCert, type TestCa } from "./tls.ts";
import { type GrantPolicy, grantAccess, parseScopes } from "./token-grants.ts";

export const TOKEN_LIFETIME_SECONDS = 300;

export interface TokenServerOptions {
  ca: TestCa;
  /** Certificate the HTTPS listener presents (signed by `ca`, valid for 127.0.0.1). */
  tls: CertPair;
  issuer: string;
  service: string;
  /** username -> password; anyone else presenting credentials gets 401. */
  users: Readonly<Record<string, string>>;
  policy: GrantPolicy;
  /**
   * Answer the OAuth2 POST form (grant_type=password) too. Default false: POST gets 404, which
   * the spec tells clients to treat as "use GET" (REGISTRY.md §3.3).
   */
  oauth2Post?: boolean;
}

export interface TokenRequestRecord {
  readonly method: string;
  /** null: anonymous; otherwise the username presented (even if rejected). */
  readonly username: string | null;
  readonly scopes: readonly string[];
  readonly status: number;
}

export interface TokenServer {
  /** "https://127.0.0.1:PORT" */
  readonly url: string;
  /** The realm the registry advertises: `${url}/token`. */
  readonly realm: string;
  /** Token requests (GET or POST /token) received so far. */
  readonly requests: number;
  readonly log: readonly TokenRequestRecord[];
  /** Mints a token directly, without an HTTP round trip (the harness's own pushes use this). */
  issue(subject: string, access: AccessEntry[]): string;
  stop(): Promise<void>;
}

type Credentials =
  | { kind: "anonymous" }
  | { kind: "user"; username: string }
  | { kind: "rejected"; username: string };

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function checkPassword(
  users: Readonly<Record<string, string>>,
  username: string,
  password: string,
): Credentials {
  const expected = Object.hasOwn(users, username) ? users[username] : undefined;
  return expected !== undefined && sameText(expected, password)
    ? { kind: "user", username }
    : { kind: "rejected", username };
}

function basicCredentials(header: string | undefined, users: Readonly<Record<string, string>>): Credentials {
  if (header === undefined) return { kind: "anonymous" };
  const match = /^basic\s+(\S+)$/i.exec(header.trim());
  if (!match?.[1]) return { kind: "rejected", username: "" };
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return { kind: "rejected", username: decoded };
  return checkPassword(users, decoded.slice(0, colon), decoded.slice(colon + 1));
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { "content-type": "application/json", "content-length": bytes.length, ...headers });
  res.end(bytes);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** A Docker-style token server (GET /token, optional OAuth2 POST) over HTTPS on 127.0.0.1. */
export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const signerPair = makeServerCert(options.ca, {
    ips: [],
    dnsNames: [],
    commonName: "pullcheck token signer",
    serverAuth: false,
  });
  const signer = {
    key: createPrivateKey(signerPair.keyPem),
    certDerBase64: certDerBase64(signerPair.certPem),
  };
  const issue = (subject: string, access: AccessEntry[]): string =>
    signJwt(
      tokenClaims({
        issuer: options.issuer,
        service: options.service,
        subject,
        access,
        now: new Date(),
        lifetimeSeconds: TOKEN_LIFETIME_SECONDS,
      }),
      signer,
    );
  const log: TokenRequestRecord[] = [];

  // One decision for both request forms; returns [status, body].
  const answer = (
    credentials: Credentials,
    service: string | null,
    scopeValues: string[],
  ): [number, unknown] => {
    if (credentials.kind === "rejected") {
      return [401, { errors: [{ code: "UNAUTHORIZED", message: "incorrect username or password" }] }];
    }
    if (service !== null && service !== options.service) {
      return [
        400,
        { errors: [{ code: "UNSUPPORTED", message: `unknown service ${JSON.stringify(service)}` }] },
      ];
    }
    const subject = credentials.kind === "user" ? credentials.username : "";
    const token = issue(subject, grantAccess(subject, parseScopes(scopeValues), options.policy));
    const issuedAt = new Date().toISOString();
    return [200, { token, access_token: token, expires_in: TOKEN_LIFETIME_SECONDS, issued_at: issuedAt }];
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "https://token.invalid");
    const method = req.method ?? "GET";
    if (url.pathname !== "/token" || (method !== "GET" && method !== "POST")) {
      sendJson(res, 404, { errors: [{ code: "NOT_FOUND", message: "not found" }] });
      return;
    }
    if (method === "POST" && !options.oauth2Post) {
      await readBody(req);
      log.push({ method, username: null, scopes: [], status: 404 });
      sendJson(res, 404, { errors: [{ code: "NOT_FOUND", message: "OAuth2 POST not offered; use GET" }] });
      return;
    }
    let credentials: Credentials;
    let service: string | null;
    let scopes: string[];
    if (method === "GET") {
      credentials = basicCredentials(req.headers.authorization, options.users);
      service = url.searchParams.get("service");
      scopes = url.searchParams.getAll("scope");
    } else {
      const form = new URLSearchParams(await readBody(req));
      const grant = form.get("grant_type");
      credentials =
        grant === "password"
          ? checkPassword(options.users, form.get("username") ?? "", form.get("password") ?? "")
          : { kind: "rejected", username: "" };
      service = form.get("service");
      scopes = form.getAll("scope");
    }
    const [status, body] = answer(credentials, service, scopes);
    const username = credentials.kind === "anonymous" ? null : credentials.username;
    log.push({ method, username, scopes, status });
    const challenge: Record<string, string> =
      status === 401 ? { "www-authenticate": 'Basic realm="pullcheck test token server"' } : {};
    sendJson(res, status, body, challenge);
  };

  const server = createServer({ cert: options.tls.certPem, key: options.tls.keyPem }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { errors: [{ code: "UNKNOWN", message: String(error) }] });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, resolve);
  });
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    realm: `${url}/token`,
    get requests() {
      return log.length;
    },
    log,
    issue,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
