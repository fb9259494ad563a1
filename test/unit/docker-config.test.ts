import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  decodeAuthField,
  parseDockerConfig,
  parseDockerConfigJson,
  parseDockercfg,
  parsePullSecret,
} from "../../src/credentials/docker-config.ts";

// Vectors from kubernetes pkg/credentialprovider/config_test.go (TestDecodeDockerConfigFieldAuth,
// TestDockerConfigEntryJSONDecode, TestDockerConfigJsonJSONDecode, TestDockerConfigJSONDecode,
// TestReadDockerConfig*FromBytes) and secrets/secrets.go, restated as inputs and outcomes.
// Go's encoding/json rules (case-insensitive field names, null = unset, wrong type = error)
// were confirmed against the kubelet's own code built from k8s.io/kubernetes v1.37.2.

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const rawB64 = (text: string) => b64(text).replace(/=+$/, "");

type Creds = Array<[key: string, username: string, password: string]>;

function entriesOf(parsed: ReturnType<typeof parseDockerConfigJson>): Creds {
  if (!parsed.ok) assert.fail(`expected the payload to parse, got: ${parsed.reason}`);
  return parsed.entries.map((e) => [e.key, e.username, e.password]);
}

function reasonOf(parsed: ReturnType<typeof parseDockerConfigJson>): string {
  if (parsed.ok) assert.fail(`expected the payload to be invalid, got ${JSON.stringify(parsed.entries)}`);
  return parsed.reason;
}

describe("decodeAuthField", () => {
  const cases: Array<{ name: string; field: string; expect: [string, string] | "fails" }> = [
    { name: "padded base64 of user:password decodes", field: "Zm9vOmJhcg==", expect: ["foo", "bar"] },
    { name: "the unpadded form decodes too", field: "Zm9vOmJhcg", expect: ["foo", "bar"] },
    { name: "line breaks anywhere are skipped", field: "Zm9vOm\nJhcg==\n", expect: ["foo", "bar"] },
    { name: "carriage returns are skipped too", field: "Zm9v\r\nOmJhcg", expect: ["foo", "bar"] },
    { name: "raw encoding of a 7-byte value decodes", field: rawB64("foo:bar"), expect: ["foo", "bar"] },
    {
      name: "it splits at the first colon only",
      field: b64("robot+team:pa:ss:word"),
      expect: ["robot+team", "pa:ss:word"],
    },
    { name: "an empty user and password are allowed", field: b64(":"), expect: ["", ""] },
    { name: "non-ASCII credentials survive", field: b64("jörg:pässwörd"), expect: ["jörg", "pässwörd"] },
    { name: "good base64 without a colon fails", field: "cGFudHM=", expect: "fails" },
    {
      name: "a trailing space fails (only line breaks are skipped)",
      field: "Zm9vOmJhcg== ",
      expect: "fails",
    },
    { name: "bad base64 fails", field: "pants", expect: "fails" },
    { name: "padding in the middle fails", field: "Zm9v=OmJhcg==", expect: "fails" },
    { name: "the URL-safe alphabet fails", field: "Zm9vOm_hcg==", expect: "fails" },
    { name: "a single trailing = on a 2-char tail fails", field: "YTpi=", expect: "fails" },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const decoded = decodeAuthField(c.field);
      if (c.expect === "fails") {
        assert.equal(decoded.ok, false);
        if (!decoded.ok) assert.match(decoded.reason, /unable to parse auth field/);
      } else {
        assert.deepEqual(decoded, { ok: true, username: c.expect[0], password: c.expect[1] });
      }
    });
  }
});

describe("entries the kubelet reads from one auth entry", () => {
  const entry = (value: unknown) =>
    parseDockerConfigJson(JSON.stringify({ auths: { "r.example.com": value } }));
  const cases: Array<{ name: string; value: unknown; expect: [string, string] | RegExp }> = [
    {
      name: "username and password are taken as written",
      value: { username: "foo", password: "bar", email: "foo@example.com" },
      expect: ["foo", "bar"],
    },
    {
      name: "auth alone decodes to username and password",
      value: { auth: "Zm9vOmJhcg==" },
      expect: ["foo", "bar"],
    },
    {
      name: "a non-empty auth overrides username and password",
      value: { username: "foo", password: "bar", auth: "cGluZzpwb25n" },
      expect: ["ping", "pong"],
    },
    {
      name: "an empty auth leaves username and password alone",
      value: { username: "u", password: "p", auth: "" },
      expect: ["u", "p"],
    },
    { name: "a poorly formatted auth fails the payload", value: { auth: "pants" }, expect: /auth field/ },
    {
      name: "an auth without a colon fails the payload",
      value: { auth: "cGFudHM=" },
      expect: /base64\(username:password\)/,
    },
    {
      name: "a non-string email fails the payload",
      value: { email: false },
      expect: /"email" is not a string/,
    },
    {
      name: "a non-string username fails the payload",
      value: { username: 5 },
      expect: /"username" is not a string/,
    },
    {
      name: "field names match case-insensitively",
      value: { Username: "a", PASSWORD: "b" },
      expect: ["a", "b"],
    },
    {
      name: "AUTH in capitals still overrides",
      value: { username: "x", AUTH: b64("a:b") },
      expect: ["a", "b"],
    },
    {
      name: "Unicode folding applies (long s)",
      value: { "pa\u017f\u017fword": "b", username: "a" },
      expect: ["a", "b"],
    },
    { name: "a null field is simply unset", value: { username: "a", password: null }, expect: ["a", ""] },
    { name: "a null entry is an empty credential", value: null, expect: ["", ""] },
    {
      name: "identitytoken, registrytoken and serveraddress are ignored",
      value: { identitytoken: "refresh", registrytoken: "bearer", serveraddress: "elsewhere.io" },
      expect: ["", ""],
    },
    {
      name: "unknown fields of any type are ignored",
      value: { username: "a", extra: [1, { x: 2 }] },
      expect: ["a", ""],
    },
    {
      name: "an entry that is a string fails the payload",
      value: "user:pass",
      expect: /is not a JSON object/,
    },
    { name: "an entry that is an array fails the payload", value: [], expect: /is not a JSON object/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const parsed = entry(c.value);
      if (c.expect instanceof RegExp) {
        const reason = reasonOf(parsed);
        assert.match(reason, c.expect);
        assert.match(reason, /^entry "r\.example\.com"/);
      } else {
        assert.deepEqual(entriesOf(parsed), [["r.example.com", ...c.expect]]);
      }
    });
  }
});

describe("parseDockerConfigJson (.dockerconfigjson, config.json)", () => {
  test("reads every entry under auths, keys as written", () => {
    const text = `{"auths": {"http://foo.example.com":{"username": "foo", "password": "bar", "email": "foo@example.com"}, "http://bar.example.com":{"username": "bar", "password": "baz", "email": "bar@example.com"}}}`;
    assert.deepEqual(entriesOf(parseDockerConfigJson(text)), [
      ["http://foo.example.com", "foo", "bar"],
      ["http://bar.example.com", "bar", "baz"],
    ]);
  });

  const shapes: Array<{ name: string; text: string; expect: Creds | RegExp }> = [
    {
      name: "truncated JSON is invalid",
      text: `{"auths": {"http://foo.example.com":{"username": "foo"`,
      expect: /not valid JSON/,
    },
    {
      name: "other top-level fields are ignored",
      text: `{"auths":{"a.io":{"username":"u"}},"credsStore":"desktop","psFormat":1}`,
      expect: [["a.io", "u", ""]],
    },
    { name: "a top-level null has no entries", text: "null", expect: [] },
    { name: "an object without auths has no entries", text: `{"a.io":{"username":"u"}}`, expect: [] },
    { name: "a top-level array is invalid", text: "[]", expect: /top level is not a JSON object/ },
    {
      name: "auths that is an array is invalid",
      text: `{"auths":[]}`,
      expect: /"auths" is not a JSON object/,
    },
    { name: "auths that is null has no entries", text: `{"auths":null}`, expect: [] },
    {
      name: "the auths field name is case-insensitive",
      text: `{"Auths":{"a.io":{"username":"u"}}}`,
      expect: [["a.io", "u", ""]],
    },
    {
      name: "HttpHeaders of strings is fine",
      text: `{"auths":{},"HttpHeaders":{"User-Agent":"x"}}`,
      expect: [],
    },
    {
      name: "HttpHeaders with a number is invalid",
      text: `{"auths":{},"HttpHeaders":{"X":1}}`,
      expect: /HttpHeaders/,
    },
    {
      name: "one broken auth invalidates the whole payload",
      text: JSON.stringify({ auths: { "a.io": { auth: b64("a:b") }, "b.io": { auth: "%%%" } } }),
      expect: /^entry "b\.io": unable to parse auth field/,
    },
    { name: "a byte order mark is refused like Go refuses it", text: "\uFEFF{}", expect: /byte order mark/ },
  ];
  for (const c of shapes) {
    test(c.name, () => {
      const parsed = parseDockerConfigJson(c.text);
      if (c.expect instanceof RegExp) assert.match(reasonOf(parsed), c.expect);
      else assert.deepEqual(entriesOf(parsed), c.expect);
    });
  }
});

describe("parseDockercfg (legacy .dockercfg)", () => {
  test("reads top-level keys as registries", () => {
    const text = `{"http://foo.example.com":{"username": "foo", "password": "bar", "email": "foo@example.com"}, "http://bar.example.com":{"username": "bar", "password": "baz", "email": "bar@example.com"}}`;
    assert.deepEqual(entriesOf(parseDockercfg(text)), [
      ["http://foo.example.com", "foo", "bar"],
      ["http://bar.example.com", "bar", "baz"],
    ]);
  });

  test("truncated JSON is invalid", () => {
    assert.match(reasonOf(parseDockercfg(`{"http://foo.example.com":{"username": "foo"`)), /not valid JSON/);
  });

  test("an auths wrapper is just a registry named auths", () => {
    const parsed = parseDockercfg(JSON.stringify({ auths: { "a.io": { auth: b64("u:p") } } }));
    assert.deepEqual(entriesOf(parsed), [["auths", "", ""]]);
  });
});

describe("parseDockerConfig tells config.json from legacy .dockercfg", () => {
  const cases: Array<{ name: string; text: string; format: string; creds: Creds; note?: RegExp }> = [
    {
      name: "a payload with auths is config.json",
      text: JSON.stringify({ auths: { "https://index.docker.io/v1/": { auth: b64("u:p") } } }),
      format: "config.json",
      creds: [["https://index.docker.io/v1/", "u", "p"]],
    },
    {
      name: "a payload of registry keys is a legacy .dockercfg",
      text: JSON.stringify({ "quay.io": { username: "robot", password: "t" } }),
      format: "dockercfg",
      creds: [["quay.io", "robot", "t"]],
    },
    {
      name: "a credsStore-only config.json has no entries and says why",
      text: JSON.stringify({ credsStore: "desktop" }),
      format: "config.json",
      creds: [],
      note: /credsStore\/credHelpers are ignored/,
    },
    {
      name: "credHelpers alone are not mistaken for a registry",
      text: JSON.stringify({ credHelpers: { "gcr.io": "gcloud" } }),
      format: "config.json",
      creds: [],
      note: /credential helpers/,
    },
    {
      name: "Docker Desktop's empty auths entries are kept as empty credentials",
      text: JSON.stringify({ auths: { "https://index.docker.io/v1/": {} }, credsStore: "desktop" }),
      format: "config.json",
      creds: [["https://index.docker.io/v1/", "", ""]],
      note: /without username\/password carry no credentials/,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const parsed = parseDockerConfig(c.text);
      if (!parsed.ok) assert.fail(parsed.reason);
      assert.equal(parsed.format, c.format);
      assert.deepEqual(
        parsed.entries.map((e) => [e.key, e.username, e.password]),
        c.creds,
      );
      if (c.note) assert.match(parsed.note ?? "", c.note);
      else assert.equal(parsed.note, undefined);
    });
  }
});

describe("parsePullSecret", () => {
  const json = JSON.stringify({ auths: { "quay.io": { auth: b64("robot:tok") } } });
  const legacy = JSON.stringify({ "quay.io": { username: "robot", password: "tok" } });
  const cases: Array<{
    name: string;
    secret: { type?: string; data?: Record<string, string> };
    expect: "ignored" | "invalid" | Creds;
    reason?: RegExp;
  }> = [
    {
      name: "a dockerconfigjson secret yields its auths",
      secret: { type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": b64(json) } },
      expect: [["quay.io", "robot", "tok"]],
    },
    {
      name: "a dockercfg secret yields its legacy entries",
      secret: { type: "kubernetes.io/dockercfg", data: { ".dockercfg": b64(legacy) } },
      expect: [["quay.io", "robot", "tok"]],
    },
    {
      name: "an Opaque secret is ignored even with a .dockerconfigjson key",
      secret: { type: "Opaque", data: { ".dockerconfigjson": b64(json) } },
      expect: "ignored",
      reason: /"Opaque" is not kubernetes.io\/dockerconfigjson/,
    },
    {
      name: "a secret without a type is ignored",
      secret: { data: { ".dockerconfigjson": b64(json) } },
      expect: "ignored",
    },
    {
      name: "the type is compared exactly",
      secret: { type: "kubernetes.io/DockerConfigJson", data: { ".dockerconfigjson": b64(json) } },
      expect: "ignored",
    },
    {
      name: "a dockerconfigjson secret holding only .dockercfg is ignored",
      secret: { type: "kubernetes.io/dockerconfigjson", data: { ".dockercfg": b64(legacy) } },
      expect: "ignored",
      reason: /no \.dockerconfigjson key/,
    },
    {
      name: "a secret without data is ignored",
      secret: { type: "kubernetes.io/dockercfg" },
      expect: "ignored",
    },
    {
      name: "an empty value is ignored",
      secret: { type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": "" } },
      expect: "ignored",
      reason: /is empty/,
    },
    {
      name: "a value that is not base64 is invalid",
      secret: { type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": "not base64!" } },
      expect: "invalid",
      reason: /not valid base64/,
    },
    {
      name: "a payload that is not JSON is invalid",
      secret: { type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": b64("{auths:") } },
      expect: "invalid",
      reason: /^\.dockerconfigjson: not valid JSON/,
    },
    {
      name: "a broken auth field makes the secret invalid",
      secret: {
        type: "kubernetes.io/dockerconfigjson",
        data: { ".dockerconfigjson": b64(JSON.stringify({ auths: { "quay.io": { auth: "cGFudHM=" } } })) },
      },
      expect: "invalid",
      reason: /entry "quay.io": unable to parse auth field, must be formatted as base64\(username:password\)/,
    },
    {
      name: "a legacy payload in a dockercfg secret with JSON types wrong is invalid",
      secret: { type: "kubernetes.io/dockercfg", data: { ".dockercfg": b64(`{"quay.io":"robot:tok"}`) } },
      expect: "invalid",
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const parsed = parsePullSecret(c.secret);
      if (Array.isArray(c.expect)) {
        assert.equal(parsed.kind, "entries");
        if (parsed.kind === "entries") {
          assert.deepEqual(
            parsed.entries.map((e) => [e.key, e.username, e.password]),
            c.expect,
          );
        }
      } else {
        assert.equal(parsed.kind, c.expect);
        if (c.reason) assert.match(parsed.reason, c.reason);
      }
    });
  }

  test("a legacy payload in a dockerconfigjson secret has no entries and a note saying so", () => {
    const parsed = parsePullSecret({
      type: "kubernetes.io/dockerconfigjson",
      data: { ".dockerconfigjson": b64(legacy) },
    });
    assert.equal(parsed.kind, "entries");
    if (parsed.kind === "entries") {
      assert.deepEqual(parsed.entries, []);
      assert.match(parsed.note ?? "", /no "auths" object/);
    }
  });

  test("a config.json payload in a dockercfg secret gets a note saying so", () => {
    const parsed = parsePullSecret({ type: "kubernetes.io/dockercfg", data: { ".dockercfg": b64(json) } });
    assert.equal(parsed.kind, "entries");
    if (parsed.kind === "entries") assert.match(parsed.note ?? "", /registry named "auths"/);
  });
});

describe("reasons never carry secret material", () => {
  const secret = "hunter2-TOPSECRET";
  const payloads = [
    `{"auths":{"a.io":{"username":"u","password":"${secret}"`,
    `{"auths":{"a.io":{"username":"u","password":${secret}}}}`,
    `{"auths":{"a.io":{"username":"u","password":"${secret}",}}}`,
    JSON.stringify({ auths: { "a.io": { auth: `${b64(`u:${secret}`)}!` } } }),
    JSON.stringify({ auths: { "a.io": { auth: b64(secret) } } }),
    JSON.stringify({ auths: { "a.io": { password: [secret] } } }),
  ];
  for (const [i, text] of payloads.entries()) {
    test(`broken payload ${i + 1} is invalid without quoting the password`, () => {
      for (const parsed of [parseDockerConfigJson(text), parseDockerConfig(text)]) {
        const reason = reasonOf(parsed);
        assert.ok(!reason.includes("hunter2"), reason);
        assert.ok(!reason.includes(b64(secret).slice(0, 8)), reason);
        assert.ok(!reason.includes("\n"), "one line");
      }
      const viaSecret = parsePullSecret({
        type: "kubernetes.io/dockerconfigjson",
        data: { ".dockerconfigjson": b64(text) },
      });
      assert.equal(viaSecret.kind, "invalid");
      if (viaSecret.kind === "invalid") assert.ok(!viaSecret.reason.includes("hunter2"));
    });
  }
});
