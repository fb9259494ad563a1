import type { CheckResult } from "../check/types.ts";
import { classOf } from "../results.ts";
import type { ImageUse } from "./images.ts";

export type Mode = "enforce" | "warn" | "off";
export type OnRegistryError = "warn" | "deny" | "allow";
export type Decision = "allowed" | "denied" | "warned";

export interface Finding {
  readonly use: ImageUse;
  readonly result: CheckResult;
}

export interface Verdict {
  readonly decision: Decision;
  /** One line per failing image; present when denied. */
  readonly message: string | null;
  /** One short line per image that warns (each < 256 characters). */
  readonly warnings: string[];
}

/** Kubernetes truncates nothing for us: longer warnings are dropped by some clients. */
export const MAX_WARNING_LENGTH = 255;

/**
 * Turns per-image results into the admission decision (PRODUCT.md "Admission
 * behaviour"). Pure. Definite failures deny in enforce mode and warn in warn mode;
 * indeterminate results follow onRegistryError (deny only ever in enforce mode); an
 * ok image whose index lacks some configured platforms warns.
 */
export function decide(
  mode: Mode,
  onRegistryError: OnRegistryError,
  findings: readonly Finding[],
  subject: string,
): Verdict {
  if (mode === "off") return { decision: "allowed", message: null, warnings: [] };
  const denyLines: string[] = [];
  const warnings: string[] = [];
  for (const finding of findings) {
    const { result } = finding.result;
    const kind = classOf(result);
    let action: "deny" | "warn" | "none" = "none";
    if (kind === "definite") action = mode === "enforce" ? "deny" : "warn";
    else if (kind === "indeterminate") {
      action =
        onRegistryError === "allow"
          ? "none"
          : onRegistryError === "deny" && mode === "enforce"
            ? "deny"
            : "warn";
    } else if (result === "ok" && finding.result.missingPlatforms?.length) {
      action = "warn";
    }
    if (action === "deny") denyLines.push(denyLine(finding));
    else if (action === "warn") warnings.push(warningLine(finding));
  }
  if (denyLines.length > 0) {
    const header = `pullcheck denied ${subject}: ${denyLines.length} image${denyLines.length > 1 ? "s" : ""} cannot be pulled`;
    return { decision: "denied", message: [header, ...denyLines].join("\n"), warnings };
  }
  return { decision: warnings.length > 0 ? "warned" : "allowed", message: null, warnings };
}

function who(use: ImageUse): string {
  const noun = use.role === "imageVolume" ? "volume" : use.role === "container" ? "container" : use.role;
  return `${noun} ${quote(use.container)}`;
}

function denyLine({ use, result }: Finding): string {
  return `- ${who(use)} image ${quote(use.image)}: ${result.result}: ${oneLine(result.message)}`;
}

function warningLine({ use, result }: Finding): string {
  const message =
    result.result === "ok" && result.missingPlatforms?.length
      ? `index lacks ${result.missingPlatforms.join(", ")}`
      : result.message;
  return truncate(
    `pullcheck: ${who(use)} image ${quote(use.image)}: ${result.result}: ${oneLine(message)}`,
    MAX_WARNING_LENGTH,
  );
}

function truncate(text: string, max: number): string {
  // Count code points, not UTF-16 units, so a cut never splits a surrogate pair.
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 3).join("")}...`;
}

/** Images and names come from users: quote them so control characters can't forge extra lines. */
function quote(text: string): string {
  return JSON.stringify(text);
}

function oneLine(text: string): string {
  return text.replace(/[\r\n\t]+/g, " ");
}
