/**
 * Decodes an admission request into the images its pods would pull, each with the
 * exact field path it was written at, plus the pod-spec facts the credential lookup
 * and platform check need. Pure: reads the request, returns data.
 *
 * Reading rules for the embedded object (the API server already validated it, so
 * anything odd here comes from a hand-made request):
 * - absent or null anywhere means "not there": no spec, no containers → zero uses;
 * - an empty or absent image is skipped (workload templates may leave it for a later
 *   mutation; Pods without one are refused by the API server before we see them);
 * - a field of the wrong JSON type on the way to an image (containers not an array,
 *   an image that is not a string) makes the whole set `malformed`, because allowing
 *   it would silently skip a pull we were asked to check.
 *
 * UPDATE — what "new" means:
 * - An image use is new when its image string, exactly as written, appears nowhere in
 *   the old object's pod spec (containers, initContainers, ephemeralContainers, image
 *   volumes). So scaling or any unrelated edit checks nothing, renaming a container or
 *   moving an image to another container checks nothing, and a changed or added image
 *   is checked once per place it is used. Strings are compared as written: rewriting
 *   "nginx" as "docker.io/library/nginx:latest" counts as new (a harmless re-check).
 * - Changes to imagePullSecrets or serviceAccountName do not re-check old images:
 *   only image strings decide. Those images were admitted before; re-checking them
 *   would make unrelated edits fail on registry state nobody touched.
 * - pods/ephemeralcontainers: an ephemeral container is new unless the old Pod has an
 *   ephemeral container with the same name and image (they can only be added, never
 *   changed, so a new name is a new debug session that will pull its image now).
 * - An UPDATE without oldObject is treated as if nothing existed before: every image
 *   is new (checking too much is safe; checking too little is not).
 */

import type { AdmissionRequest, JsonObject } from "./review.ts";
import { isJsonObject, ownField } from "./review.ts";

export type ImageRole = "container" | "initContainer" | "ephemeralContainer" | "imageVolume";

export interface ImageUse {
  /** The reference exactly as written. */
  readonly image: string;
  /** Container name, or the volume name for image volumes ("" when unnamed). */
  readonly container: string;
  readonly role: ImageRole;
  /** Exact path, e.g. "spec.template.spec.initContainers[1].image", "spec.volumes[2].image.reference". */
  readonly fieldPath: string;
  /** Container imagePullPolicy / image volume pullPolicy, when set. */
  readonly pullPolicy?: string;
}

export interface PodSpecContext {
  /** Secret names, empty names dropped, in order. */
  readonly imagePullSecrets: readonly string[];
  /** "default" when unset. */
  readonly serviceAccountName: string;
  /** String-valued entries only, so the verdict can narrow platforms (kubernetes.io/os, kubernetes.io/arch). */
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** From required node affinity on kubernetes.io/arch (operator In), when every term constrains it. */
  readonly requiredArchitectures?: readonly string[];
  /** A workload template: the ServiceAccount admission plugin has NOT copied the SA's pull secrets in. */
  readonly isTemplate: boolean;
}

export type ImageUseSet =
  /** Other kinds, DELETE/CONNECT, other subresources: allow, no work. */
  | { readonly kind: "unsupported"; readonly reason: string }
  /** A supported kind whose object cannot be read (a wrong JSON type on the way to an image). */
  | { readonly kind: "malformed"; readonly reason: string }
  | {
      readonly kind: "images";
      readonly spec: PodSpecContext;
      readonly uses: ImageUse[];
      /** request.kind.kind, e.g. "Deployment". */
      readonly objectKind: string;
      readonly objectName: string;
    };

/** Where the pod spec lives in each supported kind, keyed by "group/version/Kind". */
const POD_SPEC_PATHS: ReadonlyMap<string, readonly string[]> = new Map([
  ["/v1/Pod", ["spec"]],
  ["/v1/ReplicationController", ["spec", "template", "spec"]],
  ["apps/v1/Deployment", ["spec", "template", "spec"]],
  ["apps/v1/StatefulSet", ["spec", "template", "spec"]],
  ["apps/v1/DaemonSet", ["spec", "template", "spec"]],
  ["apps/v1/ReplicaSet", ["spec", "template", "spec"]],
  ["batch/v1/Job", ["spec", "template", "spec"]],
  ["batch/v1/CronJob", ["spec", "jobTemplate", "spec", "template", "spec"]],
]);

const CONTAINER_LISTS = [
  { field: "containers", role: "container" },
  { field: "initContainers", role: "initContainer" },
  { field: "ephemeralContainers", role: "ephemeralContainer" },
] as const;

const ARCH_LABEL = "kubernetes.io/arch";

export function collectImageUses(request: AdmissionRequest): ImageUseSet {
  if (request.operation !== "CREATE" && request.operation !== "UPDATE") {
    return { kind: "unsupported", reason: `${request.operation} requests pull no images` };
  }
  const ephemeralOnly = isEphemeralContainersSubresource(request);
  if (request.subResource !== "" && !ephemeralOnly) {
    return {
      kind: "unsupported",
      reason: `subresource ${request.resource.resource}/${request.subResource} pulls no images`,
    };
  }
  const gvk = `${request.kind.group}/${request.kind.version}/${request.kind.kind}`;
  const path = ephemeralOnly ? ["spec"] : POD_SPEC_PATHS.get(gvk);
  if (path === undefined) return { kind: "unsupported", reason: `kind ${gvk} is not checked` };

  const found = podSpecAt(request.object, path);
  if (found.problem !== undefined) return { kind: "malformed", reason: found.problem };
  const prefix = path.join(".");
  const current = readImageUses(found.spec, prefix);
  if (current.problem !== undefined) return { kind: "malformed", reason: current.problem };

  let uses = ephemeralOnly ? current.uses.filter((use) => use.role === "ephemeralContainer") : current.uses;
  if (request.operation === "UPDATE" && request.oldObject !== null) {
    // Old objects are read leniently: whatever cannot be read there simply counts as absent.
    const old = readImageUses(podSpecAt(request.oldObject, path).spec, prefix).uses;
    uses = ephemeralOnly ? newEphemeralContainers(uses, old) : usesWithNewImages(uses, old);
  }
  return {
    kind: "images",
    spec: podSpecContext(found.spec, path.length > 1),
    uses,
    objectKind: request.kind.kind,
    objectName: objectName(request),
  };
}

function isEphemeralContainersSubresource(request: AdmissionRequest): boolean {
  return (
    request.resource.group === "" &&
    request.resource.resource === "pods" &&
    request.subResource === "ephemeralcontainers"
  );
}

function usesWithNewImages(uses: readonly ImageUse[], old: readonly ImageUse[]): ImageUse[] {
  const oldImages = new Set(old.map((use) => use.image));
  return uses.filter((use) => !oldImages.has(use.image));
}

function newEphemeralContainers(uses: readonly ImageUse[], old: readonly ImageUse[]): ImageUse[] {
  const key = (use: ImageUse) => JSON.stringify([use.container, use.image]);
  const oldKeys = new Set(old.filter((use) => use.role === "ephemeralContainer").map(key));
  return uses.filter((use) => !oldKeys.has(key(use)));
}

/** Walks to the pod spec; a missing step means "no spec", a non-object step is a problem. */
function podSpecAt(
  object: JsonObject | null,
  path: readonly string[],
): { spec: JsonObject | null; problem?: string } {
  let current: JsonObject | null = object;
  const walked: string[] = [];
  for (const key of path) {
    if (current === null) break;
    walked.push(key);
    const next = ownField(current, key);
    if (next == null) return { spec: null };
    if (!isJsonObject(next)) return { spec: null, problem: `${walked.join(".")} must be an object` };
    current = next;
  }
  return { spec: current };
}

interface ReadUses {
  readonly uses: ImageUse[];
  readonly problem?: string;
}

/** Every image use in one pod spec, in PRODUCT.md order: containers, init, ephemeral, image volumes. */
function readImageUses(spec: JsonObject | null, prefix: string): ReadUses {
  const uses: ImageUse[] = [];
  if (spec === null) return { uses };
  for (const list of CONTAINER_LISTS) {
    const problem = readList(spec, list.field, prefix, (entry, entryPath) => {
      const image = ownField(entry, "image");
      if (image == null || image === "") return undefined;
      if (typeof image !== "string") return `${entryPath}.image must be a string`;
      uses.push(
        imageUse(image, ownField(entry, "name"), list.role, `${entryPath}.image`, entry, "imagePullPolicy"),
      );
      return undefined;
    });
    if (problem !== undefined) return { uses, problem };
  }
  const problem = readList(spec, "volumes", prefix, (volume, volumePath) => {
    const source = ownField(volume, "image");
    if (source == null) return undefined; // some other volume type
    if (!isJsonObject(source)) return `${volumePath}.image must be an object`;
    const reference = ownField(source, "reference");
    if (reference == null || reference === "") return undefined;
    if (typeof reference !== "string") return `${volumePath}.image.reference must be a string`;
    uses.push(
      imageUse(
        reference,
        ownField(volume, "name"),
        "imageVolume",
        `${volumePath}.image.reference`,
        source,
        "pullPolicy",
      ),
    );
    return undefined;
  });
  return problem === undefined ? { uses } : { uses, problem };
}

/**
 * Calls `visit` for each object entry of spec[field] with its field path; null entries are
 * skipped. Returns the first problem (from the list's shape or from `visit`).
 */
function readList(
  spec: JsonObject,
  field: string,
  prefix: string,
  visit: (entry: JsonObject, entryPath: string) => string | undefined,
): string | undefined {
  const list = ownField(spec, field);
  if (list == null) return undefined;
  if (!Array.isArray(list)) return `${prefix}.${field} must be an array`;
  for (let index = 0; index < list.length; index++) {
    const entry: unknown = list[index];
    const entryPath = `${prefix}.${field}[${index}]`;
    if (entry == null) continue;
    if (!isJsonObject(entry)) return `${entryPath} must be an object`;
    const problem = visit(entry, entryPath);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function imageUse(
  image: string,
  name: unknown,
  role: ImageRole,
  fieldPath: string,
  policyHolder: JsonObject,
  policyField: string,
): ImageUse {
  const container = typeof name === "string" ? name : "";
  const pullPolicy = ownField(policyHolder, policyField);
  return typeof pullPolicy === "string" && pullPolicy !== ""
    ? { image, container, role, fieldPath, pullPolicy }
    : { image, container, role, fieldPath };
}

function podSpecContext(spec: JsonObject | null, isTemplate: boolean): PodSpecContext {
  const source = spec ?? {};
  const requiredArchitectures = requiredArchitecturesOf(source);
  const context: PodSpecContext = {
    imagePullSecrets: pullSecretNames(ownField(source, "imagePullSecrets")),
    serviceAccountName: serviceAccountNameOf(source),
    nodeSelector: stringRecord(ownField(source, "nodeSelector")),
    isTemplate,
  };
  return requiredArchitectures === undefined ? context : { ...context, requiredArchitectures };
}

function pullSecretNames(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const names: string[] = [];
  for (const entry of value) {
    const name = isJsonObject(entry) ? ownField(entry, "name") : undefined;
    if (typeof name === "string" && name !== "") names.push(name);
  }
  return names;
}

/** serviceAccount is the deprecated alias the API server still honours when the new field is empty. */
function serviceAccountNameOf(spec: JsonObject): string {
  for (const field of ["serviceAccountName", "serviceAccount"]) {
    const value = ownField(spec, field);
    if (typeof value === "string" && value !== "") return value;
  }
  return "default";
}

/** Built with fromEntries so a "__proto__" key becomes a plain own entry, never a prototype. */
function stringRecord(value: unknown): Readonly<Record<string, string>> {
  if (!isJsonObject(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
}

/**
 * Architectures a pod can be scheduled on under required node affinity. Terms are ORed
 * and expressions within a term ANDed, so the answer is the union over terms of each
 * term's In values for kubernetes.io/arch — and no restriction at all as soon as one
 * term leaves the architecture open (NotIn/Exists/DoesNotExist are treated as open).
 * A term with several In expressions on the label allows their intersection.
 */
function requiredArchitecturesOf(spec: JsonObject): string[] | undefined {
  const terms = pathValue(spec, [
    "affinity",
    "nodeAffinity",
    "requiredDuringSchedulingIgnoredDuringExecution",
    "nodeSelectorTerms",
  ]);
  if (!Array.isArray(terms) || terms.length === 0) return undefined;
  const union: string[] = [];
  for (const term of terms) {
    const allowed = termArchitectures(term);
    if (allowed === undefined) return undefined;
    for (const arch of allowed) {
      if (!union.includes(arch)) union.push(arch);
    }
  }
  // Every term contradicting itself means the pod can never be scheduled; that is
  // the scheduler's problem to report, not a platform restriction to check against.
  return union.length === 0 ? undefined : union;
}

function termArchitectures(term: unknown): string[] | undefined {
  const expressions = isJsonObject(term) ? ownField(term, "matchExpressions") : undefined;
  if (!Array.isArray(expressions)) return undefined;
  let allowed: string[] | undefined;
  for (const expression of expressions) {
    if (!isJsonObject(expression)) continue;
    if (ownField(expression, "key") !== ARCH_LABEL || ownField(expression, "operator") !== "In") continue;
    const values = ownField(expression, "values");
    if (!Array.isArray(values)) continue;
    const strings = values.filter((v): v is string => typeof v === "string" && v !== "");
    if (strings.length === 0) continue; // the API server refuses an empty In; do not invent "nothing allowed"
    allowed =
      allowed === undefined ? [...new Set(strings)] : allowed.filter((arch) => strings.includes(arch));
  }
  return allowed;
}

function pathValue(object: JsonObject, path: readonly string[]): unknown {
  let current: unknown = object;
  for (const key of path) {
    if (!isJsonObject(current)) return undefined;
    current = ownField(current, key);
  }
  return current;
}

/** metadata.name, else generateName + "*" (controller-created pods), else the request's name. */
function objectName(request: AdmissionRequest): string {
  const metadata = request.object === null ? undefined : ownField(request.object, "metadata");
  if (isJsonObject(metadata)) {
    const name = ownField(metadata, "name");
    if (typeof name === "string" && name !== "") return name;
    const generateName = ownField(metadata, "generateName");
    if (typeof generateName === "string" && generateName !== "") return `${generateName}*`;
  }
  return request.name;
}
