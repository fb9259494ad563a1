import { ABORTED, raceAbort } from "../abort.ts";
import type { AuditRecord, AuditSink } from "../audit.ts";
import type { Engine } from "../check/engine.ts";
import {
  type CheckRequest,
  type CheckResult,
  type CredentialContext,
  NO_CREDENTIALS,
} from "../check/types.ts";
import { type KubeReader, resolvePullSecrets } from "../credentials/kube.ts";
import { collectImageUses, type ImageUse, type PodSpecContext } from "./images.ts";
import { requiredPlatforms } from "./platforms.ts";
import { type AdmissionRequest, admissionResponse, parseAdmissionReview } from "./review.ts";
import { type Decision, decide, type Finding, type Mode, type OnRegistryError } from "./verdict.ts";

export interface AdmissionSettings {
  readonly mode: Mode;
  readonly onRegistryError: OnRegistryError;
  readonly timeoutMs: number;
  readonly platforms: readonly string[];
}

export interface AdmissionDeps {
  readonly engine: Engine;
  readonly kube: KubeReader;
  readonly audit: AuditSink;
  readonly settings: AdmissionSettings;
  readonly now?: () => Date;
  readonly onDecision?: (
    decision: Decision,
    mode: Mode,
    kind: string,
    results: readonly CheckResult[],
  ) => void;
}

export type AdmissionReply = { status: 200; body: object } | { status: 400; body: { error: string } };

/** Time kept back from the deadline to build and send the response. */
const RESPONSE_MARGIN_MS = 150;

/**
 * AdmissionReview in, AdmissionReview out. `routeMode` is the mode the URL path
 * selected (the ValidatingWebhookConfiguration routes namespaces by their
 * pullcheck.dev/mode label); null means the config default.
 */
export async function handleAdmission(
  body: unknown,
  routeMode: Mode | null,
  deps: AdmissionDeps,
): Promise<AdmissionReply> {
  const parsed = parseAdmissionReview(body);
  if (!parsed.ok) return { status: 400, body: { error: parsed.reason } };
  const request = parsed.request;
  const mode = routeMode ?? deps.settings.mode;
  const allow = () => ({ status: 200 as const, body: admissionResponse(request.uid, { allowed: true }) });

  if (mode === "off") return allow();
  const found = collectImageUses(request);
  if (found.kind === "malformed") return { status: 400, body: { error: found.reason } };
  if (found.kind === "unsupported" || found.uses.length === 0) return allow();

  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), Math.max(1, deps.settings.timeoutMs - RESPONSE_MARGIN_MS));
  const namespace = request.namespace;
  let results: CheckResult[];
  try {
    results = await checkUses(found.uses, found.spec, namespace, deps, deadline.signal);
  } finally {
    clearTimeout(timer);
  }
  const findings: Finding[] = found.uses.map((use, index) => ({
    use,
    result: results[index] as CheckResult,
  }));
  const subject = `${found.objectKind} ${namespace ? `${namespace}/` : ""}${found.objectName}`;
  const verdict = decide(mode, deps.settings.onRegistryError, findings, subject);

  if (verdict.decision !== "allowed" || deps.audit.recordsAllowed) {
    deps.audit.write(
      auditRecord(request, mode, verdict.decision, found.objectKind, found.objectName, findings, deps.now),
    );
  }
  deps.onDecision?.(verdict.decision, mode, found.objectKind, results);

  return {
    status: 200,
    body: admissionResponse(request.uid, {
      allowed: verdict.decision !== "denied",
      ...(verdict.message ? { status: { code: 403, reason: "Forbidden", message: verdict.message } } : {}),
      ...(verdict.warnings.length ? { warnings: verdict.warnings } : {}),
      auditAnnotations: auditAnnotations(verdict.decision, findings),
    }),
  };
}

async function checkUses(
  uses: readonly ImageUse[],
  spec: PodSpecContext,
  namespace: string,
  deps: AdmissionDeps,
  deadline: AbortSignal,
): Promise<CheckResult[]> {
  const platforms = requiredPlatforms(deps.settings.platforms, spec);
  const requests: CheckRequest[] = uses.map((use) => ({
    image: use.image,
    source: use.fieldPath,
    platforms,
  }));
  // A Pod naming no pull secret has none: the ServiceAccount's were already copied in by
  // the API server's ServiceAccount admission plugin when there were any. No API read.
  if (spec.imagePullSecrets.length === 0 && !spec.isTemplate) {
    return deps.engine.check(requests, NO_CREDENTIALS, deadline);
  }
  let credentials: CredentialContext | typeof ABORTED;
  try {
    credentials = await raceAbort(
      resolvePullSecrets(deps.kube, namespace, {
        imagePullSecrets: spec.imagePullSecrets,
        serviceAccountName: spec.serviceAccountName,
        applyServiceAccount: spec.isTemplate,
      }),
      deadline,
    );
  } catch (error) {
    // Without the pod's pull secrets, check anonymously: what the registry tells anyone
    // (a missing tag, a bad reference, an image that is there) still holds, but a refusal
    // of anonymous access says nothing about the pod's own credentials.
    const reason = errorText(error);
    const anonymous = await deps.engine.check(requests, NO_CREDENTIALS, deadline);
    return anonymous.map((result) =>
      CREDENTIAL_DEPENDENT.has(result.result) ? withUnknownCredentials(result, reason) : result,
    );
  }
  if (credentials === ABORTED) {
    return uses.map((use) => unknownCredentials(use, "the API server did not answer in time"));
  }
  return deps.engine.check(requests, credentials, deadline);
}

/** Results an anonymous lookup cannot stand in for when the pod's credentials are unknown. */
const CREDENTIAL_DEPENDENT = new Set<CheckResult["result"]>([
  "credentials-missing",
  "credentials-rejected",
  "not-found-or-unauthorized",
  "access-denied",
]);

function withUnknownCredentials(result: CheckResult, reason: string): CheckResult {
  return {
    ...result,
    result: "registry-error",
    credential: null,
    message: `could not read the pod's pull secrets (${reason}) and the registry refused anonymous access, so the image could not be verified; check pullcheck's RBAC and the API server`,
  };
}

function unknownCredentials(use: ImageUse, reason: string): CheckResult {
  return {
    image: use.image,
    registry: null,
    repository: null,
    tag: null,
    digest: null,
    result: "registry-error",
    resolvedDigest: null,
    credential: null,
    message: `could not read the pod's pull secrets (${reason}); check pullcheck's RBAC and the API server`,
    source: use.fieldPath,
  };
}

function errorText(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  const text = error instanceof Error ? error.message.split("\n")[0] : String(error);
  return typeof code === "number" ? `HTTP ${code}` : (text ?? "unknown error").slice(0, 200);
}

function auditRecord(
  request: AdmissionRequest,
  mode: Mode,
  decision: Decision,
  kind: string,
  name: string,
  findings: readonly Finding[],
  now: (() => Date) | undefined,
): AuditRecord {
  return {
    time: (now?.() ?? new Date()).toISOString(),
    uid: request.uid,
    operation: request.operation,
    dryRun: request.dryRun,
    user: request.username,
    namespace: request.namespace,
    kind,
    name,
    mode,
    decision,
    images: findings.map(({ use, result }) => ({
      container: use.container,
      image: use.image,
      result: result.result,
      message: result.message,
    })),
  };
}

/** Recorded by the API server in its own audit log, keyed by webhook; kept small. */
function auditAnnotations(decision: Decision, findings: readonly Finding[]): Record<string, string> {
  const results = findings.map(({ use, result }) => `${use.container}=${result.result}`).join(",");
  return { decision, results: results.length > 1000 ? `${results.slice(0, 997)}...` : results };
}
