/**
 * One credential's conversation with a registry: authorization per origin, the token flow,
 * redirects and retries. IO comes in through the context. Policy decisions live in classify.ts.
 */

import { setTimeout as sleep } from "node:timers/promises";
import type { Dispatcher } from "undici";
import { raceAbort } from "../abort.ts";
import type { MatchedCredential } from "../credentials/types.ts";
import type { ImageReference } from "../reference/types.ts";
import type { ResultCategory } from "../results.ts";
import { type Challenge, parseChallenges, pickChallenge } from "./challenge.ts";
import {
  classifyTokenStatus,
  classifyTransportError,
  MANIFEST_ACCEPT,
  parseRetryAfter,
  retryWait,
  type SentAuthorization,
} from "./classify.ts";
import * as msg from "./messages.ts";
import { checkRealm } from "./realm.ts";
import { credentialIdentity, type TokenCache, type TokenKey } from "./token-cache.ts";
import { type Exchange, exchange, firstHeader } from "./transport.ts";
import type { RegistrySettings, RequestObservation } from "./types.ts";

export interface Failure {
  readonly result: ResultCategory;
  readonly message: string;
}

/** Challenges seen per origin, so later lookups can send a cached token without a 401 round trip. */
export interface ChallengeMemory {
  get(origin: string): Challenge | undefined;
  set(origin: string, challenge: Challenge): void;
  /**
   * First contact with an origin whose challenge is unknown: the first caller gets a
   * release function and makes the request; callers arriving meanwhile get a promise
   * that settles when that request has been answered (and its challenge remembered).
   */
  claimFirstContact(origin: string): (() => void) | Promise<void>;
}

export interface AttemptContext {
  readonly reference: ImageReference;
  readonly credential: MatchedCredential | null;
  readonly settings: RegistrySettings;
  readonly signal: AbortSignal;
  readonly deadline: number | undefined;
  readonly dispatcher: Dispatcher;
  readonly now: () => number;
  readonly observe: (o: RequestObservation) => void;
  readonly tokenCache: TokenCache;
  readonly challenges: ChallengeMemory;
}

export type SendResult =
  | {
      readonly ok: true;
      readonly exchange: Exchange;
      /** What the final request carried. */
      readonly sent: SentAuthorization;
      /** A final 401 offered Basic or Bearer. */
      readonly usableChallenge: boolean;
      /** Schemes a final 401 offered, for messages. */
      readonly schemes: readonly string[];
    }
  | { readonly ok: false; readonly failure: Failure };

type RequestKind = RequestObservation["kind"];

type OriginAuth =
  | { readonly scheme: "basic"; readonly header: string }
  | { readonly scheme: "bearer"; readonly header: string; readonly key: TokenKey; readonly fresh: boolean };

type TokenResult =
  | { readonly ok: true; readonly token: string }
  | { readonly ok: false; readonly failure: Failure };

const MAX_REDIRECTS = 5;

/** Retries spent on one request, per kind. */
interface RetryBudget {
  throttled: number;
  server: number;
}

const MAX_RATE_RETRIES = 2;
const MAX_SERVER_RETRIES = 1;
const MAX_AUTH_ROUNDS = 3;
const RATE_RETRY_DEFAULT_MS = 250;
const SERVER_RETRY_DEFAULT_MS = 100;
const TOKEN_BODY_LIMIT = 1024 * 1024;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export function basicHeader(credential: MatchedCredential): string {
  return `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString("base64")}`;
}

/**
 * Scopes to ask for: the challenge's own scopes for this repository when it names them,
 * else `repository:<repo>:pull`.
 */
export function scopesFor(challenge: Challenge | undefined, repository: string): string[] {
  const offered = (challenge?.params.get("scope") ?? "").split(" ").filter((s) => s !== "");
  const mine = offered.filter((s) => {
    const parts = s.split(":");
    return parts.length >= 3 && parts[0] === "repository" && parts.slice(1, -1).join(":") === repository;
  });
  return mine.length > 0 ? mine : [`repository:${repository}:pull`];
}

export class Attempt {
  readonly #ctx: AttemptContext;
  readonly #auth = new Map<string, OriginAuth>();
  readonly #subject: msg.MessageSubject;

  constructor(ctx: AttemptContext) {
    this.#ctx = ctx;
    this.#subject = { reference: ctx.reference, credential: ctx.credential };
  }

  get subject(): msg.MessageSubject {
    return this.#subject;
  }

  /** The outcome when the lookup's deadline fired. */
  deadlineFailure(): Failure {
    return { result: "registry-unreachable", message: msg.deadline(this.#subject) };
  }

  /**
   * Sends one registry request, answering auth challenges, following redirects and retrying
   * 429/408/5xx/405 as REGISTRY.md §2.4 describes. Returns the final answer or a failure.
   */
  async send(kind: RequestKind, method: "GET" | "HEAD", url: URL, maxBodyBytes: number): Promise<SendResult> {
    const ctx = this.#ctx;
    let current = url;
    let verb = method;
    let redirects = 0;
    const retries: RetryBudget = { throttled: 0, server: 0 };
    let authRounds = 0;
    let retriedAsGet = false;
    let predicted = false;
    let contacted = false;
    for (;;) {
      if (ctx.signal.aborted) return { ok: false, failure: this.deadlineFailure() };
      let auth = this.#authorizationFor(current);
      let releaseFirstContact: (() => void) | undefined;
      if (
        auth === undefined &&
        !contacted &&
        ctx.credential !== null &&
        ctx.challenges.get(current.origin) === undefined
      ) {
        // Many lookups with credentials start at once against a registry we have not
        // talked to yet (a pod with ten private images): let one draw the 401 and the rest
        // reuse its challenge. Only with credentials, where a challenge is all but certain:
        // anonymous lookups may well get their answer at once, and waiting would cost them
        // a round trip.
        contacted = true;
        const claim = ctx.challenges.claimFirstContact(current.origin);
        if (typeof claim !== "function") {
          await raceAbort(claim, ctx.signal);
          continue;
        }
        releaseFirstContact = claim;
      }
      const known = auth === undefined && !predicted ? ctx.challenges.get(current.origin) : undefined;
      if (known?.scheme === "bearer") {
        // The registry's challenge is known from an earlier lookup: fetch this scope's token
        // first instead of spending an unauthenticated round trip on a 401 we can predict.
        // Only an optimisation: if it fails, the registry's own challenge decides below.
        predicted = true;
        const authorized = await this.#authorize(current, known);
        if (authorized.ok) auth = this.#auth.get(current.origin);
      }
      const headers: Record<string, string> = {
        accept: kind === "tags" ? "application/json" : MANIFEST_ACCEPT,
      };
      if (auth) headers.authorization = auth.header;
      let result: Awaited<ReturnType<typeof exchange>>;
      try {
        result = await this.#timed(kind, verb, current, headers, maxBodyBytes);
      } finally {
        // Waiters resume after the 401 below has been remembered (no await in between).
        releaseFirstContact?.();
      }
      if (!result.ok) return { ok: false, failure: this.#transportFailure(result.error, current) };
      const ex = result.exchange;
      const status = ex.status;

      if (REDIRECT_STATUSES.has(status)) {
        const next = this.#redirectTarget(ex, ++redirects);
        if (!next.ok) return next;
        current = next.url;
        continue;
      }
      if (status === 401) {
        const offered = parseChallenges(ex.headers["www-authenticate"]);
        const chosen = pickChallenge(offered);
        const final: SendResult = {
          ok: true,
          exchange: ex,
          sent: auth?.scheme ?? "none",
          usableChallenge: chosen !== null,
          schemes: offered.map((c) => c.scheme),
        };
        if (chosen === null) return final;
        ctx.challenges.set(current.origin, chosen);
        // A credential sent fresh and refused again is the registry's final word.
        if (auth && (auth.scheme === "basic" || auth.fresh)) return final;
        if (++authRounds > MAX_AUTH_ROUNDS) return final;
        // A cached token was refused (expired early, revoked, invalid_token): fetch a new one.
        if (auth?.scheme === "bearer") ctx.tokenCache.delete(auth.key);
        const authorized = await this.#authorize(current, chosen);
        if (!authorized.ok) return authorized;
        if (!authorized.sendable) return final;
        continue;
      }
      const backOff = await this.#backOff(status, ex, retries);
      if (backOff === "retry") continue;
      if (backOff === "deadline") return { ok: false, failure: this.deadlineFailure() };
      if (status === 405 && verb === "HEAD" && !retriedAsGet) {
        // Registries that never implemented HEAD (containerd retries these as GET).
        retriedAsGet = true;
        verb = "GET";
        continue;
      }
      return { ok: true, exchange: ex, sent: auth?.scheme ?? "none", usableChallenge: false, schemes: [] };
    }
  }

  async #timed(
    kind: RequestKind,
    method: "GET" | "HEAD",
    url: URL,
    headers: Record<string, string>,
    maxBodyBytes: number,
  ): ReturnType<typeof exchange> {
    const ctx = this.#ctx;
    const started = ctx.now();
    const result = await exchange(ctx.dispatcher, { url, method, headers, signal: ctx.signal, maxBodyBytes });
    ctx.observe({
      registry: ctx.reference.registry,
      kind,
      method,
      status: result.ok ? result.exchange.status : "error",
      seconds: Math.max(0, ctx.now() - started) / 1000,
    });
    return result;
  }

  #transportFailure(error: unknown, url: URL): Failure {
    if (this.#ctx.signal.aborted) return this.deadlineFailure();
    const problem = classifyTransportError(error);
    const message =
      problem.result === "tls-error"
        ? msg.tlsFailure(this.#subject, url.host, problem.reason, problem.code)
        : msg.unreachable(this.#subject, url.host, problem.reason, problem.code);
    return { result: problem.result, message };
  }

  #redirectTarget(
    ex: Exchange,
    count: number,
  ): { readonly ok: true; readonly url: URL } | { readonly ok: false; readonly failure: Failure } {
    const violation = (detail: string) => ({
      ok: false as const,
      failure: {
        result: "registry-error" as const,
        message: msg.protocolViolation(this.#subject, ex.url.host, detail),
      },
    });
    if (count > MAX_REDIRECTS) return violation(`it redirected more than ${MAX_REDIRECTS} times`);
    const location = firstHeader(ex.headers.location);
    if (!location) return violation(`it answered ${ex.status} without a Location header`);
    let next: URL;
    try {
      next = new URL(location, ex.url);
    } catch {
      return violation("it redirected to an invalid URL");
    }
    if (next.protocol !== "https:" && !(next.protocol === "http:" && this.#ctx.settings.insecure)) {
      return violation(`it redirected to a ${next.protocol.replace(":", "")} URL`);
    }
    return { ok: true, url: next };
  }

  /**
   * Throttling (429, 408) and server errors (5xx) are retried a bounded number of times,
   * and only when the wait fits before the deadline: "retry" after waiting, "deadline"
   * when the deadline ran out while waiting, "no" when this status is final.
   */
  async #backOff(status: number, ex: Exchange, retries: RetryBudget): Promise<"retry" | "deadline" | "no"> {
    const throttled = status === 429 || status === 408;
    if (!throttled && status < 500) return "no";
    const wait = throttled
      ? this.#retryWait(retries.throttled, MAX_RATE_RETRIES, ex, RATE_RETRY_DEFAULT_MS)
      : this.#retryWait(retries.server, MAX_SERVER_RETRIES, ex, SERVER_RETRY_DEFAULT_MS);
    if (wait === null) return "no";
    if (throttled) retries.throttled++;
    else retries.server++;
    return (await this.#sleep(wait)) ? "retry" : "deadline";
  }

  #retryWait(attempts: number, maxAttempts: number, ex: Exchange, defaultMs: number): number | null {
    const now = this.#ctx.now();
    const requested = parseRetryAfter(firstHeader(ex.headers["retry-after"]), now);
    const remainingMs = this.#ctx.deadline === undefined ? null : this.#ctx.deadline - now;
    return retryWait({ attempts, maxAttempts, remainingMs }, requested, defaultMs);
  }

  /** Waits, unless the deadline fires first (then false). */
  async #sleep(ms: number): Promise<boolean> {
    try {
      await sleep(ms, undefined, { signal: this.#ctx.signal });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The Authorization for a request to `url`: only ever what was obtained for that exact
   * origin (scheme, host, port), so a redirect never carries a token or password elsewhere.
   * Without one yet, a challenge remembered from an earlier lookup lets a cached token go first.
   */
  #authorizationFor(url: URL): OriginAuth | undefined {
    const held = this.#auth.get(url.origin);
    if (held) return held;
    const known = this.#ctx.challenges.get(url.origin);
    if (known === undefined) return undefined;
    const credential = this.#ctx.credential;
    if (known.scheme === "basic") {
      if (credential === null) return undefined;
      const basic: OriginAuth = { scheme: "basic", header: basicHeader(credential) };
      this.#auth.set(url.origin, basic);
      return basic;
    }
    const key = this.#tokenKey(known);
    if (key === null) return undefined;
    const token = this.#ctx.tokenCache.get(key);
    if (token === undefined) return undefined;
    const bearer: OriginAuth = { scheme: "bearer", header: `Bearer ${token}`, key, fresh: false };
    this.#auth.set(url.origin, bearer);
    return bearer;
  }

  #tokenKey(challenge: Challenge): TokenKey | null {
    const realm = challenge.params.get("realm");
    if (!realm) return null;
    return {
      realm,
      service: challenge.params.get("service") ?? "",
      scope: scopesFor(challenge, this.#ctx.reference.repository).join(" "),
      identity: credentialIdentity(this.#ctx.credential),
    };
  }

  /** Answers a challenge from `url`'s origin. `sendable: false` = nothing to send (no credential for Basic). */
  async #authorize(
    url: URL,
    challenge: Challenge,
  ): Promise<
    { readonly ok: true; readonly sendable: boolean } | { readonly ok: false; readonly failure: Failure }
  > {
    const ctx = this.#ctx;
    const credential = ctx.credential;
    this.#auth.delete(url.origin);
    if (challenge.scheme === "basic") {
      if (credential === null) return { ok: true, sendable: false };
      if (credential.username === "" || credential.password === "") {
        // containerd refuses Basic with an empty half ("no basic auth credentials").
        return {
          ok: false,
          failure: {
            result: "credentials-rejected",
            message: msg.credentialsIncomplete(this.#subject),
          },
        };
      }
      this.#auth.set(url.origin, { scheme: "basic", header: basicHeader(credential) });
      return { ok: true, sendable: true };
    }

    const key = this.#tokenKey(challenge);
    if (key === null) {
      return {
        ok: false,
        failure: {
          result: "registry-error",
          message: msg.protocolViolation(this.#subject, url.host, "its Bearer challenge has no realm"),
        },
      };
    }
    const realm = checkRealm(key.realm, url, ctx.settings);
    if (!realm.ok) {
      return {
        ok: false,
        failure: { result: "registry-error", message: msg.realmRefused(this.#subject, realm.reason) },
      };
    }
    const cached = ctx.tokenCache.get(key);
    if (cached !== undefined) {
      this.#auth.set(url.origin, { scheme: "bearer", header: `Bearer ${cached}`, key, fresh: false });
      return { ok: true, sendable: true };
    }
    const fetched = await this.#fetchToken(realm.url, key, url);
    if (!fetched.ok) return fetched;
    this.#auth.set(url.origin, { scheme: "bearer", header: `Bearer ${fetched.token}`, key, fresh: true });
    return { ok: true, sendable: true };
  }

  /** GET <realm>?service=…&scope=… with Basic credentials when there are some (REGISTRY.md §3.3). */
  async #fetchToken(realm: URL, key: TokenKey, registryUrl: URL): Promise<TokenResult> {
    const ctx = this.#ctx;
    const credential = ctx.credential;
    let current = new URL(realm);
    if (key.service !== "") current.searchParams.set("service", key.service);
    for (const scope of key.scope.split(" ")) current.searchParams.append("scope", scope);
    const credentialOrigin = current.origin;
    let redirects = 0;
    const retries: RetryBudget = { throttled: 0, server: 0 };
    const fail = (result: ResultCategory, message: string): TokenResult => ({
      ok: false,
      failure: { result, message },
    });

    for (;;) {
      if (ctx.signal.aborted) return { ok: false, failure: this.deadlineFailure() };
      const headers: Record<string, string> = { accept: "application/json" };
      // The password only ever goes to the realm the registry named, not to where it redirects.
      if (credential && current.origin === credentialOrigin) headers.authorization = basicHeader(credential);
      const result = await this.#timed("token", "GET", current, headers, TOKEN_BODY_LIMIT);
      if (!result.ok) return { ok: false, failure: this.#transportFailure(result.error, current) };
      const ex = result.exchange;
      const status = ex.status;

      if (REDIRECT_STATUSES.has(status)) {
        const next = this.#redirectTarget(ex, ++redirects);
        if (!next.ok) return next;
        const allowed = checkRealm(next.url.href, registryUrl, ctx.settings);
        if (!allowed.ok) return fail("registry-error", msg.realmRefused(this.#subject, allowed.reason));
        current = next.url;
        continue;
      }
      if (status === 200) return this.#acceptToken(ex, key);
      const backOff = await this.#backOff(status, ex, retries);
      if (backOff === "retry") continue;
      if (backOff === "deadline") return { ok: false, failure: this.deadlineFailure() };
      const category = classifyTokenStatus(status, credential !== null);
      switch (category) {
        case "credentials-rejected":
          return fail(category, msg.credentialsRejected(this.#subject, true));
        case "credentials-missing":
          return fail(category, msg.credentialsMissing(this.#subject));
        case "rate-limited":
          return fail(category, msg.rateLimited(this.#subject, true));
        default:
          return fail(category, msg.registryStatus(this.#subject, current.host, status, "token"));
      }
    }
  }

  #acceptToken(ex: Exchange, key: TokenKey): TokenResult {
    const violation = (detail: string): TokenResult => ({
      ok: false,
      failure: {
        result: "registry-error",
        message: msg.protocolViolation(this.#subject, ex.url.host, detail),
      },
    });
    if (ex.truncated) return violation("its token response is larger than 1 MiB");
    let body: unknown;
    try {
      body = JSON.parse(ex.body.toString("utf8"));
    } catch {
      return violation("its token response is not JSON");
    }
    if (typeof body !== "object" || body === null)
      return violation("its token response is not a JSON object");
    const fields = body as Record<string, unknown>;
    const pick = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);
    // access_token first, like containerd and ggcr (the spec leaves a mismatch undefined).
    const token = pick(fields.access_token) ?? pick(fields.token);
    if (token === undefined) return violation("its token service answered without a token");
    const expiresIn = typeof fields.expires_in === "number" ? fields.expires_in : undefined;
    const issuedAt = typeof fields.issued_at === "string" ? fields.issued_at : undefined;
    this.#ctx.tokenCache.set(key, token, {
      ...(expiresIn !== undefined ? { expiresInSeconds: expiresIn } : {}),
      ...(issuedAt !== undefined ? { issuedAt } : {}),
    });
    return { ok: true, token };
  }
}
