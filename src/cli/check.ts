import type { Engine } from "../check/engine.ts";
import {
  type CheckRequest,
  type CheckResult,
  type CredentialContext,
  NO_CREDENTIALS,
} from "../check/types.ts";
import { cachedReader, type KubeReader, resolvePullSecrets } from "../credentials/kube.ts";
import { readDockerConfigs } from "./docker-configs.ts";
import { type CliIO, InputError, parseYamlDocuments, readInput } from "./inputs.ts";
import { checkTable, exitCodeFor, renderJson } from "./output.ts";
import { imagesInObject, type WorkloadImages } from "./workloads.ts";

export interface CheckOptions {
  readonly file: readonly string[];
  readonly dockerConfig: readonly string[];
  readonly output: "table" | "json" | undefined;
  readonly kubeconfig?: string;
  readonly namespace?: string;
  readonly serviceAccount?: string;
}

export interface CheckDeps {
  readonly engine: Engine;
  /** Only called when --kubeconfig is given. */
  readonly kubeReader?: (kubeconfigPath: string) => Promise<KubeReader>;
}

/** `pullcheck check`: returns the exit code. Input problems throw InputError (exit 2). */
export async function runCheck(
  images: readonly string[],
  options: CheckOptions,
  deps: CheckDeps,
  io: CliIO,
): Promise<number> {
  const groups: Array<{ credentials: CredentialContext; requests: CheckRequest[] }> = [];
  const fileCredentials = await readDockerConfigs(io, options.dockerConfig);
  const cluster = options.kubeconfig
    ? { reader: await (deps.kubeReader ?? kubeconfigReader)(options.kubeconfig) }
    : null;
  const defaultNamespace = options.namespace ?? "default";

  if (images.length > 0) {
    const credentials = cluster
      ? merge(
          fileCredentials,
          await resolvePullSecrets(cluster.reader, defaultNamespace, {
            imagePullSecrets: [],
            serviceAccountName: options.serviceAccount ?? "default",
            applyServiceAccount: true,
          }),
        )
      : fileCredentials;
    groups.push({ credentials, requests: images.map((image) => ({ image, source: "argument" })) });
  }

  for (const path of options.file) {
    const text = await readInput(io, path, "manifest file");
    const label = path === "-" ? "stdin" : path;
    for (const object of parseYamlDocuments(text, path)) {
      for (const workload of imagesInObject(object, label)) {
        const credentials = cluster
          ? merge(
              fileCredentials,
              await clusterCredentials(cluster.reader, workload, options, defaultNamespace),
            )
          : fileCredentials;
        groups.push({ credentials, requests: requestsOf(workload, label) });
      }
    }
  }
  if (groups.length === 0)
    throw new InputError(
      "nothing to check: give images as arguments or manifests with -f FILE (- for stdin)",
    );

  // No overall deadline for the CLI: every registry lookup is bounded by timeoutMs on its own.
  const never = new AbortController().signal;
  const perGroup = await Promise.all(
    groups.map((group) => deps.engine.check(group.requests, group.credentials, never)),
  );
  const results: CheckResult[] = perGroup.flat();

  const format = options.output ?? (io.stdoutIsTTY ? "table" : "json");
  io.stdout(format === "json" ? renderJson(results) : checkTable(results));
  return exitCodeFor(results);
}

function requestsOf(workload: WorkloadImages, file: string): CheckRequest[] {
  return workload.uses.map((use) => ({
    image: use.image,
    source: `${file}: ${workload.kind}/${workload.name} ${use.role === "imageVolume" ? "volume" : use.role} ${use.container}`,
  }));
}

async function clusterCredentials(
  reader: KubeReader,
  workload: WorkloadImages,
  options: CheckOptions,
  defaultNamespace: string,
): Promise<CredentialContext> {
  return resolvePullSecrets(reader, workload.namespace ?? defaultNamespace, {
    imagePullSecrets: workload.imagePullSecrets,
    serviceAccountName: workload.serviceAccountName ?? options.serviceAccount ?? "default",
    // Files have not been through the ServiceAccount admission plugin yet.
    applyServiceAccount: true,
  });
}

function merge(a: CredentialContext, b: CredentialContext): CredentialContext {
  if (a === NO_CREDENTIALS) return b;
  return {
    sources: [...a.sources, ...b.sources],
    invalid: [...a.invalid, ...b.invalid],
    missing: [...a.missing, ...b.missing],
  };
}

async function kubeconfigReader(path: string): Promise<KubeReader> {
  const { apiServerReader, loadKubeConfig } = await import("../credentials/kube-api.ts");
  try {
    return cachedReader(apiServerReader(loadKubeConfig(path)), 60_000);
  } catch (error) {
    throw new InputError(`${path}: cannot load kubeconfig (${(error as Error).message.split("\n")[0]})`);
  }
}
