/**
 * Bounds how many lookups run at once per key (a registry host), so one pod with
 * fifty images from one registry can't open fifty connections to it at once.
 * Waiting respects the caller's AbortSignal.
 */
export class KeyedLimiter {
  readonly #limit: number;
  readonly #running = new Map<string, number>();
  readonly #waiting = new Map<string, Array<() => void>>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  async run<T>(key: string, signal: AbortSignal, task: () => Promise<T>): Promise<T> {
    await this.#acquire(key, signal);
    try {
      return await task();
    } finally {
      this.#release(key);
    }
  }

  #acquire(key: string, signal: AbortSignal): Promise<void> {
    const running = this.#running.get(key) ?? 0;
    if (running < this.#limit) {
      this.#running.set(key, running + 1);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const queue = this.#waiting.get(key) ?? [];
      const grant = () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        const index = queue.indexOf(grant);
        if (index >= 0) queue.splice(index, 1);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      queue.push(grant);
      this.#waiting.set(key, queue);
    });
  }

  #release(key: string): void {
    const next = this.#waiting.get(key)?.shift();
    if (next) {
      next(); // the slot passes straight to the next waiter
      return;
    }
    const running = (this.#running.get(key) ?? 1) - 1;
    if (running === 0) this.#running.delete(key);
    else this.#running.set(key, running);
    if (this.#waiting.get(key)?.length === 0) this.#waiting.delete(key);
  }
}
