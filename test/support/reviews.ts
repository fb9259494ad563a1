/** Small AdmissionReview builders for tests; every call returns a fresh object. */

export interface ReviewOptions {
  readonly operation?: "CREATE" | "UPDATE" | "DELETE";
  readonly namespace?: string;
  readonly dryRun?: boolean;
  readonly oldObject?: object;
  readonly uid?: string;
  readonly subResource?: string;
}

const GVK: Record<string, { group: string; version: string; resource: string }> = {
  Pod: { group: "", version: "v1", resource: "pods" },
  Deployment: { group: "apps", version: "v1", resource: "deployments" },
  StatefulSet: { group: "apps", version: "v1", resource: "statefulsets" },
  DaemonSet: { group: "apps", version: "v1", resource: "daemonsets" },
  ReplicaSet: { group: "apps", version: "v1", resource: "replicasets" },
  ReplicationController: { group: "", version: "v1", resource: "replicationcontrollers" },
  Job: { group: "batch", version: "v1", resource: "jobs" },
  CronJob: { group: "batch", version: "v1", resource: "cronjobs" },
};

let counter = 0;

export function review(kind: string, object: { metadata?: { name?: string } }, options: ReviewOptions = {}) {
  const gvk = GVK[kind];
  if (!gvk) throw new Error(`no GVK for ${kind}`);
  counter++;
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: options.uid ?? `uid-${counter}`,
      kind: { group: gvk.group, version: gvk.version, kind },
      resource: { group: gvk.group, version: gvk.version, resource: gvk.resource },
      ...(options.subResource ? { subResource: options.subResource } : {}),
      name: object.metadata?.name ?? "",
      namespace: options.namespace ?? "team",
      operation: options.operation ?? "CREATE",
      userInfo: { username: "alice@example.com", groups: ["system:authenticated"] },
      object,
      ...(options.oldObject ? { oldObject: options.oldObject } : {}),
      dryRun: options.dryRun ?? false,
    },
  };
}

export interface PodSpecOptions {
  readonly images: readonly string[];
  readonly imagePullSecrets?: readonly string[];
  readonly serviceAccountName?: string;
  readonly nodeSelector?: Record<string, string>;
}

export function podSpec(options: PodSpecOptions) {
  return {
    containers: options.images.map((image, index) => ({ name: index === 0 ? "app" : `c${index}`, image })),
    ...(options.imagePullSecrets
      ? { imagePullSecrets: options.imagePullSecrets.map((name) => ({ name })) }
      : {}),
    ...(options.serviceAccountName ? { serviceAccountName: options.serviceAccountName } : {}),
    ...(options.nodeSelector ? { nodeSelector: options.nodeSelector } : {}),
  };
}

export function pod(name: string, options: PodSpecOptions) {
  return { apiVersion: "v1", kind: "Pod", metadata: { name }, spec: podSpec(options) };
}

export function deployment(name: string, options: PodSpecOptions & { replicas?: number }) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: {
      replicas: options.replicas ?? 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: podSpec(options) },
    },
  };
}

export function dockerConfigJson(auths: Record<string, { username: string; password: string }>): string {
  const entries = Object.fromEntries(
    Object.entries(auths).map(([key, { username, password }]) => [
      key,
      { auth: Buffer.from(`${username}:${password}`).toString("base64") },
    ]),
  );
  return JSON.stringify({ auths: entries });
}

/** A kubernetes.io/dockerconfigjson Secret's data, as the API returns it. */
export function pullSecretData(auths: Record<string, { username: string; password: string }>) {
  return {
    type: "kubernetes.io/dockerconfigjson",
    data: { ".dockerconfigjson": Buffer.from(dockerConfigJson(auths)).toString("base64") },
  };
}
