/**
 * The registry client: does this manifest exist and can it be pulled with these credentials?
 * Tries credentials in the kubelet's order and turns every answer into a LookupOutcome.
 */
import { createHash } from "node:crypto";
import type { Dispatcher } from "undici";
import type { MatchedCredential } from "../credentials/types.ts";
import type { ImageReference } from "../reference/types.ts";
import { Attempt, type ChallengeMemory, type Failure } from "./attempt.ts";
import type { Challenge } from "./challenge.ts";
import {
  baseMediaType,
  classifyManifestAnswer,
  classifyTagsProbe,
  isIndexMediaType,
  isSchema1MediaType,
  type ManifestWhy,
  pickMostInformative,
  stopsCredentialLoop,
  usableDigest,
} from "./classify.ts";
import { createDispatcherPool } from "./dispatchers.ts";
import * as msg from "./messages.ts";
import { formatPlatform, missingPlatforms, parseIndex } from "./platform.ts";
import { TokenCache } from "./token-cache.ts";
import type { Exchange } from "./transport.ts";
import type {
  LookupOutcome,
  ManifestLookup,
  Platform,
  RegistrySettings,
  RequestObservation,
} from "./types.ts";

export { formatPlatform, parsePlatform } from "./platform.ts";
export { TokenCache } from "./token-cache.ts";

export interface RegistryClientDeps {
  /** Default: a cached undici Agent per (registry, settings) with connect/headers/body timeouts and the CA. */
  readonly dispatcherFor?: (registry: string, settings: RegistrySettings) => Dispatcher;
  readonly now?: () => number;
  /** Metrics hook: one call per HTTP request. */
  readonly observe?: (o: RequestObservation) => void;
  readonly tokenCache?: TokenCache;
}

export interface RegistryClient {
  lookup(req: ManifestLookup): Promise<LookupOutcome>;
  close(): Promise<void>;
}

/** containerd's limit (REGISTRY.md §2.2, ~4 MiB): a larger manifest or index is refused. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Error bodies and tag lists are only skimmed. */
const SMALL_BODY_BYTES = 64 * 1024;
const MAX_REMEMBERED_CHALLENGES = 1000;

/** The URL that is actually dialed: Docker Hub's API lives at registry-1.docker.io (containerd). */
export function registryEndpoint(registry: string, insecure: boolean): URL {
  const host = registry === "docker.io" ? "registry-1.docker.io" : registry;
  return new URL(`${insecure ? "http" : "https"}://${host}`);
}

/** The reference parser only lets valid domains through; this guards the URL constructor anyway. */
function canDial(registry: string, settings: RegistrySettings): boolean {
  try {
    registryEndpoint(registry, settings.insecure);
    return true;
  } catch {
    return false;
  }
}

function challengeMemory(limit: number): ChallengeMemory {
  const byOrigin = new Map<string, Challenge>();
  const firstContacts = new Map<string, Promise<void>>();
  return {
    get: (origin) => byOrigin.get(origin),
    claimFirstContact(origin) {
      const pending = firstContacts.get(origin);
      if (pending) return pending;
      let release = () => {};
      firstContacts.set(
        origin,
        new Promise<void>((resolve) => {
          release = resolve;
        }),
      );
      return () => {
        firstContacts.delete(origin);
        release();
      };
    },
    set(origin, challenge) {
      byOrigin.delete(origin);
      byOrigin.set(origin, challenge);
      if (byOrigin.size > limit) {
        const oldest = byOrigin.keys().next().value;
        if (oldest !== undefined) byOrigin.delete(oldest);
      }
    },
  };
}

export function createRegistryClient(deps: RegistryClientDeps = {}): RegistryClient {
  // Agents are created lazily, so an unused pool costs nothing.
  const pool = createDispatcherPool();
  const dispatcherFor = deps.dispatcherFor ?? ((registry, settings) => pool.get(registry, settings));
  const now = deps.now ?? Date.now;
  const observe = deps.observe ?? (() => {});
  const tokenCache = deps.tokenCache ?? new TokenCache({ now });
  const challenges = challengeMemory(MAX_REMEMBERED_CHALLENGES);

  async function lookup(req: ManifestLookup): Promise<LookupOutcome> {
    if (!canDial(req.reference.registry, req.settings)) {
      const message = msg.undialable({ reference: req.reference, credential: null });
      return outcomeOf({ result: "registry-error", message }, null);
    }
    const attempts: readonly (MatchedCredential | null)[] =
      req.credentials.length > 0 ? req.credentials : [null];
    const dispatcher = dispatcherFor(req.reference.registry, req.settings);
    // No anonymous attempt once a credential matched: the kubelet has no such fallback.
    const failures: LookupOutcome[] = [];
    for (const credential of attempts) {
      const attempt = new Attempt({
        reference: req.reference,
        credential,
        settings: req.settings,
        signal: req.signal,
        deadline: req.deadline,
        dispatcher,
        now,
        observe,
        tokenCache,
        challenges,
      });
      const outcome = await lookupWith(attempt, req, credential);
      if (outcome.result === "ok") return outcome;
      failures.push(outcome);
      if (stopsCredentialLoop(outcome.result) || req.signal.aborted) break;
    }
    // Every credential failed: report the most informative failure (rule in classify.ts).
    return pickMostInformative(failures) ?? failures[0] ?? bug("no lookup attempt was made");
  }

  return {
    lookup,
    async close() {
      await pool.close();
    },
  };
}

function bug(what: string): never {
  throw new Error(`registry client bug: ${what}`);
}

function manifestUrl(ref: ImageReference, settings: RegistrySettings, target: string): URL {
  return new URL(
    `/v2/${ref.repository}/manifests/${target}`,
    registryEndpoint(ref.registry, settings.insecure),
  );
}

function outcomeOf(failure: Failure, credential: MatchedCredential | null): LookupOutcome {
  return {
    result: failure.result,
    message: failure.message,
    resolvedDigest: null,
    credential,
    mediaType: null,
  };
}

async function lookupWith(
  attempt: Attempt,
  req: ManifestLookup,
  credential: MatchedCredential | null,
): Promise<LookupOutcome> {
  const ref = req.reference;
  const target = ref.digest ?? ref.tag ?? "latest";
  const url = manifestUrl(ref, req.settings, target);
  if (req.signal.aborted) return outcomeOf(attempt.deadlineFailure(), credential);

  let sent = await attempt.send("manifest", "HEAD", url, SMALL_BODY_BYTES);
  if (!sent.ok) return outcomeOf(sent.failure, credential);
  let decision = classifyManifestAnswer(answerOf(sent, credential));
  if (decision.kind === "retry-as-get") {
    sent = await attempt.send("manifest", "GET", url, MAX_MANIFEST_BYTES);
    if (!sent.ok) return outcomeOf(sent.failure, credential);
    decision = classifyManifestAnswer(answerOf(sent, credential));
  }
  switch (decision.kind) {
    case "found":
      return found(attempt, req, credential, sent.exchange);
    case "probe-tags":
      return probeTags(attempt, req, credential);
    case "retry-as-get":
      return bug("a GET was classified as needing a GET");
    case "result":
      return outcomeOf(
        { result: decision.result, message: whyMessage(attempt, decision.why, sent) },
        credential,
      );
  }
}

function answerOf(sent: Extract<Awaited<ReturnType<Attempt["send"]>>, { ok: true }>, credential: unknown) {
  return {
    status: sent.exchange.status,
    hasCredential: credential !== null,
    sent: sent.sent,
    usableChallenge: sent.usableChallenge,
    body: sent.exchange.body.toString("utf8"),
    method: sent.exchange.method,
  };
}

function whyMessage(
  attempt: Attempt,
  why: ManifestWhy,
  sent: Extract<Awaited<ReturnType<Attempt["send"]>>, { ok: true }>,
): string {
  const s = attempt.subject;
  const host = sent.exchange.url.host;
  switch (why) {
    case "basic-rejected":
      return msg.credentialsRejected(s, false);
    case "bearer-refused":
    case "forbidden":
      return s.credential ? msg.accessDenied(s) : msg.notFoundOrUnauthorized(s);
    case "auth-required":
      return msg.credentialsMissing(s);
    case "unsupported-auth":
      return msg.unsupportedAuth(s, sent.schemes);
    case "rate-limited":
      return msg.rateLimited(s, false);
    case "http-to-https":
      return msg.httpToHttps(s);
    case "request-timeout":
    case "server-error":
    case "unexpected-status":
      return msg.registryStatus(s, host, sent.exchange.status, "manifest");
  }
}

/** The manifest exists: settle digest, media type, schema 1 and platforms. */
async function found(
  attempt: Attempt,
  req: ManifestLookup,
  credential: MatchedCredential | null,
  head: Exchange,
): Promise<LookupOutcome> {
  const s = attempt.subject;
  const ref = req.reference;
  let mediaType = baseMediaType(headerText(head.headers["content-type"]));
  if (isSchema1MediaType(mediaType) && mediaType !== null) {
    return outcomeOf({ result: "registry-error", message: msg.schema1(s, mediaType) }, credential);
  }
  let digest = usableDigest(headerText(head.headers["docker-content-digest"]));
  const checkPlatforms = req.platforms.length > 0 && (mediaType === null || isIndexMediaType(mediaType));
  const needBody = checkPlatforms || (digest === null && ref.digest === null);
  if (!needBody) {
    return { result: "ok", message: "", resolvedDigest: digest ?? ref.digest, credential, mediaType };
  }

  let body: Buffer;
  if (head.method === "GET" && head.status === 200 && !head.truncated) {
    body = head.body;
  } else {
    const url = manifestUrl(ref, req.settings, digest ?? ref.digest ?? ref.tag ?? "latest");
    const got = await attempt.send(checkPlatforms ? "index" : "manifest", "GET", url, MAX_MANIFEST_BYTES);
    if (!got.ok) return outcomeOf(got.failure, credential);
    if (got.exchange.status !== 200) {
      const message = msg.registryStatus(s, got.exchange.url.host, got.exchange.status, "manifest GET");
      return outcomeOf({ result: "registry-error", message }, credential);
    }
    if (got.exchange.truncated) {
      const detail = `the manifest is larger than ${MAX_MANIFEST_BYTES / 1024 / 1024} MiB`;
      return outcomeOf(
        { result: "registry-error", message: msg.protocolViolation(s, got.exchange.url.host, detail) },
        credential,
      );
    }
    mediaType ??= baseMediaType(headerText(got.exchange.headers["content-type"]));
    body = got.exchange.body;
  }
  digest ??= ref.digest ?? `sha256:${createHash("sha256").update(body).digest("hex")}`;

  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    const detail = "the manifest is not valid JSON";
    return outcomeOf(
      { result: "registry-error", message: msg.protocolViolation(s, head.url.host, detail) },
      credential,
    );
  }
  const fields = typeof json === "object" && json !== null ? (json as Record<string, unknown>) : {};
  if (mediaType === null && typeof fields.mediaType === "string") mediaType = baseMediaType(fields.mediaType);
  if (fields.schemaVersion === 1) {
    const type = mediaType ?? "application/vnd.docker.distribution.manifest.v1+json";
    return outcomeOf({ result: "registry-error", message: msg.schema1(s, type) }, credential);
  }
  const ok: LookupOutcome = { result: "ok", message: "", resolvedDigest: digest, credential, mediaType };
  const isIndex = isIndexMediaType(mediaType) || Array.isArray(fields.manifests);
  // A single manifest is not platform-checked: containerd does not check the root manifest either.
  if (req.platforms.length === 0 || !isIndex) return ok;

  const index = parseIndex(json);
  if (!index.ok) {
    return outcomeOf(
      { result: "registry-error", message: msg.protocolViolation(s, head.url.host, index.reason) },
      credential,
    );
  }
  const missing = missingPlatforms(req.platforms, index.entries).map(formatPlatform);
  if (missing.length === 0) return ok;
  if (missing.length === req.platforms.length) {
    const available = availablePlatforms(index.entries.map((e) => e.platform));
    return {
      ...ok,
      result: "platform-not-found",
      message: msg.platformsMissing(s, missing, available),
      missingPlatforms: missing,
    };
  }
  return { ...ok, message: msg.somePlatformsMissing(s, missing), missingPlatforms: missing };
}

function availablePlatforms(platforms: readonly (Platform | undefined)[]): string[] {
  const names = platforms
    .filter((p): p is Platform => p !== undefined && p.os !== "unknown" && p.architecture !== "unknown")
    .map(formatPlatform);
  return [...new Set(names)];
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The manifest answered 404: ask the tag list whether the repository exists (TESTING.md §3). */
async function probeTags(
  attempt: Attempt,
  req: ManifestLookup,
  credential: MatchedCredential | null,
): Promise<LookupOutcome> {
  const ref = req.reference;
  const url = new URL(
    `/v2/${ref.repository}/tags/list?n=1`,
    registryEndpoint(ref.registry, req.settings.insecure),
  );
  const sent = await attempt.send("tags", "GET", url, SMALL_BODY_BYTES);
  const verdict = sent.ok
    ? classifyTagsProbe(sent.exchange.status, sent.exchange.body.toString("utf8"))
    : classifyTagsProbe(null, "");
  const s = attempt.subject;
  switch (verdict) {
    case "repository-not-found":
      return outcomeOf({ result: verdict, message: msg.repositoryNotFound(s) }, credential);
    case "tag-not-found":
      return outcomeOf({ result: verdict, message: msg.tagNotFound(s) }, credential);
    case "tag-not-found-unproven":
      return outcomeOf({ result: "tag-not-found", message: msg.tagNotFoundUnproven(s) }, credential);
  }
}
