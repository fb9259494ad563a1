import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ImageUse, ImageUseSet } from "../../src/admission/images.ts";
import { collectImageUses } from "../../src/admission/images.ts";
import type { AdmissionRequest } from "../../src/admission/review.ts";
import { parseAdmissionReview } from "../../src/admission/review.ts";

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------
// Fixture builders: every call returns a fresh object, so tests may mutate freely.

/** A pod spec using every image-bearing field once or twice. */
function fullPodSpec(): Json {
  return {
    containers: [
      { name: "app", image: "nginx:1.27", imagePullPolicy: "IfNotPresent" },
      { name: "sidecar", image: "envoyproxy/envoy:v1.30" },
    ],
    initContainers: [
      { name: "setup", image: "busybox:1.36" },
      { name: "migrate", image: "registry.example.com/team/migrate:v2", imagePullPolicy: "Always" },
    ],
    volumes: [
      { name: "config", configMap: { name: "web-config" } },
      { name: "cache", emptyDir: {} },
      { name: "models", image: { reference: "quay.io/org/models:v1", pullPolicy: "IfNotPresent" } },
    ],
    imagePullSecrets: [{ name: "regcred" }],
  };
}

/** The uses fullPodSpec() yields, under a given pod spec path. */
function fullPodSpecUses(prefix: string): ImageUse[] {
  return [
    {
      image: "nginx:1.27",
      container: "app",
      role: "container",
      fieldPath: `${prefix}.containers[0].image`,
      pullPolicy: "IfNotPresent",
    },
    {
      image: "envoyproxy/envoy:v1.30",
      container: "sidecar",
      role: "container",
      fieldPath: `${prefix}.containers[1].image`,
    },
    {
      image: "busybox:1.36",
      container: "setup",
      role: "initContainer",
      fieldPath: `${prefix}.initContainers[0].image`,
    },
    {
      image: "registry.example.com/team/migrate:v2",
      container: "migrate",
      role: "initContainer",
      fieldPath: `${prefix}.initContainers[1].image`,
      pullPolicy: "Always",
    },
    {
      image: "quay.io/org/models:v1",
      container: "models",
      role: "imageVolume",
      fieldPath: `${prefix}.volumes[2].image.reference`,
      pullPolicy: "IfNotPresent",
    },
  ];
}

interface KindCase {
  readonly group: string;
  readonly kind: string;
  readonly resource: string;
  readonly prefix: string;
  readonly wrap: (spec: unknown) => Json;
}

const template = (spec: unknown) => ({
  replicas: 3,
  template: { metadata: { labels: { app: "web" } }, spec },
});

const KINDS: readonly KindCase[] = [
  { group: "", kind: "Pod", resource: "pods", prefix: "spec", wrap: (spec) => spec as Json },
  {
    group: "apps",
    kind: "Deployment",
    resource: "deployments",
    prefix: "spec.template.spec",
    wrap: template,
  },
  {
    group: "apps",
    kind: "StatefulSet",
    resource: "statefulsets",
    prefix: "spec.template.spec",
    wrap: template,
  },
  { group: "apps", kind: "DaemonSet", resource: "daemonsets", prefix: "spec.template.spec", wrap: template },
  {
    group: "apps",
    kind: "ReplicaSet",
    resource: "replicasets",
    prefix: "spec.template.spec",
    wrap: template,
  },
  {
    group: "",
    kind: "ReplicationController",
    resource: "replicationcontrollers",
    prefix: "spec.template.spec",
    wrap: template,
  },
  { group: "batch", kind: "Job", resource: "jobs", prefix: "spec.template.spec", wrap: template },
  {
    group: "batch",
    kind: "CronJob",
    resource: "cronjobs",
    prefix: "spec.jobTemplate.spec.template.spec",
    wrap: (spec) => ({
      schedule: "*/5 * * * *",
      jobTemplate: { spec: { backoffLimit: 2, template: { spec } } },
    }),
  },
];

function kindCase(kind: string): KindCase {
  const found = KINDS.find((k) => k.kind === kind);
  assert.ok(found, kind);
  return found;
}

/** A whole object of the given kind around a pod spec. */
function objectOf(
  kind: KindCase,
  spec: unknown,
  metadata: Json = { name: "web", namespace: "team-a" },
): Json {
  return { apiVersion: "v1", kind: kind.kind, metadata, spec: kind.wrap(spec) };
}

interface RequestOptions {
  readonly operation?: string;
  readonly object?: unknown;
  readonly oldObject?: unknown;
  readonly subResource?: string;
  readonly name?: string;
  readonly kind?: { group: string; version: string; kind: string };
  readonly resource?: { group: string; version: string; resource: string };
}

/** Goes through parseAdmissionReview so the decoder sees exactly what the webhook would give it. */
function requestFor(kind: KindCase, options: RequestOptions): AdmissionRequest {
  const request: Json = {
    uid: "uid-1",
    kind: options.kind ?? { group: kind.group, version: "v1", kind: kind.kind },
    resource: options.resource ?? { group: kind.group, version: "v1", resource: kind.resource },
    name: options.name ?? "web",
    namespace: "team-a",
    operation: options.operation ?? "CREATE",
    userInfo: { username: "alice" },
    object: options.object ?? null,
    oldObject: options.oldObject ?? null,
  };
  if (options.subResource !== undefined) request.subResource = options.subResource;
  const parsed = parseAdmissionReview({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request,
  });
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.reason);
  return parsed.request;
}

function create(kind: string, spec: unknown): ImageUseSet {
  const k = kindCase(kind);
  return collectImageUses(requestFor(k, { object: objectOf(k, spec) }));
}

function update(kind: string, oldSpec: unknown, newSpec: unknown): ImageUseSet {
  const k = kindCase(kind);
  return collectImageUses(
    requestFor(k, { operation: "UPDATE", object: objectOf(k, newSpec), oldObject: objectOf(k, oldSpec) }),
  );
}

function usesOf(set: ImageUseSet): ImageUse[] {
  assert.equal(set.kind, "images", set.kind === "images" ? "" : set.reason);
  return set.kind === "images" ? set.uses : [];
}

function imagesOf(set: ImageUseSet): string[] {
  return usesOf(set).map((use) => use.image);
}

// ---------------------------------------------------------------------------

describe("collectImageUses: every supported kind", () => {
  for (const kind of KINDS) {
    test(`a ${kind.kind} CREATE yields every image with its exact field path under ${kind.prefix}`, () => {
      const set = create(kind.kind, fullPodSpec());
      assert.equal(set.kind, "images");
      if (set.kind !== "images") return;
      assert.deepEqual(set.uses, fullPodSpecUses(kind.prefix));
      assert.equal(set.objectKind, kind.kind);
      assert.equal(set.objectName, "web");
      assert.equal(set.spec.isTemplate, kind.kind !== "Pod");
      assert.deepEqual(set.spec.imagePullSecrets, ["regcred"]);
    });
  }

  test("a CronJob's images are found three levels down, through the job template", () => {
    const uses = usesOf(create("CronJob", { containers: [{ name: "report", image: "reports:2024" }] }));
    assert.deepEqual(uses, [
      {
        image: "reports:2024",
        container: "report",
        role: "container",
        fieldPath: "spec.jobTemplate.spec.template.spec.containers[0].image",
      },
    ]);
  });

  test("a Pod's ephemeral containers are collected on the main resource too", () => {
    const uses = usesOf(
      create("Pod", { containers: [], ephemeralContainers: [{ name: "debugger", image: "busybox:1.36" }] }),
    );
    assert.deepEqual(uses, [
      {
        image: "busybox:1.36",
        container: "debugger",
        role: "ephemeralContainer",
        fieldPath: "spec.ephemeralContainers[0].image",
      },
    ]);
  });

  test("the same image used twice is reported once per place it is used", () => {
    const uses = usesOf(
      create("Deployment", {
        containers: [
          { name: "a", image: "nginx:1.27" },
          { name: "b", image: "nginx:1.27" },
        ],
      }),
    );
    assert.deepEqual(
      uses.map((use) => use.fieldPath),
      ["spec.template.spec.containers[0].image", "spec.template.spec.containers[1].image"],
    );
  });

  test("an image volume's pull policy and volume name are reported; other volume types are ignored", () => {
    const uses = usesOf(
      create("Pod", {
        containers: [],
        volumes: [
          { name: "secret", secret: { secretName: "s" } },
          { name: "data", image: { reference: "registry.example.com/data:v3" } },
          {
            name: "weights",
            image: { reference: "registry.example.com/weights@sha256:abc", pullPolicy: "Always" },
          },
        ],
      }),
    );
    assert.deepEqual(uses, [
      {
        image: "registry.example.com/data:v3",
        container: "data",
        role: "imageVolume",
        fieldPath: "spec.volumes[1].image.reference",
      },
      {
        image: "registry.example.com/weights@sha256:abc",
        container: "weights",
        role: "imageVolume",
        fieldPath: "spec.volumes[2].image.reference",
        pullPolicy: "Always",
      },
    ]);
  });

  test("images are kept exactly as written, whitespace and oddities included", () => {
    assert.deepEqual(imagesOf(create("Pod", { containers: [{ name: "a", image: " Nginx:LATEST " }] })), [
      " Nginx:LATEST ",
    ]);
  });
});

describe("collectImageUses: pod spec context", () => {
  test('a Pod without pull secrets or service account gets none and "default"', () => {
    const set = create("Pod", { containers: [{ name: "a", image: "nginx" }] });
    assert.ok(set.kind === "images");
    assert.deepEqual(set.spec, {
      imagePullSecrets: [],
      serviceAccountName: "default",
      nodeSelector: {},
      isTemplate: false,
    });
  });

  test("pull secret names keep their order and drop empty or unnamed entries", () => {
    const set = create("Deployment", {
      imagePullSecrets: [{ name: "b" }, { name: "" }, {}, null, { name: 3 }, "c", { name: "a" }],
      serviceAccountName: "builder",
    });
    assert.ok(set.kind === "images");
    assert.deepEqual(set.spec.imagePullSecrets, ["b", "a"]);
    assert.equal(set.spec.serviceAccountName, "builder");
  });

  test("the deprecated serviceAccount field is used when serviceAccountName is empty", () => {
    const set = create("Job", { serviceAccountName: "", serviceAccount: "legacy" });
    assert.ok(set.kind === "images");
    assert.equal(set.spec.serviceAccountName, "legacy");
  });

  test("the node selector keeps string values only", () => {
    const set = create("DaemonSet", {
      nodeSelector: { "kubernetes.io/os": "linux", "kubernetes.io/arch": "arm64", weird: 5, other: null },
    });
    assert.ok(set.kind === "images");
    assert.deepEqual(set.spec.nodeSelector, { "kubernetes.io/os": "linux", "kubernetes.io/arch": "arm64" });
  });

  const affinity = (...terms: unknown[]) => ({
    affinity: {
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } },
    },
  });
  const arch = (operator: string, ...values: string[]) => ({ key: "kubernetes.io/arch", operator, values });
  const architectureCases: [string, Json, readonly string[] | undefined][] = [
    ["no affinity", {}, undefined],
    ["one term with arch In", affinity({ matchExpressions: [arch("In", "arm64")] }), ["arm64"]],
    [
      "two terms, both constraining arch (ORed: union)",
      affinity(
        { matchExpressions: [arch("In", "arm64")] },
        { matchExpressions: [arch("In", "amd64", "arm64")] },
      ),
      ["arm64", "amd64"],
    ],
    [
      "two terms, one leaving arch open (no restriction)",
      affinity(
        { matchExpressions: [arch("In", "arm64")] },
        { matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] },
      ),
      undefined,
    ],
    [
      "two arch expressions in one term (ANDed: intersection)",
      affinity({ matchExpressions: [arch("In", "amd64", "arm64"), arch("In", "arm64", "s390x")] }),
      ["arm64"],
    ],
    ["arch NotIn only", affinity({ matchExpressions: [arch("NotIn", "arm64")] }), undefined],
    ["an arch In with no values", affinity({ matchExpressions: [arch("In")] }), undefined],
    [
      "a term matching no architecture at all",
      affinity({ matchExpressions: [arch("In", "a"), arch("In", "b")] }),
      undefined,
    ],
    ["garbage terms", affinity("x", null, 3), undefined],
  ];
  for (const [name, spec, expected] of architectureCases) {
    test(`required architectures with ${name}`, () => {
      const set = create("Deployment", spec);
      assert.ok(set.kind === "images");
      assert.deepEqual(set.spec.requiredArchitectures, expected);
    });
  }

  test("the object name falls back to generateName plus * and then the request name", () => {
    const k = kindCase("Pod");
    const spec = { containers: [] };
    const nameOf = (metadata: Json, name: string) => {
      const set = collectImageUses(requestFor(k, { object: objectOf(k, spec, metadata), name }));
      assert.ok(set.kind === "images");
      return set.objectName;
    };
    assert.equal(nameOf({ name: "web-0", generateName: "web-" }, "req"), "web-0");
    assert.equal(nameOf({ generateName: "web-7d9f8-" }, ""), "web-7d9f8-*");
    assert.equal(nameOf({}, "from-request"), "from-request");
    assert.equal(nameOf({ name: 5 }, "from-request"), "from-request");
  });
});

describe("collectImageUses: UPDATE checks only new images", () => {
  const app = (image: string, name = "app") => ({ name, image });
  const cases: [string, Json, Json, string[]][] = [
    ["scaling (same spec)", { containers: [app("nginx:old")] }, { containers: [app("nginx:old")] }, []],
    [
      "an image change",
      { containers: [app("nginx:1.26")] },
      { containers: [app("nginx:1.27")] },
      ["nginx:1.27"],
    ],
    [
      "an added sidecar",
      { containers: [app("nginx:1.27")] },
      { containers: [app("nginx:1.27"), app("envoy:v1", "sidecar")] },
      ["envoy:v1"],
    ],
    [
      "reordered containers",
      { containers: [app("a:1", "a"), app("b:1", "b")] },
      { containers: [app("b:1", "b"), app("a:1", "a")] },
      [],
    ],
    [
      "a renamed container",
      { containers: [app("nginx:1.27", "web")] },
      { containers: [app("nginx:1.27", "app")] },
      [],
    ],
    [
      "an image moved from an init container to a container",
      { initContainers: [app("tool:1", "init")], containers: [app("nginx:1.27")] },
      { containers: [app("nginx:1.27"), app("tool:1", "helper")] },
      [],
    ],
    [
      "a changed pull secret (old images are not re-checked)",
      { containers: [app("nginx:1.27")], imagePullSecrets: [{ name: "old" }] },
      { containers: [app("nginx:1.27")], imagePullSecrets: [{ name: "new" }] },
      [],
    ],
    [
      "a changed image volume",
      { containers: [], volumes: [{ name: "m", image: { reference: "models:1" } }] },
      { containers: [], volumes: [{ name: "m", image: { reference: "models:2" } }] },
      ["models:2"],
    ],
    [
      "the same image written differently (compared as written)",
      { containers: [app("nginx")] },
      { containers: [app("docker.io/library/nginx:latest")] },
      ["docker.io/library/nginx:latest"],
    ],
    [
      "one new image used in two places",
      { containers: [app("a:1")] },
      { containers: [app("a:2"), app("a:2", "b")] },
      ["a:2", "a:2"],
    ],
    ["an old object without a spec", {}, { containers: [app("nginx:1.27")] }, ["nginx:1.27"]],
    [
      "an unreadable old object (every image is new)",
      { containers: "garbage" },
      { containers: [app("nginx:1.27")] },
      ["nginx:1.27"],
    ],
  ];
  for (const kind of ["Deployment", "CronJob", "Pod"]) {
    for (const [name, oldSpec, newSpec, expected] of cases) {
      test(`${kind}: ${name} checks ${expected.length === 0 ? "nothing" : expected.join(", ")}`, () => {
        assert.deepEqual(imagesOf(update(kind, oldSpec, newSpec)), expected);
      });
    }
  }

  test("a new image keeps its field path and container in the update", () => {
    const uses = usesOf(
      update(
        "StatefulSet",
        { containers: [app("nginx:1.27")] },
        { containers: [app("nginx:1.27"), app("envoy:v1", "sidecar")] },
      ),
    );
    assert.deepEqual(uses, [
      {
        image: "envoy:v1",
        container: "sidecar",
        role: "container",
        fieldPath: "spec.template.spec.containers[1].image",
      },
    ]);
  });

  test("an UPDATE without oldObject treats every image as new", () => {
    const k = kindCase("Deployment");
    const set = collectImageUses(requestFor(k, { operation: "UPDATE", object: objectOf(k, fullPodSpec()) }));
    assert.equal(usesOf(set).length, fullPodSpecUses("").length);
  });

  test("the pod spec context comes from the new object", () => {
    const set = update(
      "Deployment",
      { imagePullSecrets: [{ name: "old" }] },
      { imagePullSecrets: [{ name: "new" }], serviceAccountName: "sa" },
    );
    assert.ok(set.kind === "images");
    assert.deepEqual(set.spec.imagePullSecrets, ["new"]);
    assert.equal(set.spec.serviceAccountName, "sa");
  });
});

describe("collectImageUses: the pods/ephemeralcontainers subresource", () => {
  const pod = kindCase("Pod");
  const podWith = (ephemeral: unknown[]) =>
    objectOf(pod, {
      containers: [{ name: "app", image: "nginx:1.27" }],
      initContainers: [{ name: "init", image: "busybox:1.36" }],
      ephemeralContainers: ephemeral,
      imagePullSecrets: [{ name: "regcred" }],
    });
  const ephemeral = (name: string, image: string) => ({ name, image, targetContainerName: "app" });
  const subresource = (operation: string, oldEphemeral: unknown[] | null, newEphemeral: unknown[]) =>
    collectImageUses(
      requestFor(pod, {
        operation,
        subResource: "ephemeralcontainers",
        object: podWith(newEphemeral),
        ...(oldEphemeral === null ? {} : { oldObject: podWith(oldEphemeral) }),
      }),
    );

  test("only the added ephemeral container is checked, not the pod's other images", () => {
    const set = subresource("UPDATE", [], [ephemeral("debugger-1", "busybox:1.36")]);
    assert.ok(set.kind === "images");
    assert.deepEqual(set.uses, [
      {
        image: "busybox:1.36",
        container: "debugger-1",
        role: "ephemeralContainer",
        fieldPath: "spec.ephemeralContainers[0].image",
      },
    ]);
    assert.equal(set.objectKind, "Pod");
    assert.equal(set.spec.isTemplate, false);
    assert.deepEqual(set.spec.imagePullSecrets, ["regcred"]);
  });

  test("ephemeral containers already present in the old pod are not checked again", () => {
    const set = subresource(
      "UPDATE",
      [ephemeral("debugger-1", "busybox:1.36")],
      [ephemeral("debugger-1", "busybox:1.36"), ephemeral("debugger-2", "busybox:1.36")],
    );
    assert.deepEqual(
      usesOf(set).map((use) => [use.container, use.fieldPath]),
      [["debugger-2", "spec.ephemeralContainers[1].image"]],
    );
  });

  test("a subresource request without oldObject checks every ephemeral container", () => {
    assert.deepEqual(imagesOf(subresource("UPDATE", null, [ephemeral("d", "alpine:3")])), ["alpine:3"]);
  });

  test("the subresource is recognised by request.resource even when request.kind differs", () => {
    const set = collectImageUses(
      requestFor(pod, {
        operation: "UPDATE",
        subResource: "ephemeralcontainers",
        kind: { group: "", version: "v1", kind: "EphemeralContainers" },
        object: podWith([ephemeral("d", "alpine:3")]),
      }),
    );
    assert.deepEqual(imagesOf(set), ["alpine:3"]);
  });
});

describe("collectImageUses: requests that pull nothing", () => {
  const pod = kindCase("Pod");
  const deployment = kindCase("Deployment");
  const cases: [string, RequestOptions & { kindCase?: KindCase }, string][] = [
    [
      "a DELETE",
      { operation: "DELETE", oldObject: objectOf(pod, fullPodSpec()) },
      "DELETE requests pull no images",
    ],
    [
      "a CONNECT",
      { operation: "CONNECT", object: { kind: "PodExecOptions" } },
      "CONNECT requests pull no images",
    ],
    [
      "a pods/status update",
      { operation: "UPDATE", subResource: "status", object: objectOf(pod, fullPodSpec()) },
      "subresource pods/status pulls no images",
    ],
    [
      "a deployments/scale update",
      {
        kindCase: deployment,
        operation: "UPDATE",
        subResource: "scale",
        kind: { group: "autoscaling", version: "v1", kind: "Scale" },
        object: { spec: { replicas: 5 } },
      },
      "subresource deployments/scale pulls no images",
    ],
    [
      "a ConfigMap",
      {
        kind: { group: "", version: "v1", kind: "ConfigMap" },
        resource: { group: "", version: "v1", resource: "configmaps" },
        object: { data: { image: "nginx" } },
      },
      "kind /v1/ConfigMap is not checked",
    ],
    [
      "an unknown version of a known kind",
      {
        kind: { group: "apps", version: "v2", kind: "Deployment" },
        object: objectOf(deployment, fullPodSpec()),
      },
      "kind apps/v2/Deployment is not checked",
    ],
    [
      "a kind named like a prototype key",
      { kind: { group: "", version: "v1", kind: "constructor" }, object: {} },
      "kind /v1/constructor is not checked",
    ],
  ];
  for (const [name, options, reason] of cases) {
    test(`${name} is unsupported: ${reason}`, () => {
      const set = collectImageUses(requestFor(options.kindCase ?? pod, options));
      assert.deepEqual(set, { kind: "unsupported", reason });
    });
  }
});

describe("collectImageUses: odd and hostile objects", () => {
  const malformedCases: [string, string, unknown, string][] = [
    ["containers not an array", "Pod", { containers: { name: "a" } }, "spec.containers must be an array"],
    [
      "a non-string image",
      "Deployment",
      { containers: [{ name: "a", image: 42 }] },
      "spec.template.spec.containers[0].image must be a string",
    ],
    [
      "a container that is a string",
      "Job",
      { initContainers: [null, "nginx"] },
      "spec.template.spec.initContainers[1] must be an object",
    ],
    [
      "a string image volume",
      "Pod",
      { volumes: [{ name: "v", image: "nginx" }] },
      "spec.volumes[0].image must be an object",
    ],
    [
      "a non-string image volume reference",
      "Pod",
      { volumes: [{ name: "v", image: { reference: ["x"] } }] },
      "spec.volumes[0].image.reference must be a string",
    ],
    ["volumes not an array", "Pod", { volumes: "x" }, "spec.volumes must be an array"],
    ["a pod spec that is an array", "Pod", [], "spec must be an object"],
  ];
  for (const [name, kind, spec, reason] of malformedCases) {
    test(`${name} makes the set malformed: ${reason}`, () => {
      assert.deepEqual(create(kind, spec), { kind: "malformed", reason });
    });
  }

  test("a CronJob whose jobTemplate is a string is malformed, naming the path", () => {
    const k = kindCase("CronJob");
    const set = collectImageUses(requestFor(k, { object: { spec: { jobTemplate: "x" } } }));
    assert.deepEqual(set, { kind: "malformed", reason: "spec.jobTemplate must be an object" });
  });

  const emptyCases: [string, string, unknown][] = [
    ["no spec at all", "Deployment", undefined],
    ["a null spec", "Pod", null],
    ["an empty spec", "CronJob", {}],
    ["null containers and volumes", "Pod", { containers: null, initContainers: null, volumes: null }],
    ["null entries", "Pod", { containers: [null, null], volumes: [null] }],
    [
      "containers without images",
      "Deployment",
      { containers: [{ name: "a" }, { name: "b", image: "" }, { image: null }] },
    ],
    [
      "image volumes without a reference",
      "Pod",
      {
        volumes: [
          { name: "v", image: {} },
          { name: "w", image: null },
        ],
      },
    ],
  ];
  for (const [name, kind, spec] of emptyCases) {
    test(`${name} yields zero uses, not a crash`, () => {
      assert.deepEqual(usesOf(create(kind, spec)), []);
    });
  }

  test("a template missing on the way to the pod spec yields zero uses", () => {
    const k = kindCase("CronJob");
    const set = collectImageUses(
      requestFor(k, { object: { metadata: { name: "c" }, spec: { jobTemplate: null } } }),
    );
    assert.deepEqual(usesOf(set), []);
  });

  test("an unnamed container or volume reports an empty name and still its path", () => {
    assert.deepEqual(usesOf(create("Pod", { containers: [{ image: "nginx", name: { x: 1 } }] })), [
      { image: "nginx", container: "", role: "container", fieldPath: "spec.containers[0].image" },
    ]);
  });

  test("hostile property names in parsed JSON are read as plain data and pollute nothing", () => {
    const body = JSON.parse(`{
      "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
      "request": {
        "uid": "u", "operation": "CREATE", "name": "",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "object": {
          "__proto__": {"spec": {"containers": [{"name": "ghost", "image": "ghost:1"}]}},
          "constructor": {"prototype": {"polluted": true}},
          "metadata": {"__proto__": {"name": "ghost"}, "generateName": "real-"},
          "spec": {
            "__proto__": {"containers": [{"image": "ghost:2"}]},
            "containers": [{"name": "__proto__", "image": "constructor", "__proto__": {"image": "ghost:3"}}],
            "nodeSelector": {"__proto__": "x", "constructor": "y", "kubernetes.io/arch": "amd64"},
            "imagePullSecrets": [{"name": "__proto__"}]
          }
        }
      }
    }`) as unknown;
    const parsed = parseAdmissionReview(body);
    assert.ok(parsed.ok);
    const set = collectImageUses(parsed.request);
    assert.ok(set.kind === "images");
    assert.deepEqual(set.uses, [
      {
        image: "constructor",
        container: "__proto__",
        role: "container",
        fieldPath: "spec.containers[0].image",
      },
    ]);
    assert.equal(set.objectName, "real-*");
    assert.deepEqual(set.spec.imagePullSecrets, ["__proto__"]);
    assert.equal(set.spec.nodeSelector["kubernetes.io/arch"], "amd64");
    assert.equal(Object.getPrototypeOf(set.spec.nodeSelector), Object.prototype);
    assert.deepEqual(Object.keys(set.spec.nodeSelector).sort(), [
      "__proto__",
      "constructor",
      "kubernetes.io/arch",
    ]);
    assert.equal(({} as Json).polluted, undefined);
    assert.equal(({} as Json).containers, undefined);
  });

  test("deeply nested garbage and nulls in every field never throw", () => {
    let deep: unknown = null;
    for (let i = 0; i < 10_000; i++) deep = { spec: deep, containers: [deep] };
    const garbage: unknown[] = [null, 0, "", "x", true, [], [null], {}, [[[]]], { image: {} }, deep];
    const fields = [
      "containers",
      "initContainers",
      "ephemeralContainers",
      "volumes",
      "imagePullSecrets",
      "serviceAccountName",
      "nodeSelector",
      "affinity",
    ];
    let checked = 0;
    for (const kind of KINDS) {
      for (const field of fields) {
        for (const value of garbage) {
          for (const operation of ["CREATE", "UPDATE"]) {
            const spec = { ...fullPodSpec(), [field]: value };
            const set = collectImageUses(
              requestFor(kind, { operation, object: objectOf(kind, spec), oldObject: objectOf(kind, value) }),
            );
            assert.ok(["images", "malformed"].includes(set.kind));
            checked++;
          }
        }
      }
      for (const value of garbage) {
        const set = collectImageUses(requestFor(kind, { object: { spec: value, metadata: value } }));
        assert.ok(["images", "malformed"].includes(set.kind));
        checked++;
      }
    }
    assert.equal(checked, KINDS.length * (fields.length * garbage.length * 2 + garbage.length));
  });

  test("a hand-built request with no object at all yields zero uses", () => {
    const request = requestFor(kindCase("Pod"), { object: { spec: {} } });
    assert.deepEqual(usesOf(collectImageUses({ ...request, object: null })), []);
  });

  test("huge arrays are fine: 20,000 containers, each reported, and an UPDATE diff over them", () => {
    const containers = Array.from({ length: 20_000 }, (_, i) => ({ name: `c${i}`, image: `img:${i}` }));
    const set = create("Deployment", { containers });
    assert.equal(usesOf(set).length, 20_000);
    assert.equal(usesOf(set)[19_999]?.fieldPath, "spec.template.spec.containers[19999].image");

    const changed = containers.map((c, i) => (i === 12_345 ? { ...c, image: "img:new" } : c));
    assert.deepEqual(imagesOf(update("Deployment", { containers }, { containers: changed })), ["img:new"]);
  });
});
