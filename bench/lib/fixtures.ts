/**
 * Shared set-up for the benchmarks: real registries from the test harness, images pushed to
 * them, and the files the CLI and the webhook read (config, docker config, certificates).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { makeImage } from "../../test/harness/images.ts";
import { FULL_MANIFEST_ACCEPT } from "../../test/harness/media-types.ts";
import { startRegistry, type TestRegistry } from "../../test/harness/registry.ts";
import { harnessTempDir } from "../../test/harness/temp.ts";

const execFileAsync = promisify(execFile);

/** The built CLI: benchmarks measure what users run, not the sources under type stripping. */
export const DIST_MAIN = new URL("../../dist/main.js", import.meta.url).pathname;

export function assertBuilt(): void {
  if (!existsSync(DIST_MAIN)) throw new Error(`${DIST_MAIN} is missing: run \`npm run build\` first`);
}

export const BENCH_USER = { username: "bench", password: "bench-Secret-4c1" } as const;

/** A scratch directory removed when the process exits. */
export function scratchDir(prefix: string): string {
  return harnessTempDir(`bench-${prefix}`);
}

/** Runs `work` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** "bench/app-07" for i = 7 of 50. */
export function repoName(prefix: string, index: number, count: number): string {
  return `${prefix}-${String(index).padStart(String(count - 1).length, "0")}`;
}

/**
 * A token-auth registry where BENCH_USER may pull `count` repositories `${prefix}-NN`, each
 * holding one small image tagged v1. Returns the image references (host/repo:v1).
 */
export async function tokenRegistryWithRepos(
  count: number,
  prefix: string,
): Promise<{ registry: TestRegistry; images: string[]; repositories: string[] }> {
  const repositories = Array.from({ length: count }, (_, i) => repoName(prefix, i, count));
  const registry = await startRegistry({
    auth: "token",
    users: { [BENCH_USER.username]: BENCH_USER.password },
    pullGrants: { [BENCH_USER.username]: repositories },
  });
  try {
    const image = await makeImage("oci-manifest", { seed: "bench" });
    await mapLimited(repositories, 4, (repository) => registry.push(image, `${repository}:v1`));
  } catch (error) {
    await registry.stop();
    throw error;
  }
  return { registry, images: repositories.map((r) => `${registry.host}/${r}:v1`), repositories };
}

/**
 * Tags one pushed manifest under many more tags on a plain-HTTP registry: a single manifest
 * PUT per tag (the blobs are already there), far faster than a full push per tag.
 */
export async function fanOutTags(
  registryUrl: string,
  repository: string,
  sourceTag: string,
  tags: readonly string[],
  concurrency = 8,
): Promise<void> {
  const source = await fetch(`${registryUrl}/v2/${repository}/manifests/${sourceTag}`, {
    headers: { accept: FULL_MANIFEST_ACCEPT },
  });
  if (source.status !== 200) throw new Error(`GET ${repository}:${sourceTag}: HTTP ${source.status}`);
  const mediaType = source.headers.get("content-type") ?? "";
  const bytes = Buffer.from(await source.arrayBuffer());
  await mapLimited(tags, concurrency, async (tag) => {
    const put = await fetch(`${registryUrl}/v2/${repository}/manifests/${tag}`, {
      method: "PUT",
      headers: { "content-type": mediaType },
      body: bytes,
    });
    await put.arrayBuffer();
    if (put.status !== 201) throw new Error(`PUT ${repository}:${tag}: HTTP ${put.status}`);
  });
}

/** A docker config.json with one `auths` entry. */
export async function writeDockerConfig(
  dir: string,
  host: string,
  user: { username: string; password: string },
): Promise<string> {
  const path = join(dir, "docker-config.json");
  const auth = Buffer.from(`${user.username}:${user.password}`).toString("base64");
  await writeFile(path, JSON.stringify({ auths: { [host]: { auth } } }));
  return path;
}

/** A pullcheck config file (JSON is YAML). */
export async function writeConfig(dir: string, config: Record<string, unknown>, name = "config.yaml") {
  const path = join(dir, name);
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`);
  return path;
}

export interface WebhookCertFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

/** The real `pullcheck certs`, with IP SAN 127.0.0.1. */
export async function issueCerts(dir: string): Promise<WebhookCertFiles> {
  await execFileAsync(
    process.execPath,
    [DIST_MAIN, "certs", "--service", "pullcheck", "--namespace", "bench", "--out", dir, "--ip", "127.0.0.1"],
    { timeout: 60_000 },
  );
  return { certFile: join(dir, "tls.crt"), keyFile: join(dir, "tls.key"), caFile: join(dir, "ca.crt") };
}
