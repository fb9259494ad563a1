import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import type { KubeReader } from "./kube.ts";

// Kept apart from kube.ts: @kubernetes/client-node costs ~0.4 s to load, which only
// `serve` and `check --kubeconfig` should pay.

/** KubeReader over the API server (in-cluster config or a kubeconfig). */
export function apiServerReader(kubeConfig: KubeConfig): KubeReader {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  return {
    async secret(namespace, name) {
      try {
        const secret = await api.readNamespacedSecret({ name, namespace });
        return { type: secret.type, data: secret.data ?? {} };
      } catch (error) {
        if (isNotFound(error)) return null;
        throw error;
      }
    },
    async serviceAccount(namespace, name) {
      try {
        const account = await api.readNamespacedServiceAccount({ name, namespace });
        return { imagePullSecrets: (account.imagePullSecrets ?? []).map((ref) => ref.name ?? "") };
      } catch (error) {
        if (isNotFound(error)) return null;
        throw error;
      }
    },
  };
}

function isNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === 404;
}

/** Loads a kubeconfig file, the in-cluster config, or the default kubeconfig; throws with a reason. */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (path) kubeConfig.loadFromFile(path);
  else if (process.env.KUBERNETES_SERVICE_HOST) kubeConfig.loadFromCluster();
  else kubeConfig.loadFromDefault();
  if (!kubeConfig.getCurrentCluster())
    throw new Error("no cluster configured (give --kubeconfig or run in a cluster)");
  return kubeConfig;
}
