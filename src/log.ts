import pino, { type Logger } from "pino";

/**
 * The operational log (stderr, JSON). Credentials never reach it: nothing logs
 * request bodies, and these paths are redacted in case a future line tries.
 */
export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      base: { app: "pullcheck" },
      redact: {
        paths: [
          "req.headers.authorization",
          "headers.authorization",
          "*.password",
          "*.auth",
          "*.token",
          "password",
          "token",
        ],
        censor: "[redacted]",
      },
    },
    pino.destination({ dest: 2, sync: false }),
  );
}
