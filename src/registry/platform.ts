/**
 * Platform parsing and containerd-style matching against an image index (REGISTRY.md §6.2). Pure.
 */
import type { Platform } from "./types.ts";

const COMPONENT = /^[A-Za-z0-9_.-]+$/;

/** Lowercases and applies containerd's architecture/variant aliases. */
export function normalizePlatform(p: Platform): Platform {
  let os = p.os.toLowerCase();
  if (os === "macos") os = "darwin";
  let architecture = p.architecture.toLowerCase();
  let variant = (p.variant ?? "").toLowerCase();
  switch (architecture) {
    case "i386":
      architecture = "386";
      variant = "";
      break;
    case "x86_64":
    case "x86-64":
    case "amd64":
      architecture = "amd64";
      if (variant === "v1") variant = "";
      break;
    case "aarch64":
    case "arm64":
      architecture = "arm64";
      if (variant === "8" || variant === "v8" || variant === "v8.0") variant = "";
      else if (variant === "9" || variant === "9.0" || variant === "v9.0") variant = "v9";
      break;
    case "armhf":
      architecture = "arm";
      variant = "v7";
      break;
    case "armel":
      architecture = "arm";
      variant = "v6";
      break;
    case "arm":
      if (variant === "" || variant === "7") variant = "v7";
      else if (variant === "5" || variant === "6" || variant === "8") variant = `v${variant}`;
      break;
  }
  return variant === "" ? { os, architecture } : { os, architecture, variant };
}

/** "linux/arm64/v8" → normalized Platform; os and architecture are required. */
export function parsePlatform(s: string): Platform | { error: string } {
  const parts = s.trim().split("/");
  if (parts.length < 2 || parts.length > 3) {
    return { error: `platform "${s}" must look like os/arch or os/arch/variant, e.g. linux/arm64` };
  }
  if (!parts.every((part) => COMPONENT.test(part))) {
    return { error: `platform "${s}" has an empty or invalid part; use letters, digits, "_", "." or "-"` };
  }
  const [os = "", architecture = "", variant] = parts;
  return normalizePlatform(variant === undefined ? { os, architecture } : { os, architecture, variant });
}

export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

function withVariant(p: Platform, architecture: string, variant: string): Platform {
  return normalizePlatform({ os: p.os, architecture, variant });
}

/** Version number of "vN" / "N"; NaN when it is not one. */
function majorOf(variant: string | undefined): number {
  const match = /^v?(\d+)$/.exec(variant ?? "");
  return match ? Number(match[1]) : Number.NaN;
}

/**
 * The platforms a node of `required` accepts, best first (containerd's platformVector):
 * amd64/vN also takes lower amd64 levels and 386; arm/vN takes arm down to v5;
 * arm64 takes lower arm64 revisions and then arm/v8, v7, v6, v5.
 */
export function acceptedPlatforms(required: Platform): Platform[] {
  const p = normalizePlatform(required);
  const vector: Platform[] = [p];
  switch (p.architecture) {
    case "amd64": {
      const level = majorOf(p.variant);
      if (level > 1) for (let v = level - 1; v >= 1; v--) vector.push(withVariant(p, "amd64", `v${v}`));
      vector.push({ os: p.os, architecture: "386" });
      break;
    }
    case "arm": {
      const level = majorOf(p.variant);
      if (level > 5) for (let v = level - 1; v >= 5; v--) vector.push(withVariant(p, "arm", `v${v}`));
      break;
    }
    case "arm64": {
      // Revisions "vX.Y": every lower minor of the same major, v9.x also covers v8.(x+5) like containerd.
      const match = /^v(\d+)(?:\.(\d+))?$/.exec(p.variant ?? "v8");
      if (match) {
        const major = Number(match[1]);
        const minor = Number(match[2] ?? 0);
        const lower: string[] = [];
        for (let m = minor - 1; m >= 0; m--) lower.push(`v${major}.${m}`);
        if (major === 9) for (let m = minor + 5; m >= 0; m--) lower.push(`v8.${m}`);
        for (const variant of lower) vector.push(withVariant(p, "arm64", variant));
      }
      for (let v = 8; v >= 5; v--) vector.push(withVariant(p, "arm", `v${v}`));
      break;
    }
  }
  const seen = new Set<string>();
  return vector.filter((q) => {
    const id = formatPlatform(q);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/**
 * Does an index entry with platform `candidate` satisfy a node of platform `required`?
 * An entry without a platform matches anything (containerd); an empty os counts as the node's own.
 */
export function platformMatches(required: Platform, candidate: Platform | undefined): boolean {
  if (candidate === undefined) return true;
  const want = normalizePlatform(required);
  const have = normalizePlatform({ ...candidate, os: candidate.os === "" ? want.os : candidate.os });
  return acceptedPlatforms(want).some(
    (q) =>
      q.os === have.os && q.architecture === have.architecture && (q.variant ?? "") === (have.variant ?? ""),
  );
}

/** One entry of an OCI index / Docker manifest list, reduced to what matching needs. */
export interface IndexEntry {
  readonly mediaType: string | null;
  readonly digest: string | null;
  readonly platform?: Platform;
}

export type ParsedIndex =
  | { readonly ok: true; readonly entries: readonly IndexEntry[] }
  | { readonly ok: false; readonly reason: string };

function optionalString(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

/** Reads `manifests[]` from an index body already decoded from JSON. */
export function parseIndex(body: unknown): ParsedIndex {
  if (
    typeof body !== "object" ||
    body === null ||
    !Array.isArray((body as { manifests?: unknown }).manifests)
  ) {
    return { ok: false, reason: "the image index has no manifests list" };
  }
  const entries: IndexEntry[] = [];
  for (const raw of (body as { manifests: unknown[] }).manifests) {
    if (typeof raw !== "object" || raw === null)
      return { ok: false, reason: "an image index entry is not an object" };
    const item = raw as Record<string, unknown>;
    const base = { mediaType: optionalString(item.mediaType), digest: optionalString(item.digest) };
    const platform = item.platform;
    if (platform === undefined || platform === null) {
      entries.push(base);
      continue;
    }
    if (typeof platform !== "object")
      return { ok: false, reason: "an image index entry has a malformed platform" };
    const fields = platform as Record<string, unknown>;
    const os = optionalString(fields.os) ?? "";
    const architecture = optionalString(fields.architecture) ?? "";
    const variant = optionalString(fields.variant);
    entries.push({ ...base, platform: variant ? { os, architecture, variant } : { os, architecture } });
  }
  return { ok: true, entries };
}

/** The required platforms that no index entry satisfies. */
export function missingPlatforms(required: readonly Platform[], entries: readonly IndexEntry[]): Platform[] {
  return required.filter((want) => !entries.some((entry) => platformMatches(want, entry.platform)));
}
