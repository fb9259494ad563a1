import { z } from "zod";

/**
 * The configuration contract (PRODUCT.md "Config"). Every key has a default, unknown
 * keys are errors, and validation reports every problem at once, each naming its key.
 * Keys beyond PRODUCT.md's list are marked "added".
 */

const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9.]+)?$/;

const registrySettings = z.strictObject({
  /** Plain HTTP. */
  insecure: z.boolean().default(false),
  /** Extra CA bundle (PEM) to trust for this registry. */
  caFile: z.string().min(1).optional(),
  /** Nodes authenticate to this registry (kubelet credential provider, cloud IAM); the webhook can't see how. */
  nodeCredentials: z.boolean().default(false),
  /** Never check images from this registry. */
  skip: z.boolean().default(false),
});

const nonNegativeInt = z.number().int().min(0);

export const configSchema = z.strictObject({
  mode: z.enum(["enforce", "warn", "off"]).default("enforce"),
  onRegistryError: z.enum(["warn", "deny", "allow"]).default("warn"),
  /** Whole-admission deadline; must stay below the webhook's timeoutSeconds (max 30 s). */
  timeoutMs: z.number().int().min(100).max(29_000).default(8000),
  platforms: z
    .array(z.string().regex(PLATFORM, "expected OS/ARCH or OS/ARCH/VARIANT, e.g. linux/amd64"))
    .default([]),
  cache: z
    .strictObject({
      ttlSeconds: nonNegativeInt.default(300),
      negativeTtlSeconds: nonNegativeInt.default(30),
      maxEntries: z.number().int().min(1).default(10_000),
    })
    .prefault({}),
  registries: z.record(z.string().min(1), registrySettings).default({}),
  exclude: z.array(z.string().min(1)).default([]),
  audit: z.strictObject({ file: z.string().default("") }).prefault({}),
  listen: z
    .strictObject({
      host: z.string().min(1).default("0.0.0.0"),
      port: z.number().int().min(0).max(65_535).default(8443),
    })
    .prefault({}),
  tls: z
    .strictObject({
      certFile: z.string().min(1).default("certs/tls.crt"),
      keyFile: z.string().min(1).default("certs/tls.key"),
      /** added: how often the files are re-read so a rotated Secret is served without a restart. */
      reloadSeconds: z.number().int().min(1).max(3600).default(5),
    })
    .prefault({}),
  /** added: how many registry lookups may run at once against one registry host. */
  concurrencyPerRegistry: z.number().int().min(1).max(256).default(16),
  /** added: how long Secrets and ServiceAccounts read from the API server are reused. */
  kubeCacheSeconds: nonNegativeInt.default(30),
  /** added: log level of the serve command's operational log (the audit log is separate). */
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type Config = Readonly<z.output<typeof configSchema>>;
export type RegistrySettingsConfig = Readonly<z.output<typeof registrySettings>>;

export type ConfigValidation = { ok: true; config: Config } | { ok: false; problems: string[] };

/** Validates already-parsed YAML/JSON. Pure. */
export function validateConfig(raw: unknown): ConfigValidation {
  const parsed = configSchema.safeParse(raw ?? {});
  if (parsed.success) return { ok: true, config: deepFreeze(parsed.data) };
  return { ok: false, problems: parsed.error.issues.flatMap(describeIssue) };
}

export function defaultConfig(): Config {
  const result = validateConfig({});
  if (!result.ok) throw new Error(`default config is invalid: ${result.problems.join("; ")}`);
  return result.config;
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  const at = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => `${at ? `${at}.` : ""}${key}: unknown key`);
  }
  return [`${at || "(top level)"}: ${issue.message.replace(/^Invalid input: /, "")}`];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
