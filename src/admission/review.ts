/**
 * The AdmissionReview envelope (admission.k8s.io/v1): decoding a request body into
 * a small typed AdmissionRequest, and building the response review.
 *
 * Only the envelope is validated here. The embedded object was already decoded and
 * validated by the API server, so it is carried as an opaque JSON object and read
 * defensively by whoever needs a field of it (see images.ts).
 */

export const ADMISSION_API_VERSION = "admission.k8s.io/v1";
export const ADMISSION_REVIEW_KIND = "AdmissionReview";

export type AdmissionOperation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";
const OPERATIONS: readonly string[] = ["CREATE", "UPDATE", "DELETE", "CONNECT"];

/** A decoded JSON object; values are unknown until read. */
export type JsonObject = { readonly [key: string]: unknown };

export interface GroupVersionKind {
  /** "" for the core group (Pod, ReplicationController). */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface GroupVersionResource {
  readonly group: string;
  readonly version: string;
  /** Plural resource name, e.g. "pods", "deployments". */
  readonly resource: string;
}

export interface AdmissionRequest {
  readonly uid: string;
  readonly operation: AdmissionOperation;
  readonly kind: GroupVersionKind;
  readonly resource: GroupVersionResource;
  /** "" when the request is for the main resource (e.g. "ephemeralcontainers", "status", "scale" otherwise). */
  readonly subResource: string;
  /** "" for cluster-scoped objects. */
  readonly namespace: string;
  /** "" when the client let the server generate the name. */
  readonly name: string;
  /** "" when the API server sent no user (it always does; fixtures may not). */
  readonly username: string;
  readonly dryRun: boolean;
  /** The object being admitted; present for CREATE and UPDATE, null otherwise when absent. */
  readonly object: JsonObject | null;
  /** The object before the change (UPDATE, DELETE); null when absent. */
  readonly oldObject: JsonObject | null;
}

export type ParsedAdmissionReview =
  | { readonly ok: true; readonly request: AdmissionRequest }
  | { readonly ok: false; readonly reason: string };

/** A plain JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Own property only, so keys like "constructor" never reach into Object.prototype. */
export function ownField(object: JsonObject, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** Decodes an already JSON-parsed request body. Never throws. */
export function parseAdmissionReview(body: unknown): ParsedAdmissionReview {
  if (!isJsonObject(body)) return { ok: false, reason: "the body is not a JSON object" };
  const read = new EnvelopeReader();
  read.exact(body, "apiVersion", ADMISSION_API_VERSION, "apiVersion");
  read.exact(body, "kind", ADMISSION_REVIEW_KIND, "kind");
  const request = read.requiredObject(body, "request", "request");

  const uid = read.requiredString(request, "uid", "request.uid");
  const operation = read.operation(request);

  const kindObject = read.requiredObject(request, "kind", "request.kind");
  const kind: GroupVersionKind = {
    group: read.optionalString(kindObject, "group", "request.kind.group"),
    version: read.requiredString(kindObject, "version", "request.kind.version"),
    kind: read.requiredString(kindObject, "kind", "request.kind.kind"),
  };
  const resourceObject = read.requiredObject(request, "resource", "request.resource");
  const resource: GroupVersionResource = {
    group: read.optionalString(resourceObject, "group", "request.resource.group"),
    version: read.requiredString(resourceObject, "version", "request.resource.version"),
    resource: read.requiredString(resourceObject, "resource", "request.resource.resource"),
  };
  const subResource = read.optionalString(request, "subResource", "request.subResource");
  const namespace = read.optionalString(request, "namespace", "request.namespace");
  const name = read.optionalString(request, "name", "request.name");
  const userInfo = read.optionalObject(request, "userInfo", "request.userInfo");
  const username =
    userInfo === null ? "" : read.optionalString(userInfo, "username", "request.userInfo.username");
  const dryRun = read.optionalBoolean(request, "dryRun", "request.dryRun");
  const object = read.optionalObject(request, "object", "request.object");
  const oldObject = read.optionalObject(request, "oldObject", "request.oldObject");

  if (read.problem !== null) return { ok: false, reason: read.problem };
  // Without the object there is nothing to check; allowing would let a broken
  // caller through silently, so this is a malformed request instead.
  if (object === null && (operation === "CREATE" || operation === "UPDATE")) {
    return { ok: false, reason: `request.object is missing (required for ${operation})` };
  }
  return {
    ok: true,
    request: {
      uid,
      operation,
      kind,
      resource,
      subResource,
      namespace,
      name,
      username,
      dryRun,
      object,
      oldObject,
    },
  };
}

/**
 * Reads envelope fields, remembering the first problem and handing back a harmless
 * fallback so decoding can go on without exceptions; the caller checks `problem` once.
 */
class EnvelopeReader {
  problem: string | null = null;

  private fail(reason: string): void {
    this.problem ??= reason;
  }

  exact(object: JsonObject, key: string, expected: string, path: string): void {
    const value = ownField(object, key);
    if (value == null) this.fail(`${path} is missing`);
    else if (value !== expected) this.fail(`${path} must be ${quote(expected)} (got ${quote(value)})`);
  }

  requiredObject(object: JsonObject, key: string, path: string): JsonObject {
    const value = ownField(object, key);
    if (value == null) this.fail(`${path} is missing`);
    else if (!isJsonObject(value)) this.fail(`${path} must be an object`);
    else return value;
    return {};
  }

  /** null and absent are the same thing in Kubernetes JSON. */
  optionalObject(object: JsonObject, key: string, path: string): JsonObject | null {
    const value = ownField(object, key);
    if (value == null) return null;
    if (isJsonObject(value)) return value;
    this.fail(`${path} must be an object`);
    return null;
  }

  requiredString(object: JsonObject, key: string, path: string): string {
    const value = ownField(object, key);
    if (value == null) this.fail(`${path} is missing`);
    else if (typeof value !== "string") this.fail(`${path} must be a string`);
    else if (value === "") this.fail(`${path} is empty`);
    else return value;
    return "";
  }

  optionalString(object: JsonObject, key: string, path: string): string {
    const value = ownField(object, key);
    if (value == null) return "";
    if (typeof value === "string") return value;
    this.fail(`${path} must be a string`);
    return "";
  }

  optionalBoolean(object: JsonObject, key: string, path: string): boolean {
    const value = ownField(object, key);
    if (value == null) return false;
    if (typeof value === "boolean") return value;
    this.fail(`${path} must be a boolean`);
    return false;
  }

  operation(object: JsonObject): AdmissionOperation {
    const value = this.requiredString(object, "operation", "request.operation");
    if (isOperation(value)) return value;
    if (value !== "")
      this.fail(`request.operation must be one of ${OPERATIONS.join(", ")} (got ${quote(value)})`);
    return "CONNECT";
  }
}

function isOperation(value: string): value is AdmissionOperation {
  return OPERATIONS.includes(value);
}

/** A short JSON rendering for reasons: caller-controlled values must not make a reason huge. */
function quote(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? typeof value;
  } catch {
    text = typeof value;
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

// ---------------------------------------------------------------------------
// Response

export interface AdmissionStatus {
  /** HTTP-style code shown by kubectl, e.g. 403 for a denial. */
  readonly code: number;
  readonly message: string;
  /** Machine-readable reason; kubectl prints it, e.g. "Error from server (Forbidden)". */
  readonly reason?: string;
}

export interface AdmissionVerdict {
  readonly allowed: boolean;
  readonly status?: AdmissionStatus;
  readonly warnings?: readonly string[];
  readonly auditAnnotations?: Readonly<Record<string, string>>;
}

export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: boolean;
  readonly status?: AdmissionStatus;
  readonly warnings?: readonly string[];
  readonly auditAnnotations?: Readonly<Record<string, string>>;
}

export interface AdmissionReviewResponse {
  readonly apiVersion: typeof ADMISSION_API_VERSION;
  readonly kind: typeof ADMISSION_REVIEW_KIND;
  readonly response: AdmissionResponse;
}

/**
 * The review the webhook answers with. Empty warning lists and annotation maps are
 * left out rather than sent empty; inputs are copied so the response never aliases them.
 */
export function admissionResponse(uid: string, verdict: AdmissionVerdict): AdmissionReviewResponse {
  const response: {
    uid: string;
    allowed: boolean;
    status?: AdmissionStatus;
    warnings?: readonly string[];
    auditAnnotations?: Readonly<Record<string, string>>;
  } = { uid, allowed: verdict.allowed };
  if (verdict.status !== undefined) {
    response.status = {
      code: verdict.status.code,
      message: verdict.status.message,
      ...(verdict.status.reason ? { reason: verdict.status.reason } : {}),
    };
  }
  if (verdict.warnings !== undefined && verdict.warnings.length > 0) {
    response.warnings = [...verdict.warnings];
  }
  if (verdict.auditAnnotations !== undefined && Object.keys(verdict.auditAnnotations).length > 0) {
    response.auditAnnotations = Object.fromEntries(Object.entries(verdict.auditAnnotations));
  }
  return { apiVersion: ADMISSION_API_VERSION, kind: ADMISSION_REVIEW_KIND, response };
}
