/**
 * A bounded map whose entries expire: the engine's memory of recent lookups. Insertion
 * order doubles as recency order, so eviction drops the least recently used entry. A hit
 * moves its entry to the back only when it has not been touched for a while: moving on
 * every hit costs a Map delete and insert on the hottest path, and hot entries do not
 * need to be moved to stay far from eviction. The clock is injected so tests control time.
 */
export class ExpiringCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number; touchedAt: number }>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  /** How stale an entry's recency may get before a hit refreshes it. */
  static readonly REFRESH_AFTER_MS = 1000;

  constructor(maxEntries: number, now: () => number = Date.now) {
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    const now = this.#now();
    if (entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    if (now - entry.touchedAt >= ExpiringCache.REFRESH_AFTER_MS) {
      entry.touchedAt = now;
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    return entry.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    this.#entries.delete(key);
    if (ttlMs <= 0) return;
    const now = this.#now();
    this.#entries.set(key, { value, expiresAt: now + ttlMs, touchedAt: now });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
