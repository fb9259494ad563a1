import type { AuthEntry } from "./types.ts";

/**
 * Docker config payloads read exactly as the kubelet reads them (pkg/credentialprovider
 * config.go, secrets.go): Go's encoding/json into `{"auths": {key: entry}}` or, for the
 * legacy format, `{key: entry}`. What the kubelet takes from an entry:
 *   - `username`, `password` (and `email`, which we drop);
 *   - a non-empty `auth` overrides them: base64 of "user:password", split at the first ":";
 *     padded standard base64 when it ends in "=", unpadded otherwise; a decode error or
 *     a missing ":" fails the whole payload;
 *   - nothing else: `identitytoken`, `registrytoken`, `serveraddress` are ignored.
 * Like Go, field names match case-insensitively, `null` leaves a field unset, and a
 * value of the wrong JSON type fails the whole payload.
 * Reasons never quote a value from the payload, only keys and field names.
 */

export type DockerConfigFormat = "config.json" | "dockercfg";

export type ParsedDockerConfig =
  | {
      readonly ok: true;
      readonly format: DockerConfigFormat;
      readonly entries: AuthEntry[];
      /** Set when the payload parses but probably does not say what its author meant. */
      readonly note?: string;
    }
  | { readonly ok: false; readonly reason: string };

export type ParsedPullSecret =
  | { readonly kind: "entries"; readonly entries: AuthEntry[]; readonly note?: string }
  | { readonly kind: "ignored"; readonly reason: string }
  | { readonly kind: "invalid"; readonly reason: string };

const DOCKER_CONFIG_JSON_TYPE = "kubernetes.io/dockerconfigjson";
const DOCKERCFG_TYPE = "kubernetes.io/dockercfg";

/** Top-level fields of a docker CLI config.json; their presence tells it from a legacy .dockercfg. */
const CONFIG_JSON_FIELDS = new Set(
  [
    "auths",
    "HttpHeaders",
    "credsStore",
    "credHelpers",
    "psFormat",
    "imagesFormat",
    "networksFormat",
    "pluginsFormat",
    "volumesFormat",
    "statsFormat",
    "detachKeys",
    "serviceInspectFormat",
    "servicesFormat",
    "tasksFormat",
    "secretFormat",
    "configFormat",
    "nodesFormat",
    "pruneFilters",
    "proxies",
    "experimental",
    "stackOrchestrator",
    "kubernetes",
    "currentContext",
    "cliPluginsExtraDirs",
    "plugins",
    "aliases",
    "features",
  ].map(foldFieldName),
);

/**
 * A `--docker-config` file: a ~/.docker/config.json, a `.dockerconfigjson` payload or a
 * legacy `.dockercfg` payload. It is read as config.json when it has `auths` or any
 * other config.json field (credsStore, HttpHeaders, …), else as a legacy .dockercfg.
 * credsStore/credHelpers are ignored: the kubelet cannot use them either.
 */
export function parseDockerConfig(text: string): ParsedDockerConfig {
  const json = parseJson(text);
  if (!json.ok) return json;
  const value = json.value;
  const fields = isObject(value) ? Object.keys(value).map(foldFieldName) : [];
  const looksLegacy = isObject(value) && !fields.some((field) => CONFIG_JSON_FIELDS.has(field));
  const parsed = looksLegacy ? readDockercfg(value) : readDockerConfigJson(value);
  const usesHelpers = fields.includes("credsstore") || fields.includes("credhelpers");
  if (!parsed.ok || !usesHelpers) return parsed;
  return {
    ...parsed,
    note: "credsStore/credHelpers are ignored (the kubelet cannot run credential helpers); auths entries without username/password carry no credentials",
  };
}

/** A `.dockerconfigjson` payload, the way the kubelet reads one: only `auths` counts. */
export function parseDockerConfigJson(text: string): ParsedDockerConfig {
  const json = parseJson(text);
  return json.ok ? readDockerConfigJson(json.value) : json;
}

/** A legacy `.dockercfg` payload: `{key: entry}` with no `auths` wrapper. */
export function parseDockercfg(text: string): ParsedDockerConfig {
  const json = parseJson(text);
  return json.ok ? readDockercfg(json.value) : json;
}

/**
 * A Secret as returned by the API (data values base64). Only the two pull-secret types
 * with their own data key count; anything else, a missing key or an empty value is
 * ignored, as the kubelet silently ignores it.
 */
export function parsePullSecret(secret: {
  readonly type?: string;
  readonly data?: Readonly<Record<string, string>>;
}): ParsedPullSecret {
  const format =
    secret.type === DOCKER_CONFIG_JSON_TYPE
      ? "config.json"
      : secret.type === DOCKERCFG_TYPE
        ? "dockercfg"
        : null;
  if (format === null) {
    return {
      kind: "ignored",
      reason: `secret type ${quote(secret.type || "Opaque")} is not ${DOCKER_CONFIG_JSON_TYPE} or ${DOCKERCFG_TYPE}; the kubelet ignores it`,
    };
  }
  const dataKey = format === "config.json" ? ".dockerconfigjson" : ".dockercfg";
  const data = secret.data ?? {};
  const encoded = Object.hasOwn(data, dataKey) ? data[dataKey] : undefined;
  if (typeof encoded !== "string") {
    return { kind: "ignored", reason: `secret has no ${dataKey} key; the kubelet ignores it` };
  }
  const bytes = decodeBase64(encoded, "padded");
  if (bytes === null) return { kind: "invalid", reason: `${dataKey} is not valid base64` };
  if (bytes.length === 0) return { kind: "ignored", reason: `${dataKey} is empty; the kubelet ignores it` };
  // Keep a byte order mark: Go's JSON decoder refuses it, and so must we.
  const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
  const json = parseJson(text);
  const parsed = !json.ok
    ? json
    : format === "config.json"
      ? readDockerConfigJson(json.value)
      : readDockercfg(json.value);
  if (!parsed.ok) return { kind: "invalid", reason: `${dataKey}: ${parsed.reason}` };
  const hint = format === "config.json" ? configJsonHint(json) : dockercfgHint(json);
  const note = parsed.note ?? hint;
  return note === undefined
    ? { kind: "entries", entries: parsed.entries }
    : { kind: "entries", entries: parsed.entries, note };
}

/** The kubelet's decoding of an `auth` field. */
export function decodeAuthField(
  field: string,
):
  | { readonly ok: true; readonly username: string; readonly password: string }
  | { readonly ok: false; readonly reason: string } {
  // Go's base64 decoders skip CR and LF anywhere; the kubelet picks the padded decoder
  // when the (trimmed) field ends in "=". Any other whitespace fails both decoders.
  const compact = field.replace(/[\r\n]/g, "");
  const bytes = decodeBase64(compact, compact.endsWith("=") ? "padded" : "unpadded");
  if (bytes === null) {
    return {
      ok: false,
      reason: "unable to parse auth field: illegal base64 data (must be base64(username:password))",
    };
  }
  const colon = bytes.indexOf(0x3a);
  if (colon < 0) {
    return {
      ok: false,
      reason: "unable to parse auth field, must be formatted as base64(username:password)",
    };
  }
  const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
  return {
    ok: true,
    username: utf8.decode(bytes.subarray(0, colon)),
    password: utf8.decode(bytes.subarray(colon + 1)),
  };
}

type JsonResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: string };
type Reading =
  | { readonly ok: true; readonly entries: AuthEntry[] }
  | { readonly ok: false; readonly reason: string };

function parseJson(text: string): JsonResult {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    // V8's message may quote the input (a password, say); keep only the position.
    const position = /position (\d+)/.exec(String((error as Error)?.message))?.[1];
    const where = position === undefined ? "" : ` (at character ${position})`;
    const bom = text.startsWith("\uFEFF")
      ? " (it starts with a byte order mark, which Go's JSON decoder refuses)"
      : "";
    return { ok: false, reason: `not valid JSON${bom || where}` };
  }
}

function readDockerConfigJson(value: unknown): ParsedDockerConfig {
  if (value === null) return { ok: true, format: "config.json", entries: [] };
  if (!isObject(value)) return { ok: false, reason: "the top level is not a JSON object" };
  // Go decodes repeated (case-variant) "auths" fields into the same map; null clears it.
  const auths = new Map<string, unknown>();
  for (const [field, fieldValue] of Object.entries(value)) {
    const name = foldFieldName(field);
    if (name === "auths") {
      if (fieldValue === null) auths.clear();
      else if (!isObject(fieldValue)) return { ok: false, reason: `"auths" is not a JSON object` };
      else for (const [key, entry] of Object.entries(fieldValue)) auths.set(key.toWellFormed(), entry);
    } else if (name === "httpheaders" && fieldValue !== null) {
      const headersOk =
        isObject(fieldValue) && Object.values(fieldValue).every((v) => v === null || typeof v === "string");
      if (!headersOk) return { ok: false, reason: `"HttpHeaders" is not an object of strings` };
    }
  }
  const read = readEntries(auths);
  return read.ok ? { ok: true, format: "config.json", entries: read.entries } : read;
}

function readDockercfg(value: unknown): ParsedDockerConfig {
  if (value === null) return { ok: true, format: "dockercfg", entries: [] };
  if (!isObject(value)) return { ok: false, reason: "the top level is not a JSON object" };
  const entries = new Map<string, unknown>();
  for (const [key, entry] of Object.entries(value)) entries.set(key.toWellFormed(), entry);
  const read = readEntries(entries);
  return read.ok ? { ok: true, format: "dockercfg", entries: read.entries } : read;
}

function readEntries(raw: ReadonlyMap<string, unknown>): Reading {
  const entries: AuthEntry[] = [];
  for (const [key, value] of raw) {
    const entry = readEntry(value);
    if (!entry.ok) return { ok: false, reason: `entry ${quote(key)}: ${entry.reason}` };
    entries.push({ key, username: entry.username, password: entry.password });
  }
  return { ok: true, entries };
}

function readEntry(
  value: unknown,
): { ok: true; username: string; password: string } | { ok: false; reason: string } {
  // Go's DockerConfigEntry.UnmarshalJSON treats null as an empty entry.
  if (value === null) return { ok: true, username: "", password: "" };
  if (!isObject(value)) return { ok: false, reason: "is not a JSON object" };
  const fields: Record<"username" | "password" | "email" | "auth", string> = {
    username: "",
    password: "",
    email: "",
    auth: "",
  };
  for (const [field, fieldValue] of Object.entries(value)) {
    const name = foldFieldName(field);
    if (name !== "username" && name !== "password" && name !== "email" && name !== "auth") continue;
    if (fieldValue === null) continue;
    if (typeof fieldValue !== "string") return { ok: false, reason: `"${name}" is not a string` };
    fields[name] = fieldValue.toWellFormed();
  }
  if (fields.auth.length === 0) return { ok: true, username: fields.username, password: fields.password };
  const decoded = decodeAuthField(fields.auth);
  return decoded.ok ? { ok: true, username: decoded.username, password: decoded.password } : decoded;
}

function configJsonHint(json: JsonResult): string | undefined {
  if (!json.ok || !isObject(json.value)) return undefined;
  const fields = Object.keys(json.value);
  if (fields.length === 0 || fields.some((field) => foldFieldName(field) === "auths")) return undefined;
  return `no "auths" object, so the kubelet finds no credentials in it (a legacy payload belongs in a ${DOCKERCFG_TYPE} secret)`;
}

function dockercfgHint(json: JsonResult): string | undefined {
  if (!json.ok || !isObject(json.value)) return undefined;
  if (!Object.hasOwn(json.value, "auths")) return undefined;
  return `has an "auths" wrapper, which the kubelet reads as a registry named "auths" (a config.json payload belongs in a ${DOCKER_CONFIG_JSON_TYPE} secret)`;
}

const PADDED_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const UNPADDED_BASE64 = /^[A-Za-z0-9+/]*$/;

/**
 * Go's base64.StdEncoding / RawStdEncoding (non-strict: non-zero trailing bits are
 * accepted), CR and LF skipped. Node's decoder is lenient, so validate first.
 */
function decodeBase64(text: string, mode: "padded" | "unpadded"): Buffer | null {
  const compact = text.replace(/[\r\n]/g, "");
  const valid =
    mode === "padded"
      ? PADDED_BASE64.test(compact)
      : UNPADDED_BASE64.test(compact) && compact.length % 4 !== 1;
  return valid ? Buffer.from(compact, "base64") : null;
}

/**
 * Go's encoding/json matches field names case-insensitively under Unicode simple
 * folding; for ASCII names that adds only the long s (ſ) and the Kelvin sign (K).
 */
function foldFieldName(name: string): string {
  let folded = "";
  for (const c of name) {
    if (c === "\u017f") folded += "s";
    else if (c === "\u212a") folded += "k";
    else if (c >= "A" && c <= "Z") folded += c.toLowerCase();
    else folded += c;
  }
  return folded;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}
