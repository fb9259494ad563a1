import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { admissionResponse, parseAdmissionReview } from "../../src/admission/review.ts";

type Json = Record<string, unknown>;

/** A fresh, complete CREATE review for a Pod on every call, so tests can mutate it freely. */
function podReview(): Json {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      requestKind: { group: "", version: "v1", kind: "Pod" },
      name: "web",
      namespace: "team-a",
      operation: "CREATE",
      userInfo: { username: "alice@example.com", groups: ["system:authenticated"] },
      object: { apiVersion: "v1", kind: "Pod", metadata: { name: "web" }, spec: { containers: [] } },
      oldObject: null,
      dryRun: false,
      options: { apiVersion: "meta.k8s.io/v1", kind: "CreateOptions" },
    },
  };
}

/** podReview() with request fields replaced (undefined deletes a field). */
function withRequest(changes: Json): Json {
  const review = podReview();
  const request = review.request as Json;
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete request[key];
    else request[key] = value;
  }
  return review;
}

function withTop(changes: Json): Json {
  const review = podReview();
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete review[key];
    else review[key] = value;
  }
  return review;
}

describe("parseAdmissionReview", () => {
  test("a complete Pod CREATE review decodes into the typed request", () => {
    const parsed = parseAdmissionReview(podReview());
    assert.equal(parsed.ok, true);
    if (!parsed.ok) return;
    const { object, ...rest } = parsed.request;
    assert.deepEqual(rest, {
      uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
      operation: "CREATE",
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      subResource: "",
      namespace: "team-a",
      name: "web",
      username: "alice@example.com",
      dryRun: false,
      oldObject: null,
    });
    assert.deepEqual(object, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web" },
      spec: { containers: [] },
    });
  });

  test("optional fields default to empty strings, false and null when absent", () => {
    const parsed = parseAdmissionReview(
      withRequest({
        name: undefined,
        namespace: undefined,
        userInfo: undefined,
        dryRun: undefined,
        oldObject: undefined,
        subResource: undefined,
      }),
    );
    assert.ok(parsed.ok);
    assert.equal(parsed.request.name, "");
    assert.equal(parsed.request.namespace, "");
    assert.equal(parsed.request.username, "");
    assert.equal(parsed.request.subResource, "");
    assert.equal(parsed.request.dryRun, false);
    assert.equal(parsed.request.oldObject, null);
  });

  test("a server-side dry run, a subresource and an old object are carried through", () => {
    const parsed = parseAdmissionReview(
      withRequest({
        operation: "UPDATE",
        dryRun: true,
        subResource: "ephemeralcontainers",
        oldObject: { metadata: { name: "web" } },
      }),
    );
    assert.ok(parsed.ok);
    assert.equal(parsed.request.dryRun, true);
    assert.equal(parsed.request.subResource, "ephemeralcontainers");
    assert.deepEqual(parsed.request.oldObject, { metadata: { name: "web" } });
  });

  test("DELETE and CONNECT need no object", () => {
    for (const operation of ["DELETE", "CONNECT"]) {
      const parsed = parseAdmissionReview(withRequest({ operation, object: null }));
      assert.ok(parsed.ok, operation);
      assert.equal(parsed.request.operation, operation);
      assert.equal(parsed.request.object, null);
    }
  });

  test("unknown fields anywhere are tolerated", () => {
    const review = withTop({ extra: { deeply: [1, 2, 3] } });
    (review.request as Json).somethingNew = "from a future API server";
    assert.equal(parseAdmissionReview(review).ok, true);
  });

  const malformed: [string, unknown, string][] = [
    ["a null body", null, "the body is not a JSON object"],
    ["a string body", "AdmissionReview", "the body is not a JSON object"],
    ["an array body", [podReview()], "the body is not a JSON object"],
    ["a missing apiVersion", withTop({ apiVersion: undefined }), "apiVersion is missing"],
    [
      "the v1beta1 apiVersion",
      withTop({ apiVersion: "admission.k8s.io/v1beta1" }),
      'apiVersion must be "admission.k8s.io/v1" (got "admission.k8s.io/v1beta1")',
    ],
    ["a numeric apiVersion", withTop({ apiVersion: 1 }), 'apiVersion must be "admission.k8s.io/v1" (got 1)'],
    ["a wrong kind", withTop({ kind: "Pod" }), 'kind must be "AdmissionReview" (got "Pod")'],
    ["a missing request", withTop({ request: undefined }), "request is missing"],
    ["a null request", withTop({ request: null }), "request is missing"],
    ["a request that is an array", withTop({ request: [] }), "request must be an object"],
    ["a missing uid", withRequest({ uid: undefined }), "request.uid is missing"],
    ["an empty uid", withRequest({ uid: "" }), "request.uid is empty"],
    ["a numeric uid", withRequest({ uid: 42 }), "request.uid must be a string"],
    ["a missing operation", withRequest({ operation: undefined }), "request.operation is missing"],
    [
      "an unknown operation",
      withRequest({ operation: "PATCH" }),
      'request.operation must be one of CREATE, UPDATE, DELETE, CONNECT (got "PATCH")',
    ],
    [
      "a lower-case operation",
      withRequest({ operation: "create" }),
      'request.operation must be one of CREATE, UPDATE, DELETE, CONNECT (got "create")',
    ],
    ["a missing kind", withRequest({ kind: undefined }), "request.kind is missing"],
    ["a string kind", withRequest({ kind: "Pod" }), "request.kind must be an object"],
    [
      "a kind without kind",
      withRequest({ kind: { group: "", version: "v1" } }),
      "request.kind.kind is missing",
    ],
    [
      "a kind without version",
      withRequest({ kind: { group: "apps", kind: "Deployment" } }),
      "request.kind.version is missing",
    ],
    [
      "a numeric kind group",
      withRequest({ kind: { group: 1, version: "v1", kind: "Pod" } }),
      "request.kind.group must be a string",
    ],
    ["a missing resource", withRequest({ resource: undefined }), "request.resource is missing"],
    [
      "a resource without a resource name",
      withRequest({ resource: { group: "", version: "v1" } }),
      "request.resource.resource is missing",
    ],
    ["a numeric subResource", withRequest({ subResource: 7 }), "request.subResource must be a string"],
    ["a numeric namespace", withRequest({ namespace: 7 }), "request.namespace must be a string"],
    ["an object name", withRequest({ name: {} }), "request.name must be a string"],
    ["a string userInfo", withRequest({ userInfo: "alice" }), "request.userInfo must be an object"],
    [
      "a numeric username",
      withRequest({ userInfo: { username: 1 } }),
      "request.userInfo.username must be a string",
    ],
    ["a string dryRun", withRequest({ dryRun: "true" }), "request.dryRun must be a boolean"],
    [
      "a CREATE without object",
      withRequest({ object: undefined }),
      "request.object is missing (required for CREATE)",
    ],
    [
      "an UPDATE with a null object",
      withRequest({ operation: "UPDATE", object: null }),
      "request.object is missing (required for UPDATE)",
    ],
    ["an array object", withRequest({ object: [] }), "request.object must be an object"],
    ["a string oldObject", withRequest({ oldObject: "{}" }), "request.oldObject must be an object"],
  ];

  for (const [name, body, reason] of malformed) {
    test(`${name} is refused with a reason naming the field`, () => {
      assert.deepEqual(parseAdmissionReview(body), { ok: false, reason });
    });
  }

  test("the first problem is the one reported when several fields are wrong", () => {
    assert.deepEqual(parseAdmissionReview(withRequest({ uid: undefined, kind: undefined, operation: "X" })), {
      ok: false,
      reason: "request.uid is missing",
    });
  });

  test("a reason quoting a huge value stays short", () => {
    const parsed = parseAdmissionReview(withTop({ apiVersion: "x".repeat(100_000) }));
    assert.equal(parsed.ok, false);
    if (parsed.ok) return;
    assert.ok(parsed.reason.length < 120, parsed.reason);
  });

  test("fields inherited from a prototype are not read as if sent", () => {
    const inherited = Object.create(podReview()) as Json;
    assert.deepEqual(parseAdmissionReview(inherited), { ok: false, reason: "apiVersion is missing" });
  });

  test("hostile property names in parsed JSON neither throw nor pollute prototypes", () => {
    const body = JSON.parse(
      JSON.stringify(podReview()).replace(
        '"request":{',
        '"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"request":{"__proto__":{"uid":"x"},',
      ),
    ) as unknown;
    const parsed = parseAdmissionReview(body);
    assert.ok(parsed.ok);
    assert.equal(parsed.request.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
    assert.equal(({} as Json).polluted, undefined);

    const onlyProto = JSON.parse(
      '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","__proto__":{"request":{}}}',
    );
    assert.deepEqual(parseAdmissionReview(onlyProto), { ok: false, reason: "request is missing" });
  });

  test("garbage of every JSON type in every request field never throws", () => {
    const garbage: unknown[] = [
      null,
      0,
      -1.5,
      true,
      "",
      "x",
      [],
      [null],
      {},
      { a: { b: { c: [] } } },
      nested(500),
    ];
    const fields = [
      "uid",
      "kind",
      "resource",
      "subResource",
      "name",
      "namespace",
      "operation",
      "userInfo",
      "object",
      "oldObject",
      "dryRun",
    ];
    let outcomes = 0;
    for (const field of fields) {
      for (const value of garbage) {
        const parsed = parseAdmissionReview(withRequest({ [field]: value }));
        assert.equal(typeof parsed.ok, "boolean");
        if (!parsed.ok) assert.match(parsed.reason, /^request\./);
        outcomes++;
      }
    }
    for (const value of garbage) {
      for (const top of ["apiVersion", "kind", "request"]) {
        assert.equal(typeof parseAdmissionReview(withTop({ [top]: value })).ok, "boolean");
        outcomes++;
      }
      assert.equal(parseAdmissionReview(value).ok, false);
    }
    assert.equal(outcomes, fields.length * garbage.length + 3 * garbage.length);
  });
});

function nested(depth: number): unknown {
  let value: unknown = "bottom";
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { spec: value };
  return value;
}

describe("admissionResponse", () => {
  test("an allow echoes the uid inside a v1 AdmissionReview and nothing else", () => {
    assert.deepEqual(admissionResponse("uid-1", { allowed: true }), {
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: "uid-1", allowed: true },
    });
  });

  test("a denial carries status, warnings and audit annotations", () => {
    assert.deepEqual(
      admissionResponse("uid-2", {
        allowed: false,
        status: { code: 403, message: 'container "app": nginx:nope tag-not-found' },
        warnings: ["sidecar: envoy:v1 rate-limited"],
        auditAnnotations: { "images.pullcheck.dev/app": "tag-not-found" },
      }),
      {
        apiVersion: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        response: {
          uid: "uid-2",
          allowed: false,
          status: { code: 403, message: 'container "app": nginx:nope tag-not-found' },
          warnings: ["sidecar: envoy:v1 rate-limited"],
          auditAnnotations: { "images.pullcheck.dev/app": "tag-not-found" },
        },
      },
    );
  });

  test("empty warnings and annotations are left out instead of sent empty", () => {
    const review = admissionResponse("uid-3", { allowed: true, warnings: [], auditAnnotations: {} });
    assert.deepEqual(Object.keys(review.response), ["uid", "allowed"]);
  });

  test("the response does not alias the caller's arrays and maps", () => {
    const warnings = ["one"];
    const auditAnnotations: Record<string, string> = { a: "b" };
    const review = admissionResponse("uid-4", { allowed: true, warnings, auditAnnotations });
    warnings.push("two");
    auditAnnotations.c = "d";
    assert.deepEqual(review.response.warnings, ["one"]);
    assert.deepEqual(review.response.auditAnnotations, { a: "b" });
  });

  test("the response survives a JSON round trip unchanged", () => {
    const review = admissionResponse("uid-5", { allowed: false, status: { code: 403, message: "no" } });
    assert.deepEqual(JSON.parse(JSON.stringify(review)), review);
  });
});
