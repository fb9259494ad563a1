import type { PodSpecContext } from "./images.ts";

const ARCH_LABEL = "kubernetes.io/arch";
const OS_LABEL = "kubernetes.io/os";

/**
 * The platforms one pod must find in an image index: the configured cluster
 * platforms, narrowed by what the pod pins itself to (nodeSelector or required
 * node affinity on kubernetes.io/arch and kubernetes.io/os). A pod pinned to a
 * platform the config does not list still needs that platform.
 */
export function requiredPlatforms(configured: readonly string[], spec: PodSpecContext): readonly string[] {
  if (configured.length === 0) return [];
  const os = spec.nodeSelector[OS_LABEL];
  const selectorArch = spec.nodeSelector[ARCH_LABEL];
  const arches = selectorArch ? [selectorArch] : (spec.requiredArchitectures ?? []);
  if (!os && arches.length === 0) return configured;
  const narrowed = configured.filter((platform) => {
    const [pOs, pArch] = platform.split("/");
    return (!os || pOs === os) && (arches.length === 0 || arches.includes(pArch ?? ""));
  });
  if (narrowed.length > 0) return narrowed;
  const fallbackOs = os ?? configured[0]?.split("/")[0] ?? "linux";
  return arches.length > 0 ? arches.map((arch) => `${fallbackOs}/${arch}`) : configured;
}
