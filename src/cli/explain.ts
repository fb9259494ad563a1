import type { RegistryPolicy } from "../check/engine.ts";
import type { ExcludeMatcher } from "../check/exclude.ts";
import { buildKeyring, explainLookup } from "../credentials/keyring.ts";
import { parseReference } from "../reference/parse.ts";
import { readDockerConfigs } from "./docker-configs.ts";
import type { CliIO } from "./inputs.ts";
import { renderJson, renderTable } from "./output.ts";

export interface ExplainDeps {
  readonly policyFor: (registry: string) => RegistryPolicy;
  readonly excluded: ExcludeMatcher;
  readonly platforms: readonly string[];
}

/**
 * `pullcheck explain IMAGE`: no network. Shows the normalized reference, which
 * credential entry the kubelet would use and why, and what the configuration does
 * with the image. Exit 0, or 1 when the reference is invalid.
 */
export async function runExplain(
  image: string,
  options: { dockerConfig: readonly string[]; output: "table" | "json" | undefined },
  deps: ExplainDeps,
  io: CliIO,
): Promise<number> {
  const credentials = await readDockerConfigs(io, options.dockerConfig);
  const parsed = parseReference(image);
  const format = options.output ?? (io.stdoutIsTTY ? "table" : "json");
  if (!parsed.ok) {
    const result = {
      image,
      registry: null,
      repository: null,
      tag: null,
      digest: null,
      credential: null,
      valid: false,
      message: parsed.reason,
    };
    io.stdout(format === "json" ? renderJson([result]) : `${image}: invalid reference: ${parsed.reason}\n`);
    return 1;
  }
  const reference = parsed.reference;
  const keyring = buildKeyring(credentials.sources);
  const explanation = explainLookup(keyring, reference.name);
  const chosen = explanation.matched[0];
  const policy = deps.policyFor(reference.registry);
  const pattern = deps.excluded(reference);
  const invalid = credentials.invalid.map((entry) => ({ file: entry.origin.secret, reason: entry.reason }));

  const message = pattern
    ? `not checked: matches exclude pattern "${pattern}"`
    : policy.skip
      ? `not checked: registry "${policy.pattern}" is configured with skip: true`
      : invalid.length
        ? `${invalid[0]?.file} cannot be parsed (${invalid[0]?.reason}); the kubelet would fail every pull`
        : chosen
          ? `the kubelet would try ${explanation.matched.length} credential${explanation.matched.length > 1 ? "s" : ""} in order, first the entry "${chosen.match}" from ${chosen.origin.secret}${explanation.dockerHubFallback ? " (Docker Hub fallback)" : ""}`
          : "no credential entry matches: the kubelet would pull anonymously";

  const result = {
    image,
    registry: reference.registry,
    repository: reference.repository,
    tag: reference.tag,
    digest: reference.digest,
    name: reference.name,
    credential: chosen
      ? { source: chosen.origin.source, secret: chosen.origin.secret, match: chosen.match }
      : null,
    credentials: explanation.matched.map((c) => ({
      source: c.origin.source,
      secret: c.origin.secret,
      match: c.match,
    })),
    considered: explanation.considered.map((c) => ({
      key: c.key,
      normalized: c.normalized,
      secret: c.origin.secret,
      matched: c.matched,
      why: c.why,
    })),
    dockerHubFallback: explanation.dockerHubFallback,
    invalidDockerConfigs: invalid,
    registryPolicy: {
      pattern: policy.pattern,
      insecure: policy.settings.insecure,
      skip: policy.skip,
      nodeCredentials: policy.nodeCredentials,
    },
    excludedBy: pattern,
    platforms: deps.platforms,
    message,
  };

  if (format === "json") {
    io.stdout(renderJson([result]));
    return 0;
  }
  const lines = [
    ["image", image],
    ["registry", reference.registry],
    ["repository", reference.repository],
    ["tag", reference.tag ?? "-"],
    ["digest", reference.digest ?? "-"],
    ["lookup name", reference.name],
    ["decision", message],
  ];
  let text = renderTable(lines, ["FIELD", "VALUE"]);
  if (explanation.considered.length > 0) {
    text += `\n${renderTable(
      explanation.considered.map((c) => [c.matched ? "yes" : "no", c.key, c.origin.secret, c.why]),
      ["MATCH", "KEY", "FROM", "WHY"],
    )}`;
  }
  io.stdout(text);
  return 0;
}
