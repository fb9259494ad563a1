import { collectImageUses, type ImageUse } from "../admission/images.ts";
import { type AdmissionRequest, isJsonObject } from "../admission/review.ts";
import { InputError } from "./inputs.ts";

/** The images of one object found in a manifest file, with what the credential lookup needs. */
export interface WorkloadImages {
  readonly kind: string;
  readonly name: string;
  readonly namespace: string | null;
  readonly imagePullSecrets: readonly string[];
  /** null when the object doesn't name one (then --service-account or "default"). */
  readonly serviceAccountName: string | null;
  readonly uses: readonly ImageUse[];
}

/**
 * Decodes one YAML document the same way the webhook decodes an admitted object
 * (a CREATE of it), so `check -f` and admission can never disagree about which
 * images a manifest pulls. `kind: List` documents are unpacked; kinds that pull no
 * images yield nothing.
 */
export function imagesInObject(object: unknown, where: string): WorkloadImages[] {
  if (!isJsonObject(object)) return [];
  if (object.kind === "List" && Array.isArray(object.items)) {
    return object.items.flatMap((item, index) => imagesInObject(item, `${where} items[${index}]`));
  }
  const apiVersion = typeof object.apiVersion === "string" ? object.apiVersion : "";
  const kind = typeof object.kind === "string" ? object.kind : "";
  if (!apiVersion || !kind) return [];
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/", 2) : ["", apiVersion];
  const metadata = isJsonObject(object.metadata) ? object.metadata : {};
  const name = typeof metadata.name === "string" ? metadata.name : "";
  const namespace = typeof metadata.namespace === "string" && metadata.namespace ? metadata.namespace : null;
  const request: AdmissionRequest = {
    uid: "cli",
    operation: "CREATE",
    kind: { group: group ?? "", version: version ?? "", kind },
    resource: { group: group ?? "", version: version ?? "", resource: "" },
    subResource: "",
    namespace: namespace ?? "",
    name,
    username: "",
    dryRun: false,
    object,
    oldObject: null,
  };
  const found = collectImageUses(request);
  if (found.kind === "unsupported") return [];
  if (found.kind === "malformed") throw new InputError(`${where}: ${kind}/${name || "?"}: ${found.reason}`);
  return [
    {
      kind,
      name: found.objectName,
      namespace,
      imagePullSecrets: found.spec.imagePullSecrets,
      serviceAccountName: explicitServiceAccount(object),
      uses: found.uses,
    },
  ];
}

function explicitServiceAccount(object: Record<string, unknown>): string | null {
  // The pod spec is at spec (Pod), spec.template.spec (workloads) or spec.jobTemplate.spec.template.spec (CronJob).
  const candidates = [
    ["spec"],
    ["spec", "template", "spec"],
    ["spec", "jobTemplate", "spec", "template", "spec"],
  ];
  for (const path of candidates) {
    let node: unknown = object;
    for (const key of path) node = isJsonObject(node) ? node[key] : undefined;
    if (isJsonObject(node) && typeof node.serviceAccountName === "string" && node.serviceAccountName) {
      return node.serviceAccountName;
    }
  }
  return null;
}
