// No container engine runs here, so the Dockerfile is replayed instead of built: every
// FROM/WORKDIR/COPY/RUN/USER/ENTRYPOINT/CMD line is executed as written, each stage in a
// directory of its own standing in for its root filesystem, with this machine's Node 24 as
// the base image's. Then the final stage's ENTRYPOINT + CMD serve a real admission.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Agent, request } from "undici";
import { dummyKubeconfig, type ServeProcess, startServe } from "../harness/serve.ts";
import { harnessTempDir } from "../harness/temp.ts";
import { pod, review } from "../support/reviews.ts";

const exec = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface Instruction {
  readonly op: string;
  readonly args: string;
}

/** The Dockerfile's instructions, with line continuations joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const joined = text.replace(/\\\n/g, " ");
  return joined
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const space = line.indexOf(" ");
      return { op: line.slice(0, space).toUpperCase(), args: line.slice(space + 1).trim() };
    });
}

/** `NAME=value` split at the first `=` only: values may contain `=` themselves. */
function splitAssignment(text: string): [string, string] {
  const equals = text.indexOf("=");
  return equals < 0 ? [text, ""] : [text.slice(0, equals), text.slice(equals + 1)];
}

interface Stage {
  readonly name: string;
  readonly root: string;
  workdir: string;
  user: string | null;
  entrypoint: string[];
  cmd: string[];
  readonly env: Record<string, string>;
}

/** Replays the Dockerfile; returns the final stage. */
async function replay(dockerfile: string, dir: string): Promise<Stage> {
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  let stage: Stage | undefined;
  const inRoot = (s: Stage, path: string) =>
    join(s.root, path.startsWith("/") ? path : join(s.workdir, path));
  for (const { op, args: rest } of parseDockerfile(dockerfile)) {
    const expanded = rest.replace(/\$\{(\w+)\}/g, (_, name: string) => args[name] ?? "");
    switch (op) {
      case "ARG": {
        const [name, value] = splitAssignment(expanded);
        if (name) args[name] = value;
        break;
      }
      case "FROM": {
        const [image, as, name] = expanded.split(/\s+/);
        assert.match(
          image ?? "",
          /^node:24[-.\w]*$/,
          "the base image is Node 24, as the machine's Node here",
        );
        const root = join(dir, `stage-${stages.length}`);
        await mkdir(root, { recursive: true });
        stage = {
          name: as?.toUpperCase() === "AS" ? (name ?? "") : "",
          root,
          workdir: "/",
          user: null,
          entrypoint: [],
          cmd: [],
          env: {},
        };
        stages.push(stage);
        break;
      }
      case "WORKDIR":
        assert.ok(stage);
        stage.workdir = expanded;
        await mkdir(inRoot(stage, "."), { recursive: true });
        break;
      case "ENV": {
        assert.ok(stage);
        const [name, value] = splitAssignment(expanded);
        if (name) stage.env[name] = value;
        break;
      }
      case "COPY": {
        assert.ok(stage);
        const words = expanded.split(/\s+/);
        const from = words.find((w) => w.startsWith("--from="))?.slice("--from=".length);
        const paths = words.filter((w) => !w.startsWith("--"));
        const destination = paths.pop() as string;
        const source = from ? stages.find((s) => s.name === from) : undefined;
        if (from) assert.ok(source, `COPY --from=${from}: no such stage`);
        for (const path of paths) {
          const src = source ? join(source.root, path) : join(REPO_ROOT, path);
          const isDir = (await stat(src)).isDirectory();
          const target =
            destination.endsWith("/") && !isDir
              ? join(inRoot(stage, destination), path.split("/").pop() as string)
              : inRoot(stage, destination);
          await cp(src, target, { recursive: true });
        }
        break;
      }
      case "RUN": {
        assert.ok(stage);
        const command = expanded.replace(/--mount=\S+\s*/g, "");
        await exec("sh", ["-c", command], {
          cwd: inRoot(stage, "."),
          env: { ...process.env, ...stage.env },
          timeout: 300_000,
          maxBuffer: 16 * 1024 * 1024,
        });
        break;
      }
      case "USER":
        assert.ok(stage);
        stage.user = expanded;
        break;
      case "ENTRYPOINT":
        assert.ok(stage);
        stage.entrypoint = JSON.parse(expanded) as string[];
        break;
      case "CMD":
        assert.ok(stage);
        stage.cmd = JSON.parse(expanded) as string[];
        break;
      case "EXPOSE":
        break;
      default:
        assert.fail(`the replay does not know the Dockerfile instruction ${op}`);
    }
  }
  assert.ok(stage, "the Dockerfile has a stage");
  return stage;
}

describe("the Dockerfile, replayed step by step", () => {
  let image: Stage;
  let serve: ServeProcess;
  let caPem: string;

  before(async () => {
    const dir = harnessTempDir("dockerfile");
    image = await replay(await readFile(join(REPO_ROOT, "Dockerfile"), "utf8"), dir);
    const certs = join(dir, "certs");
    const [node, main] = image.entrypoint as [string, string];
    assert.equal(node, "node");
    const mainInImage = join(image.root, main);
    await exec(process.execPath, [
      mainInImage,
      "certs",
      "--service",
      "p",
      "--namespace",
      "n",
      "--out",
      certs,
      "--ip",
      "127.0.0.1",
    ]);
    caPem = await readFile(join(certs, "ca.crt"), "utf8");
    const config = join(dir, "config.yaml");
    await writeFile(
      config,
      `listen: { host: 127.0.0.1 }\ntls: { certFile: ${join(certs, "tls.crt")}, keyFile: ${join(certs, "tls.key")} }\n`,
    );
    assert.deepEqual(image.cmd, ["serve"]);
    serve = await startServe(
      ["--config", config, "--kubeconfig", await dummyKubeconfig(dir), "--port", "0"],
      {
        command: [process.execPath, mainInImage],
      },
    );
  });

  after(async () => {
    await serve?.stop();
  });

  test("the image holds only the package, its build and production dependencies, as a non-root user", async () => {
    const app = join(image.root, image.workdir);
    assert.deepEqual((await readdir(app)).sort(), ["dist", "node_modules", "package.json"]);
    const modules = await readdir(join(app, "node_modules"));
    // (npm leaves an emptied scope folder behind, so look for the packages themselves.)
    for (const dev of ["typescript", "@biomejs/biome", "autocannon", "@types/node-forge"]) {
      const present = await stat(join(app, "node_modules", dev)).then(
        () => true,
        () => false,
      );
      assert.equal(present, false, `devDependency ${dev} in the image`);
    }
    assert.ok(modules.includes("fastify"));
    assert.match(image.user ?? "", /^[1-9]\d*:[1-9]\d*$/, "USER is a numeric non-root uid:gid");
    assert.equal(image.env.NODE_ENV, "production");
    assert.match(image.env.NODE_OPTIONS ?? "", /--max-semi-space-size=\d+/);
  });

  test("ENTRYPOINT + CMD serve an admission: an invalid reference is denied", async () => {
    const agent = new Agent({ connect: { ca: caPem } });
    const body = review("Pod", pod("p", { images: ["UPPER/Case:x"] }));
    const response = await request(`${serve.url}/validate`, {
      method: "POST",
      dispatcher: agent,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const json = (await response.body.json()) as {
      response: { uid: string; allowed: boolean; status: { message: string } };
    };
    await agent.close();
    assert.equal(response.statusCode, 200);
    assert.equal(json.response.uid, body.request.uid);
    assert.equal(json.response.allowed, false);
    assert.match(json.response.status.message, /invalid-reference/);
  });
});
