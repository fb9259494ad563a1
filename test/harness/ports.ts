import { createServer } from "node:net";

/**
 * A TCP port on 127.0.0.1 that was free a moment ago. Another process may take it before the
 * caller binds it, so callers that cannot listen on port 0 themselves (a child process such
 * as the registry) must retry on EADDRINUSE; see `withFreePort`.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("listening on port 0 gave no TCP address"));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

export type PortAttempt<T> = { ok: true; value: T } | { ok: false; portInUse: boolean; error: Error };

/**
 * Runs `start` with fresh free ports until it succeeds or fails for a reason other than the
 * port having been taken in the meantime.
 */
export async function withFreePort<T>(
  start: (port: number) => Promise<PortAttempt<T>>,
  attempts = 5,
): Promise<T> {
  let last: Error | undefined;
  for (let i = 0; i < attempts; i++) {
    const outcome = await start(await freePort());
    if (outcome.ok) return outcome.value;
    if (!outcome.portInUse) throw outcome.error;
    last = outcome.error;
  }
  throw new Error(`no free port after ${attempts} attempts: ${last?.message ?? "unknown"}`);
}
