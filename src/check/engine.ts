import { createHash } from "node:crypto";
import { ABORTED, raceAbort } from "../abort.ts";
import { buildKeyring, lookupCredentials } from "../credentials/keyring.ts";
import type { MatchedCredential } from "../credentials/types.ts";
import { parseReference } from "../reference/parse.ts";
import type { ImageReference } from "../reference/types.ts";
import { formatPlatform, parsePlatform } from "../registry/platform.ts";
import type { LookupOutcome, ManifestLookup, Platform, RegistrySettings } from "../registry/types.ts";
import { classOf, type ResultCategory } from "../results.ts";
import type { ExcludeMatcher } from "./exclude.ts";
import { KeyedLimiter } from "./limiter.ts";
import { ExpiringCache } from "./result-cache.ts";
import type { CheckRequest, CheckResult, CredentialContext, CredentialUse } from "./types.ts";

/** What the engine needs from the registry client. */
export interface ManifestLookupClient {
  lookup(request: ManifestLookup): Promise<LookupOutcome>;
}

/** How the configuration treats one registry host. */
export interface RegistryPolicy {
  readonly settings: RegistrySettings;
  readonly skip: boolean;
  readonly nodeCredentials: boolean;
  /** The `registries` key that applied, for messages; null when none did. */
  readonly pattern: string | null;
}

export interface EngineMetrics {
  cacheHit(): void;
  cacheMiss(): void;
  lookupsInFlight(delta: 1 | -1): void;
}

export interface EngineDeps {
  readonly client: ManifestLookupClient;
  readonly policyFor: (registry: string) => RegistryPolicy;
  readonly excluded: ExcludeMatcher;
  readonly platforms: readonly string[];
  readonly cache: {
    readonly ttlSeconds: number;
    readonly negativeTtlSeconds: number;
    readonly maxEntries: number;
  };
  readonly concurrencyPerRegistry: number;
  /** Budget of one shared registry lookup; callers may give up earlier with their own signal. */
  readonly lookupTimeoutMs: number;
  readonly now?: () => number;
  readonly metrics?: EngineMetrics;
}

export interface Engine {
  /** Checks every request in parallel; never throws, always one result per request, in order. */
  check(
    requests: readonly CheckRequest[],
    credentials: CredentialContext,
    signal: AbortSignal,
  ): Promise<CheckResult[]>;
}

/** Indeterminate outcomes are remembered only briefly: long enough that a dead registry
 * doesn't make every admission wait out its deadline, short enough to recover fast. */
const INDETERMINATE_TTL_MS = 5_000;

/** Parsed image strings kept for reuse; the map is simply emptied when full. */
const MAX_REMEMBERED_IMAGES = 10_000;

export function createEngine(deps: EngineDeps): Engine {
  const now = deps.now ?? Date.now;
  const cache = new ExpiringCache<LookupOutcome>(deps.cache.maxEntries, now);
  const inFlight = new Map<string, Promise<LookupOutcome>>();
  const limiter = new KeyedLimiter(deps.concurrencyPerRegistry);

  function ttlFor(outcome: LookupOutcome): number {
    if (outcome.result === "ok") return deps.cache.ttlSeconds * 1000;
    if (classOf(outcome.result) === "definite") return deps.cache.negativeTtlSeconds * 1000;
    return Math.min(INDETERMINATE_TTL_MS, deps.cache.negativeTtlSeconds * 1000);
  }

  // Parsing is pure and the same few image strings arrive again and again: remember them.
  const parsedImages = new Map<string, ReturnType<typeof parseReference>>();
  function parseRemembered(image: string): ReturnType<typeof parseReference> {
    let parsed = parsedImages.get(image);
    if (parsed === undefined) {
      parsed = parseReference(image);
      if (parsedImages.size >= MAX_REMEMBERED_IMAGES) parsedImages.clear();
      parsedImages.set(image, parsed);
    }
    return parsed;
  }

  /** One registry lookup shared by every caller asking the same question at the same time (after a cache miss). */
  function sharedLookup(key: string, request: Omit<ManifestLookup, "signal">): Promise<LookupOutcome> {
    const running = inFlight.get(key);
    if (running !== undefined) return running;
    deps.metrics?.cacheMiss();
    deps.metrics?.lookupsInFlight(1);
    // A timer cleared on completion, not AbortSignal.timeout: that one keeps the signal and
    // its listeners alive for the whole budget after the lookup has long finished.
    const budget = new AbortController();
    const timer = setTimeout(
      () => budget.abort(new DOMException("the lookup budget ran out", "TimeoutError")),
      deps.lookupTimeoutMs,
    );
    const signal = budget.signal;
    // The signal enforces the budget; the deadline lets the client decide whether a Retry-After wait still fits.
    const deadline = Date.now() + deps.lookupTimeoutMs;
    const lookup = limiter
      .run(request.reference.registry, signal, () => deps.client.lookup({ ...request, signal, deadline }))
      .catch((error: unknown): LookupOutcome => unreachableOutcome(request.reference, error))
      .then((outcome) => {
        cache.set(key, outcome, ttlFor(outcome));
        return outcome;
      })
      .finally(() => {
        clearTimeout(timer);
        inFlight.delete(key);
        deps.metrics?.lookupsInFlight(-1);
      });
    inFlight.set(key, lookup);
    return lookup;
  }

  async function checkOne(
    request: CheckRequest,
    credentials: CredentialContext,
    keyring: ReturnType<typeof buildKeyring>,
    signal: AbortSignal,
  ): Promise<CheckResult> {
    const parsed = parseRemembered(request.image);
    if (!parsed.ok) {
      return {
        image: request.image,
        registry: null,
        repository: null,
        tag: null,
        digest: null,
        result: "invalid-reference",
        resolvedDigest: null,
        credential: null,
        message: `${parsed.reason}; the kubelet would fail this container with InvalidImageName. Fix the image reference.`,
        ...sourceOf(request),
      };
    }
    const reference = parsed.reference;
    const base = { ...referenceFields(request.image, reference), ...sourceOf(request) };
    const finish = (
      result: ResultCategory,
      message: string,
      credential: CredentialUse | null,
    ): CheckResult => ({
      ...base,
      result,
      resolvedDigest: null,
      credential,
      message,
    });

    const pattern = deps.excluded(reference);
    if (pattern !== null) return finish("skipped", `not checked: matches exclude pattern "${pattern}"`, null);
    const policy = deps.policyFor(reference.registry);
    if (policy.skip) {
      return finish(
        "skipped",
        `not checked: registry "${policy.pattern}" is configured with skip: true`,
        null,
      );
    }
    const invalid = credentials.invalid[0];
    if (invalid !== undefined) {
      return finish(
        "pull-secret-invalid",
        `pull secret ${invalid.origin.secret} cannot be parsed (${invalid.reason}); the kubelet fails every image pull of this pod until the secret is fixed`,
        { source: invalid.origin.source, secret: invalid.origin.secret, match: null },
      );
    }

    const platforms = parsePlatforms(request.platforms ?? deps.platforms);
    const matched = lookupCredentials(keyring, reference.name);
    const key = cacheKey(reference, matched, platforms);
    const cached = cache.get(key);
    if (cached !== undefined) deps.metrics?.cacheHit();
    // A shared lookup is waited for only until the caller's own deadline.
    let outcome = cached;
    if (outcome === undefined) {
      const shared = await raceAbort(
        sharedLookup(key, { reference, credentials: matched, platforms, settings: policy.settings }),
        signal,
      );
      outcome = shared === ABORTED ? deadlineOutcome(reference) : shared;
    }

    if (
      policy.nodeCredentials &&
      matched.length === 0 &&
      (outcome.result === "credentials-missing" || outcome.result === "not-found-or-unauthorized")
    ) {
      return finish(
        "skipped",
        `not verified: ${reference.registry} is authenticated by node credentials (registries "${policy.pattern}": nodeCredentials), which pullcheck cannot see, and it refused anonymous access`,
        null,
      );
    }
    return {
      ...base,
      result: outcome.result,
      resolvedDigest: outcome.resolvedDigest,
      credential: credentialUse(outcome.credential),
      message: withMissingSecrets(outcome, credentials.missing),
      ...(outcome.missingPlatforms?.length ? { missingPlatforms: outcome.missingPlatforms } : {}),
    };
  }

  return {
    async check(requests, credentials, signal) {
      const keyring = buildKeyring(credentials.sources);
      return Promise.all(requests.map((request) => checkOne(request, credentials, keyring, signal)));
    },
  };
}

function deadlineOutcome(reference: ImageReference): LookupOutcome {
  return {
    result: "registry-unreachable",
    message: `${reference.registry} did not answer within the admission deadline; check that the registry is reachable from the cluster`,
    resolvedDigest: null,
    credential: null,
    mediaType: null,
  };
}

function unreachableOutcome(reference: ImageReference, error: unknown): LookupOutcome {
  const aborted = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
  if (aborted) return deadlineOutcome(reference);
  // The client promises not to throw; reaching this is a bug, reported as an indeterminate result.
  return {
    result: "registry-error",
    message: `internal error while checking ${reference.registry}: ${error instanceof Error ? error.message : String(error)}`,
    resolvedDigest: null,
    credential: null,
    mediaType: null,
  };
}

function parsePlatforms(specs: readonly string[]): Platform[] {
  const platforms: Platform[] = [];
  for (const spec of specs) {
    const parsed = parsePlatform(spec);
    if ("error" in parsed) continue; // validated where the platforms entered (config schema, CLI flags)
    platforms.push(parsed);
  }
  return platforms;
}

/** Same reference, same credentials (by identity, never by secret value in clear), same platforms ⇒ same answer. */
function cacheKey(
  reference: ImageReference,
  credentials: readonly MatchedCredential[],
  platforms: Platform[],
): string {
  const ref = `${reference.name}${reference.digest ? `@${reference.digest}` : `:${reference.tag}`}`;
  return `${ref}|${credentialsIdentity(credentials)}|${platforms.map(formatPlatform).join(",")}`;
}

function credentialsIdentity(credentials: readonly MatchedCredential[]): string {
  if (credentials.length === 0) return "anonymous";
  const identity = createHash("sha256");
  for (const credential of credentials) identity.update(`${credential.username}\0${credential.password}\0`);
  return identity.digest("base64url");
}

function referenceFields(image: string, reference: ImageReference) {
  return {
    image,
    registry: reference.registry,
    repository: reference.repository,
    tag: reference.tag,
    digest: reference.digest,
  };
}

function sourceOf(request: CheckRequest): { source?: string } {
  return request.source === undefined ? {} : { source: request.source };
}

function credentialUse(credential: MatchedCredential | null): CredentialUse {
  if (credential === null) return { source: "anonymous", secret: null, match: null };
  return { source: credential.origin.source, secret: credential.origin.secret, match: credential.match };
}

function withMissingSecrets(outcome: LookupOutcome, missing: readonly string[]): string {
  const credentialProblem =
    outcome.result === "credentials-missing" ||
    outcome.result === "not-found-or-unauthorized" ||
    outcome.result === "access-denied";
  if (!credentialProblem || missing.length === 0) return outcome.message;
  const names = missing.join(", ");
  return `${outcome.message} (referenced pull secret${missing.length > 1 ? "s" : ""} ${names} not found in the namespace)`;
}
