import pino, { type Logger } from "pino";

/** One audit record per admission (PRODUCT.md "Audit log"). Never holds a credential. */
export interface AuditRecord {
  readonly time: string;
  readonly uid: string;
  readonly operation: string;
  readonly dryRun: boolean;
  readonly user: string;
  readonly namespace: string;
  readonly kind: string;
  readonly name: string;
  readonly mode: string;
  readonly decision: "allowed" | "denied" | "warned";
  readonly images: ReadonlyArray<{
    readonly container: string;
    readonly image: string;
    readonly result: string;
    readonly message: string;
  }>;
}

export interface AuditSink {
  /** Whether allowed admissions are recorded at all (debug level); saves building records nobody reads. */
  readonly recordsAllowed: boolean;
  write(record: AuditRecord): void;
  flush(): Promise<void>;
}

/**
 * JSON lines to stdout or a file. Denied and warned admissions are written at info,
 * allowed ones at debug (so they appear only when the audit level is debug).
 */
export function createAuditSink(options: { file: string; level: "info" | "debug" }): AuditSink {
  const destination = pino.destination({ dest: options.file || 1, sync: false, mkdir: true });
  const logger: Logger = pino(
    {
      level: options.level,
      base: null,
      timestamp: false,
      messageKey: "event",
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  return {
    recordsAllowed: options.level === "debug",
    write(record) {
      const line = { event: "admission", ...record };
      if (record.decision === "allowed") logger.debug(line);
      else logger.info(line);
    },
    flush: () =>
      new Promise((resolve) => {
        destination.flush((error) => {
          void error; // nothing better to do with a failing stdout at shutdown
          resolve();
        });
      }),
  };
}

/** For tests and the demo: keeps records in memory. */
export function memoryAuditSink(): AuditSink & { records: AuditRecord[] } {
  const records: AuditRecord[] = [];
  return { records, recordsAllowed: true, write: (record) => records.push(record), flush: async () => {} };
}
