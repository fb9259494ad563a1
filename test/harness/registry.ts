import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import { join } from "node:path";
import { promisify } from "node:util";
import { basicAuthorization } from "./http.ts";
import type { TestImage } from "./images.ts";
import { readLayout } from "./oci-layout.ts";
import { withFreePort } from "./ports.ts";
import { deleteManifest, pushLayout, type RegistryEndpoint } from "./push.ts";
import { type RegistryAuthConfig, registryConfig } from "./registry-config.ts";
import { launchRegistry, type RegistryProcess } from "./registry-process.ts";
import { harnessTempDir } from "./temp.ts";
import { type CertPair, makeCa, makeServerCert, type TestCa } from "./tls.ts";
import { startTokenServer, type TokenRequestRecord, type TokenServer } from "./token-server.ts";

const execFileAsync = promisify(execFile);

export interface RegistryOptions {
  /** "none": plain HTTP, no auth (default). "htpasswd": HTTPS + Basic. "token": HTTPS + Bearer tokens from our own token server. */
  auth?: "none" | "htpasswd" | "token";
  /** Serve HTTPS even with auth "none" (htpasswd/token always use HTTPS). */
  tls?: boolean;
  /** username -> password, for htpasswd and token auth. */
  users?: Record<string, string>;
  /** token auth: repositories each user may pull (literal names, e.g. "team/app"); key "" = anonymous. Users not listed get tokens with no access (actions: []), like Docker Hub. */
  pullGrants?: Record<string, string[]>;
  /** token auth: also answer the OAuth2 POST form on /token (default false: POST → 404, clients fall back to GET). */
  oauth2Post?: boolean;
}

export interface TestTokenServer {
  /** "https://127.0.0.1:PORT" */
  readonly url: string;
  /** Token requests served so far (GET or POST /token). */
  readonly requests: number;
  /** `${url}/token`, the realm in the registry's challenge. */
  readonly realm: string;
  /** The `service` in the challenge and the token audience. */
  readonly service: string;
  /** Every token request, in order. */
  readonly log: readonly TokenRequestRecord[];
}

export interface TestRegistry {
  /** "127.0.0.1:PORT" */
  readonly host: string;
  /** "http://127.0.0.1:PORT" or "https://…" */
  readonly url: string;
  /** PEM of the CA that signed the registry's (and token server's) certificate. */
  readonly caPem: string | null;
  /** Same, as a file path (named ca.crt, in a directory usable as skopeo's --cert-dir). */
  readonly caFile: string | null;
  readonly tokenServer: TestTokenServer | null;
  /** The push user that always exists with htpasswd/token auth (full rights on every repository). */
  readonly admin: { readonly username: string; readonly password: string };
  /** docker-registry's stderr (log level warn). */
  readonly logFile: string;
  /** Pushes an image with the harness's own push credentials. Returns the manifest digest the registry stores. */
  push(image: TestImage, ref: string): Promise<{ digest: string }>;
  /** Deletes a manifest by digest (storage.delete.enabled is on). */
  deleteManifest(repository: string, digest: string): Promise<void>;
  stop(): Promise<void>;
}

export const ADMIN_USERNAME = "pullcheck-admin";
const SERVICE = "pullcheck-test-registry";
const ISSUER = "pullcheck-test-token-issuer";

/** "team/app:v1" -> team/app + v1; "team/app@sha256:…" -> by digest; "team/app" -> latest. */
export function splitRef(ref: string): { repository: string; tag: string | null } {
  const at = ref.indexOf("@");
  if (at >= 0) return { repository: ref.slice(0, at), tag: null };
  const colon = ref.lastIndexOf(":");
  if (colon > ref.lastIndexOf("/")) return { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repository: ref, tag: "latest" };
}

async function writeHtpasswd(path: string, users: Record<string, string>): Promise<void> {
  const lines: string[] = [];
  for (const [username, password] of Object.entries(users)) {
    // bcrypt is the only hash 2.8.2 accepts; cost 4 (the minimum) because it is checked per request.
    const { stdout } = await execFileAsync("htpasswd", ["-nbB", "-C", "4", username, password]);
    lines.push(stdout.trim());
  }
  await writeFile(path, `${lines.join("\n")}\n`, { mode: 0o600 });
}

interface CertFiles {
  ca: TestCa;
  serverCert: CertPair;
  caFile: string;
  tls: { certificate: string; key: string };
}

// ca.crt sits alone in certs/ so the directory also works as skopeo's --cert-dir.
async function writeCertFiles(dir: string, label: string): Promise<CertFiles> {
  const ca = makeCa({ commonName: `pullcheck test CA (${label})` });
  const serverCert = makeServerCert(ca);
  const caFile = join(dir, "certs", "ca.crt");
  const tls = { certificate: join(dir, "server.crt"), key: join(dir, "server.key") };
  await mkdir(join(dir, "certs"));
  await writeFile(caFile, ca.certPem);
  await writeFile(tls.certificate, serverCert.certPem);
  await writeFile(tls.key, serverCert.keyPem, { mode: 0o600 });
  return { ca, serverCert, caFile, tls };
}

/** The Authorization header the harness's own pushes and deletes send. */
function adminAuthorizer(
  auth: "none" | "htpasswd" | "token",
  admin: { username: string; password: string },
  tokenServer: TokenServer | null,
): (repository: string) => string | undefined {
  if (auth === "htpasswd") {
    const header = basicAuthorization(admin.username, admin.password);
    return () => header;
  }
  if (tokenServer === null) return () => undefined;
  const cache = new Map<string, { header: string; until: number }>();
  return (repository) => {
    const cached = cache.get(repository);
    if (cached !== undefined && cached.until > Date.now()) return cached.header;
    // Minted in-process, so harness pushes never show up in tokenServer.requests.
    const access = [{ type: "repository", name: repository, actions: ["pull", "push", "delete"] }];
    const header = `Bearer ${tokenServer.issue(admin.username, access)}`;
    cache.set(repository, { header, until: Date.now() + 60_000 });
    return header;
  };
}

// A failed push is easier to diagnose next to what the registry logged at warn level.
async function withStderrTail<T>(registry: RegistryProcess, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n--- docker-registry stderr ---\n${registry.stderrTail()}`, { cause: error });
  }
}

export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const auth = options.auth ?? "none";
  const useTls = auth !== "none" || options.tls === true;
  const users = options.users ?? {};
  if (Object.hasOwn(users, ADMIN_USERNAME)) throw new Error(`${ADMIN_USERNAME} is reserved for the harness`);
  const admin = { username: ADMIN_USERNAME, password: randomBytes(12).toString("hex") };
  const allUsers = { ...users, [admin.username]: admin.password };

  const dir = harnessTempDir(`registry-${auth}`);
  const storageDir = join(dir, "storage");
  await mkdir(storageDir);

  const certs = useTls ? await writeCertFiles(dir, auth) : null;
  const ca = certs?.ca ?? null;
  const caFile = certs?.caFile ?? null;
  const tls = certs?.tls ?? null;

  let tokenServer: TokenServer | null = null;
  let authConfig: RegistryAuthConfig = { kind: "none" };
  if (auth === "htpasswd") {
    const path = join(dir, "htpasswd");
    await writeHtpasswd(path, allUsers);
    authConfig = { kind: "htpasswd", realm: "pullcheck test registry", path };
  } else if (auth === "token") {
    if (certs === null) throw new Error("token auth needs TLS");
    tokenServer = await startTokenServer({
      ca: certs.ca,
      tls: certs.serverCert,
      issuer: ISSUER,
      service: SERVICE,
      users: allUsers,
      policy: { superusers: [admin.username], pullGrants: options.pullGrants ?? {} },
      oauth2Post: options.oauth2Post ?? false,
    });
    authConfig = {
      kind: "token",
      realm: tokenServer.realm,
      service: SERVICE,
      issuer: ISSUER,
      rootCertBundle: certs.caFile,
    };
  }

  const scheme = useTls ? "https" : "http";
  const secret = randomBytes(16).toString("hex");
  const logFile = join(dir, "registry.stderr.log");
  let registry: RegistryProcess;
  let port: number;
  try {
    [registry, port] = await withFreePort(async (candidate) => {
      const configPath = join(dir, "config.yml");
      await writeFile(
        configPath,
        registryConfig({ port: candidate, storageDir, secret, tls, auth: authConfig }),
      );
      const launched = await launchRegistry({
        configPath,
        stderrPath: logFile,
        url: `${scheme}://127.0.0.1:${candidate}`,
        caPem: ca?.certPem ?? null,
      });
      return launched.ok ? { ok: true, value: [launched.value, candidate] as const } : launched;
    });
  } catch (error) {
    await tokenServer?.stop();
    throw error;
  }

  const host = `127.0.0.1:${port}`;
  const url = `${scheme}://${host}`;
  const issuingServer = tokenServer;
  const agent = useTls
    ? new https.Agent({ keepAlive: true, maxSockets: 4, ...(ca === null ? {} : { ca: ca.certPem }) })
    : new http.Agent({ keepAlive: true, maxSockets: 4 });
  const endpoint: RegistryEndpoint = {
    url,
    caPem: ca?.certPem ?? null,
    agent,
    authorization: adminAuthorizer(auth, admin, issuingServer),
  };

  let stopped: Promise<void> | undefined;
  return {
    host,
    url,
    caPem: ca?.certPem ?? null,
    caFile,
    tokenServer:
      issuingServer === null
        ? null
        : {
            url: issuingServer.url,
            realm: issuingServer.realm,
            service: SERVICE,
            get requests() {
              return issuingServer.requests;
            },
            log: issuingServer.log,
          },
    admin,
    logFile,
    push: (image, ref) =>
      withStderrTail(registry, async () => {
        const { repository, tag } = splitRef(ref);
        return pushLayout(endpoint, await readLayout(image.layoutDir), repository, tag);
      }),
    deleteManifest: (repository, digest) =>
      withStderrTail(registry, () => deleteManifest(endpoint, repository, digest)),
    stop: () => {
      agent.destroy();
      stopped ??= Promise.all([registry.stop(), issuingServer?.stop()]).then(() => undefined);
      return stopped;
    },
  };
}
