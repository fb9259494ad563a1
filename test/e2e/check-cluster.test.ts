// `pullcheck check --kubeconfig`: the CLI resolving pull secrets from a real API server the
// way the kubelet would (pod secrets, else the ServiceAccount's, namespace-local), against a
// real htpasswd registry, as a CI pipeline would run it before `kubectl apply`.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeImage } from "../harness/images.ts";
import { type Cluster, startCluster } from "../harness/kube.ts";
import { startRegistry, type TestRegistry } from "../harness/registry.ts";
import { harnessTempDir } from "../harness/temp.ts";
import { runPullcheck } from "../support/cli.ts";
import { deployment } from "../support/reviews.ts";

const ALICE = { username: "alice", password: "alice-Cluster-71" };

let cluster: Cluster;
let registry: TestRegistry;
let dir: string;
let config: string;

async function kubectl(args: string[]): Promise<void> {
  const result = await cluster.kubectl(args);
  assert.equal(result.code, 0, `kubectl ${args.join(" ")}: ${result.stderr}`);
}

before(async () => {
  dir = harnessTempDir("check-cluster");
  [cluster, registry] = await Promise.all([
    startCluster(),
    startRegistry({ auth: "htpasswd", users: { alice: ALICE.password } }),
  ]);
  await registry.push(await makeImage("oci-manifest", { seed: "cluster" }), "team/private:v1");
  config = join(dir, "config.yaml");
  await writeFile(config, `registries: { "${registry.host}": { caFile: ${registry.caFile} } }\n`);
  for (const ns of ["team", "other"]) {
    await kubectl(["create", "namespace", ns]);
  }
  // The secret exists only in "other"; "team" has a ServiceAccount that names it.
  await kubectl([
    "-n",
    "other",
    "create",
    "secret",
    "docker-registry",
    "regcred",
    `--docker-server=${registry.host}`,
    `--docker-username=${ALICE.username}`,
    `--docker-password=${ALICE.password}`,
  ]);
  await kubectl(["-n", "other", "create", "serviceaccount", "builder"]);
  await kubectl([
    "-n",
    "other",
    "patch",
    "serviceaccount",
    "builder",
    "-p",
    '{"imagePullSecrets":[{"name":"regcred"}]}',
  ]);
  await kubectl(["-n", "team", "create", "serviceaccount", "builder"]);
  await kubectl([
    "-n",
    "team",
    "patch",
    "serviceaccount",
    "builder",
    "-p",
    '{"imagePullSecrets":[{"name":"regcred"}]}',
  ]);
});

after(async () => {
  await Promise.allSettled([registry?.stop(), cluster?.stop()]);
});

describe("pullcheck check --kubeconfig", () => {
  test("a workload's ServiceAccount secret is found and used, and named in the result", async () => {
    const manifest = JSON.stringify({
      ...deployment("web", { images: [`${registry.host}/team/private:v1`], serviceAccountName: "builder" }),
      metadata: { name: "web", namespace: "other" },
    });
    const run = await runPullcheck(
      ["check", "--config", config, "--kubeconfig", cluster.kubeconfig, "-o", "json", "-f", "-"],
      manifest,
    );
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const [result] = JSON.parse(run.stdout).results;
    assert.equal(result.result, "ok");
    assert.deepEqual(result.credential, {
      source: "service-account-secret",
      secret: "other/regcred",
      match: registry.host,
    });
  });

  test("never a secret from another namespace: the same ServiceAccount setup in 'team' lacks the secret", async () => {
    const run = await runPullcheck([
      "check",
      "--config",
      config,
      "--kubeconfig",
      cluster.kubeconfig,
      "--namespace",
      "team",
      "--service-account",
      "builder",
      "-o",
      "json",
      `${registry.host}/team/private:v1`,
    ]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const [result] = JSON.parse(run.stdout).results;
    assert.equal(result.result, "credentials-missing");
    assert.match(result.message, /team\/regcred not found/);
  });

  test("a pod-level imagePullSecrets entry wins over the ServiceAccount's", async () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", namespace: "other" },
      spec: {
        serviceAccountName: "default",
        imagePullSecrets: [{ name: "regcred" }],
        containers: [{ name: "app", image: `${registry.host}/team/private:v1` }],
      },
    };
    const run = await runPullcheck(
      ["check", "--config", config, "--kubeconfig", cluster.kubeconfig, "-o", "json", "-f", "-"],
      JSON.stringify(pod),
    );
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(JSON.parse(run.stdout).results[0].credential.source, "pod-secret");
  });

  test("an unreadable kubeconfig is an input error with a one-line reason", async () => {
    const run = await runPullcheck(["check", "--kubeconfig", join(dir, "missing"), "nginx"]);
    assert.equal(run.code, 2);
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
    assert.match(run.stderr, /cannot load kubeconfig/);
  });
});
