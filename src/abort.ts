/** What `raceAbort` settles with when the signal fired first. */
export const ABORTED: unique symbol = Symbol("aborted");

/**
 * Settles with `work`'s result, or with ABORTED as soon as `signal` fires, whichever comes
 * first. The work itself goes on (a shared lookup may still fill a cache); only this wait
 * ends. A rejection of `work` before the signal fires is passed on.
 */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
