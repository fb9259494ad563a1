/**
 * Bearer token cache. Pure apart from the injected clock.
 *
 * Keyed by (realm, service, scope, credential identity); the identity is the username
 * plus a SHA-256 of the password, so a rotated password never reuses the old token and
 * no password is kept as a key.
 */
import { createHash } from "node:crypto";

export interface TokenKey {
  readonly realm: string;
  readonly service: string;
  readonly scope: string;
  /** From credentialIdentity(). */
  readonly identity: string;
}

export interface TokenLifetime {
  /** `expires_in` from the token response, seconds; missing or non-positive = 60 s (distribution token spec). */
  readonly expiresInSeconds?: number;
  /** `issued_at` from the token response (RFC 3339); missing, unparsable or in the future = now. */
  readonly issuedAt?: string;
}

export interface TokenCacheOptions {
  readonly now?: () => number;
  readonly maxEntries?: number;
  /** Tokens are dropped this long before they expire, so a request never carries a token that dies in flight. */
  readonly marginMs?: number;
}

const DEFAULT_LIFETIME_SECONDS = 60;

export function credentialIdentity(credential: { username: string; password: string } | null): string {
  if (credential === null) return "anonymous";
  const digest = createHash("sha256").update(credential.password).digest("hex");
  return `${credential.username}\u0000${digest}`;
}

/** Absolute expiry (ms) of a token received at `now`, per the distribution token spec. */
export function tokenExpiry(lifetime: TokenLifetime, now: number): number {
  const parsed = lifetime.issuedAt === undefined ? Number.NaN : Date.parse(lifetime.issuedAt);
  const issued = Number.isFinite(parsed) && parsed <= now ? parsed : now;
  const seconds =
    lifetime.expiresInSeconds !== undefined &&
    Number.isFinite(lifetime.expiresInSeconds) &&
    lifetime.expiresInSeconds > 0
      ? lifetime.expiresInSeconds
      : DEFAULT_LIFETIME_SECONDS;
  return issued + seconds * 1000;
}

interface Entry {
  readonly token: string;
  readonly usableUntil: number;
}

export class TokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  readonly #maxEntries: number;
  readonly #marginMs: number;

  constructor(options: TokenCacheOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxEntries = Math.max(1, options.maxEntries ?? 1000);
    this.#marginMs = options.marginMs ?? 5000;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: TokenKey): string | undefined {
    const id = keyString(key);
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    if (entry.usableUntil <= this.#now()) {
      this.#entries.delete(id);
      return undefined;
    }
    // Refresh recency so eviction drops the least recently used entry.
    this.#entries.delete(id);
    this.#entries.set(id, entry);
    return entry.token;
  }

  set(key: TokenKey, token: string, lifetime: TokenLifetime = {}): void {
    const now = this.#now();
    const expiry = tokenExpiry(lifetime, now);
    // Short-lived tokens keep at least half their life: a 60 s token is usable for 55 s, a 6 s one for 3 s.
    const margin = Math.min(this.#marginMs, (expiry - now) / 2);
    const usableUntil = expiry - margin;
    const id = keyString(key);
    this.#entries.delete(id);
    if (usableUntil <= now) return;
    this.#entries.set(id, { token, usableUntil });
    this.#evict(now);
  }

  delete(key: TokenKey): void {
    this.#entries.delete(keyString(key));
  }

  #evict(now: number): void {
    if (this.#entries.size <= this.#maxEntries) return;
    for (const [id, entry] of this.#entries) {
      if (entry.usableUntil <= now) this.#entries.delete(id);
    }
    for (const id of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(id);
    }
  }
}

function keyString(key: TokenKey): string {
  return JSON.stringify([key.realm, key.service, key.scope, key.identity]);
}
