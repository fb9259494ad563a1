// `pullcheck check` and `pullcheck explain` as a user runs them (a child process), against
// real Distribution registries: exit codes, JSON fields, sources, credentials, input errors.
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeImage } from "../harness/images.ts";
import { startRegistry, type TestRegistry } from "../harness/registry.ts";
import { runPullcheck } from "../support/cli.ts";
import { dockerConfigJson } from "../support/reviews.ts";

const BOB = { username: "bob", password: "bob-Pw-77x" };

let plain: TestRegistry;
let basic: TestRegistry;
let dir: string;
let configFile: string;

async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "pullcheck-cli-"));
  plain = await startRegistry();
  basic = await startRegistry({ auth: "htpasswd", users: { bob: BOB.password } });
  await plain.push(await makeImage("oci-index"), "team/app:v1");
  await plain.push(await makeImage("docker-schema2", { seed: "d" }), "team/docker:v1");
  await basic.push(await makeImage("docker-list", { seed: "b" }), "team/private:v1");
  configFile = await file(
    "config.yaml",
    [
      "registries:",
      `  "${plain.host}": { insecure: true }`,
      `  "${basic.host}": { caFile: ${basic.caFile} }`,
      '  "127.0.0.1:9": { insecure: true }',
      "exclude: ['docker.io/library/*']",
    ].join("\n"),
  );
});

after(async () => {
  await plain?.stop();
  await basic?.stop();
});

describe("pullcheck check", () => {
  test("images as arguments: JSON with the PRODUCT.md fields, exit 1 on a definite failure", async () => {
    const run = await runPullcheck([
      "check",
      "--config",
      configFile,
      "--output",
      "json",
      `${plain.host}/team/app:v1`,
      `${plain.host}/team/app:nope`,
      `${plain.host}/team/ghost`,
    ]);
    assert.equal(run.code, 1, run.stderr);
    const [ok, tag, repo] = run.json().results;
    assert.equal(ok?.result, "ok");
    assert.equal(ok?.registry, plain.host);
    assert.equal(ok?.repository, "team/app");
    assert.equal(ok?.tag, "v1");
    assert.equal(ok?.digest, null);
    assert.match(String(ok?.resolvedDigest), /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(ok?.credential, { source: "anonymous", secret: null, match: null });
    assert.equal(tag?.result, "tag-not-found");
    assert.equal(repo?.result, "repository-not-found");
    assert.equal(repo?.tag, "latest");
    assert.equal(typeof tag?.message, "string");
  });

  test("multi-document YAML from stdin: every workload kind, with its source", async () => {
    const yaml = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      initContainers: [{ name: init, image: "${plain.host}/team/docker:v1" }]
      containers: [{ name: app, image: "${plain.host}/team/app:v1" }]
---
apiVersion: v1
kind: ConfigMap
metadata: { name: ignored }
data: { a: b }
---
apiVersion: batch/v1
kind: CronJob
metadata: { name: nightly }
spec:
  schedule: "@daily"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{ name: job, image: "${plain.host}/team/app:gone" }]
`;
    const run = await runPullcheck(["check", "--config", configFile, "-f", "-"], yaml);
    assert.equal(run.code, 1, run.stderr);
    const results = run.json().results;
    assert.deepEqual(
      results.map((r) => [r.source, r.result]),
      [
        ["stdin: Deployment/web container app", "ok"],
        ["stdin: Deployment/web initContainer init", "ok"],
        ["stdin: CronJob/nightly container job", "tag-not-found"],
      ],
    );
  });

  test("a private registry: the docker config's entry is used; without it credentials-missing; wrong password rejected", async () => {
    const image = `${basic.host}/team/private:v1`;
    const good = await file("good.json", dockerConfigJson({ [basic.host]: BOB }));
    const wrong = await file(
      "wrong.json",
      dockerConfigJson({ [basic.host]: { username: "bob", password: "nope" } }),
    );
    const withGood = await runPullcheck(["check", "--config", configFile, "--docker-config", good, image]);
    assert.equal(withGood.code, 0, withGood.stdout);
    assert.deepEqual(withGood.json().results[0]?.credential, {
      source: "docker-config",
      secret: good,
      match: basic.host,
    });
    const without = await runPullcheck(["check", "--config", configFile, image]);
    assert.equal(without.json().results[0]?.result, "credentials-missing");
    assert.equal(without.code, 1);
    const rejected = await runPullcheck(["check", "--config", configFile, "--docker-config", wrong, image]);
    assert.equal(rejected.json().results[0]?.result, "credentials-rejected");
    assert.equal(rejected.stdout.includes("nope"), false);
  });

  test("a registry served by node credentials: an anonymous refusal is skipped, not failed", async () => {
    const config = await file(
      "node-credentials.yaml",
      `registries: { "${basic.host}": { caFile: ${basic.caFile}, nodeCredentials: true } }\n`,
    );
    const run = await runPullcheck(["check", "--config", config, `${basic.host}/team/private:v1`]);
    assert.equal(run.code, 0, run.stdout);
    const [result] = run.json().results;
    assert.equal(result?.result, "skipped");
    assert.match(String(result?.message), /node credentials/);
  });

  test("--docker-config also takes the Secret manifest itself, as kubectl prints it", async () => {
    const payload = Buffer.from(dockerConfigJson({ [basic.host]: BOB })).toString("base64");
    const secret = await file(
      "regcred.yaml",
      [
        "apiVersion: v1",
        "kind: Secret",
        "metadata: { name: regcred, namespace: team }",
        "type: kubernetes.io/dockerconfigjson",
        `data: { .dockerconfigjson: ${payload} }`,
      ].join("\n"),
    );
    const run = await runPullcheck([
      "check",
      "--config",
      configFile,
      "--docker-config",
      secret,
      `${basic.host}/team/private:v1`,
    ]);
    assert.equal(run.code, 0, run.stdout);
    assert.equal(run.json().results[0]?.result, "ok");
    const opaque = await file(
      "opaque.yaml",
      "apiVersion: v1\nkind: Secret\ntype: Opaque\ndata: { a: Yg== }\n",
    );
    const refused = await runPullcheck(["check", "--docker-config", opaque, `${basic.host}/team/private:v1`]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /opaque\.yaml: /);
  });

  test("a docker config that does not parse makes every image pull-secret-invalid", async () => {
    const broken = await file("broken.json", '{"auths": {"x": {"auth": "!!!notbase64"}}}');
    const run = await runPullcheck([
      "check",
      "--config",
      configFile,
      "--docker-config",
      broken,
      `${plain.host}/team/app:v1`,
    ]);
    assert.equal(run.code, 1);
    assert.equal(run.json().results[0]?.result, "pull-secret-invalid");
  });

  test("only indeterminate results exit 3; excluded and skipped images exit 0", async () => {
    const down = await runPullcheck(["check", "--config", configFile, "127.0.0.1:9/team/app:v1"]);
    assert.equal(down.code, 3);
    assert.equal(down.json().results[0]?.result, "registry-unreachable");
    const excluded = await runPullcheck(["check", "--config", configFile, "nginx"]);
    assert.equal(excluded.code, 0);
    assert.equal(excluded.json().results[0]?.result, "skipped");
  });

  test("--platform: an index without the platform is platform-not-found; a matching one is ok", async () => {
    const image = `${plain.host}/team/app:v1`;
    const missing = await runPullcheck(["check", "--config", configFile, "--platform", "linux/s390x", image]);
    assert.equal(missing.json().results[0]?.result, "platform-not-found");
    const present = await runPullcheck([
      "check",
      "--config",
      configFile,
      "--platform",
      "linux/arm64/v8",
      image,
    ]);
    assert.equal(present.json().results[0]?.result, "ok");
  });

  test("an invalid reference is a definite failure with the kubelet's reason", async () => {
    const run = await runPullcheck(["check", "Foo/Bar:x"]);
    assert.equal(run.code, 1);
    const [result] = run.json().results;
    assert.equal(result?.result, "invalid-reference");
    assert.match(String(result?.message), /must be lowercase/);
  });

  test("table output names result, image and message", async () => {
    const run = await runPullcheck([
      "check",
      "--config",
      configFile,
      "--output",
      "table",
      `${plain.host}/team/app:nope`,
    ]);
    assert.match(run.stdout, /^RESULT\s+IMAGE\s+SOURCE\s+MESSAGE/);
    assert.match(run.stdout, /tag-not-found/);
  });

  const inputErrors: Array<[string, string[], RegExp]> = [
    [
      "an unreadable file",
      ["check", "-f", "/nonexistent.yaml"],
      /nonexistent\.yaml: cannot read manifest file \(ENOENT\)/,
    ],
    ["a bad flag", ["check", "--frobnicate"], /unknown option/],
    ["a bad --platform", ["check", "--platform", "linux", "x"], /platform/],
    ["a bad --output", ["check", "-o", "xml", "x"], /xml/],
    ["no images at all", ["check"], /nothing to check/],
  ];
  for (const [name, args, reason] of inputErrors) {
    test(`${name} exits 2 with a one-line reason`, async () => {
      const run = await runPullcheck(args);
      assert.equal(run.code, 2);
      assert.match(run.stderr, reason);
      assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
      assert.equal(run.stdout, "");
    });
  }

  test("bad YAML and an unknown config key exit 2 naming the file and key", async () => {
    const badYaml = await file("bad.yaml", "kind: Pod\nspec: [\n");
    const yamlRun = await runPullcheck(["check", "-f", badYaml]);
    assert.equal(yamlRun.code, 2);
    assert.match(yamlRun.stderr, /bad\.yaml(:\d+)?: not valid YAML/);
    const badConfig = await file("bad-config.yaml", "mode: enforce\ncolour: blue\ntimeoutMs: fast\n");
    const configRun = await runPullcheck(["check", "--config", badConfig, "nginx"]);
    assert.equal(configRun.code, 2);
    assert.match(configRun.stderr, /colour: unknown key/);
    assert.match(configRun.stderr, /timeoutMs: /);
  });
});

describe("pullcheck explain", () => {
  test("shows the normalized reference and the credential the kubelet would use, without network", async () => {
    const config = await file(
      "explain.json",
      dockerConfigJson({
        "https://index.docker.io/v1/": { username: "hub", password: "hub-pw" },
        "quay.io/team": { username: "q", password: "q-pw" },
        "quay.io": { username: "q2", password: "q2-pw" },
      }),
    );
    const hub = await runPullcheck(["explain", "--docker-config", config, "--output", "json", "busybox"]);
    assert.equal(hub.code, 0);
    const [r] = hub.json().results;
    assert.equal(r?.registry, "docker.io");
    assert.equal(r?.repository, "library/busybox");
    assert.equal(r?.tag, "latest");
    assert.equal(r?.result, undefined);
    assert.deepEqual(r?.credential, {
      source: "docker-config",
      secret: config,
      match: "https://index.docker.io/v1/",
    });
    const quay = await runPullcheck([
      "explain",
      "--docker-config",
      config,
      "--output",
      "json",
      `quay.io/team/app@sha256:${"a".repeat(64)}`,
    ]);
    const [q] = quay.json().results;
    assert.equal(q?.tag, null);
    assert.equal((q?.credential as { match: string } | undefined)?.match, "quay.io/team");
    assert.equal(JSON.stringify(quay.json()).includes("q-pw"), false);
  });
});
