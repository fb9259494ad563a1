import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { type Cluster, runningProcessesInGroup, startCluster } from "../harness/kube.ts";

// Smoke test of the harness itself, through the real kubectl: a cluster that enforces RBAC,
// mints ServiceAccount tokens, and leaves no process behind.

describe("a kube-apiserver + etcd cluster on loopback", () => {
  let cluster: Cluster;

  before(async () => {
    cluster = await startCluster();
  });

  after(async () => {
    await cluster?.stop();
  });

  test("serves TLS that kubectl verifies against the cluster CA", async () => {
    assert.match(cluster.server, /^https:\/\/127\.0\.0\.1:\d+$/);
    const result = await cluster.kubectl(["get", "--raw=/readyz"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), "ok");
  });

  test("the admin creates a namespace, a ServiceAccount and a docker-registry secret", async () => {
    const steps: string[][] = [
      ["create", "namespace", "smoke"],
      ["-n", "smoke", "create", "serviceaccount", "puller"],
      [
        "-n",
        "smoke",
        "create",
        "secret",
        "docker-registry",
        "regcred",
        "--docker-server=127.0.0.1:5000",
        "--docker-username=alice",
        "--docker-password=s3cret",
      ],
    ];
    for (const args of steps) {
      const result = await cluster.kubectl(args);
      assert.equal(result.code, 0, `kubectl ${args.join(" ")}: ${result.stderr}`);
    }
    const secret = await cluster.kubectl([
      "-n",
      "smoke",
      "get",
      "secret",
      "regcred",
      "-o",
      "jsonpath={.type}",
    ]);
    assert.equal(secret.stdout, "kubernetes.io/dockerconfigjson");
  });

  test("RBAC applies to the ServiceAccount's own token", async () => {
    const saKubeconfig = await cluster.kubeconfigFor("smoke", "puller");
    const whoami = await cluster.kubectl(["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"], {
      kubeconfig: saKubeconfig,
    });
    assert.equal(whoami.code, 0, whoami.stderr);
    assert.equal(whoami.stdout, "system:serviceaccount:smoke:puller");

    const cases = [
      {
        name: "cannot list secrets without a binding",
        args: ["list", "secrets", "-n", "smoke"],
        allowed: "no",
      },
      {
        name: "cannot read a secret without a binding",
        args: ["get", "secret/regcred", "-n", "smoke"],
        allowed: "no",
      },
      // system:basic-user lets every authenticated user review its own permissions.
      {
        name: "can create selfsubjectaccessreviews",
        args: ["create", "selfsubjectaccessreviews"],
        allowed: "yes",
      },
    ];
    for (const { name, args, allowed } of cases) {
      // `auth can-i` exits 1 for "no", so the printed answer is what we compare.
      const result = await cluster.kubectl(["auth", "can-i", ...args], { kubeconfig: saKubeconfig });
      assert.equal(result.stdout.trim(), allowed, `${name}: ${result.stderr}`);
    }

    const read = await cluster.kubectl(["-n", "smoke", "get", "secret", "regcred"], {
      kubeconfig: saKubeconfig,
    });
    assert.notEqual(read.code, 0);
    assert.match(read.stderr, /forbidden/i);
  });

  test("a binding grants the ServiceAccount exactly what it names", async () => {
    const grant = await cluster.kubectl([
      "-n",
      "smoke",
      "create",
      "role",
      "secret-reader",
      "--verb=get",
      "--resource=secrets",
      "--resource-name=regcred",
    ]);
    assert.equal(grant.code, 0, grant.stderr);
    const bind = await cluster.kubectl([
      "-n",
      "smoke",
      "create",
      "rolebinding",
      "puller-reads-regcred",
      "--role=secret-reader",
      "--serviceaccount=smoke:puller",
    ]);
    assert.equal(bind.code, 0, bind.stderr);

    const saKubeconfig = await cluster.kubeconfigFor("smoke", "puller");
    const cases = [
      { name: "can get the named secret", args: ["get", "secret/regcred", "-n", "smoke"], allowed: "yes" },
      { name: "still cannot list secrets", args: ["list", "secrets", "-n", "smoke"], allowed: "no" },
      {
        name: "cannot get the secret in another namespace",
        args: ["get", "secret/regcred", "-n", "default"],
        allowed: "no",
      },
    ];
    for (const { name, args, allowed } of cases) {
      const result = await cluster.kubectl(["auth", "can-i", ...args], { kubeconfig: saKubeconfig });
      assert.equal(result.stdout.trim(), allowed, `${name}: ${result.stderr}`);
    }
  });

  test("stop() kills etcd and the apiserver and removes the cluster directory", async () => {
    const { pids, dir } = cluster;
    assert.ok(runningProcessesInGroup(pids.etcd).includes(pids.etcd), "etcd runs before stop()");
    assert.ok(
      runningProcessesInGroup(pids.apiserver).includes(pids.apiserver),
      "the apiserver runs before stop()",
    );
    await cluster.stop();
    assert.deepEqual(runningProcessesInGroup(pids.etcd), [], "nothing of etcd's process group runs");
    assert.deepEqual(
      runningProcessesInGroup(pids.apiserver),
      [],
      "nothing of the apiserver's process group runs",
    );
    if (process.env.KEEP_CLUSTER !== "1") assert.equal(existsSync(dir), false);
  });
});
