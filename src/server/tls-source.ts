import { readFile } from "node:fs/promises";
import { createSecureContext } from "node:tls";

export interface TlsPair {
  readonly cert: string;
  readonly key: string;
}

export interface TlsSource {
  /** The pair in use. */
  current(): TlsPair;
  /** Stops watching. */
  close(): void;
}

/** Reads a cert/key pair and proves they belong together; a one-line reason otherwise. */
export async function readTlsPair(
  certFile: string,
  keyFile: string,
): Promise<{ ok: true; pair: TlsPair } | { ok: false; reason: string }> {
  let cert: string;
  let key: string;
  try {
    [cert, key] = await Promise.all([readFile(certFile, "utf8"), readFile(keyFile, "utf8")]);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    return {
      ok: false,
      reason: `cannot read ${e.path ?? `${certFile}/${keyFile}`} (${e.code ?? e.message})`,
    };
  }
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    return {
      ok: false,
      reason: `${certFile} and ${keyFile} are not a usable pair (${(error as Error).message})`,
    };
  }
  return { ok: true, pair: { cert, key } };
}

/**
 * Re-reads the files every `intervalMs` and hands a changed, valid pair to `apply`
 * (Secret volume rotation swaps the files underneath us; polling is immune to the
 * symlink dance that makes fs.watch unreliable there). A broken new pair keeps the
 * old one in service and is reported once per change.
 */
export function watchTlsPair(options: {
  certFile: string;
  keyFile: string;
  initial: TlsPair;
  intervalMs: number;
  apply: (pair: TlsPair) => void;
  onError: (reason: string) => void;
}): TlsSource {
  let current = options.initial;
  let lastError = "";
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const read = await readTlsPair(options.certFile, options.keyFile);
      if (!read.ok) {
        if (read.reason !== lastError) options.onError(read.reason);
        lastError = read.reason;
        return;
      }
      lastError = "";
      if (read.pair.cert === current.cert && read.pair.key === current.key) return;
      current = read.pair;
      options.apply(current);
    } finally {
      busy = false;
    }
  }, options.intervalMs);
  timer.unref();
  return { current: () => current, close: () => clearInterval(timer) };
}
