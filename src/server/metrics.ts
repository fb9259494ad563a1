import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { EngineMetrics } from "../check/engine.ts";
import type { CheckResult } from "../check/types.ts";
import type { RequestObservation } from "../registry/types.ts";

/** The product's metrics, on a registry of its own (no global state shared with tests). */
export class Metrics {
  readonly registry = new Registry();
  readonly admissions = new Counter({
    name: "pullcheck_admissions_total",
    help: "Admission reviews answered, by decision, mode and object kind.",
    labelNames: ["decision", "mode", "kind"] as const,
    registers: [this.registry],
  });
  readonly admissionDuration = new Histogram({
    name: "pullcheck_admission_duration_seconds",
    help: "Time to answer one admission review.",
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly imageResults = new Counter({
    name: "pullcheck_image_results_total",
    help: "Image check results, by result category and registry.",
    labelNames: ["result", "registry"] as const,
    registers: [this.registry],
  });
  readonly registryRequests = new Histogram({
    name: "pullcheck_registry_request_duration_seconds",
    help: "Registry and token-service HTTP requests, by registry, request kind and status.",
    labelNames: ["registry", "kind", "status"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly cacheRequests = new Counter({
    name: "pullcheck_cache_requests_total",
    help: "Result-cache look-ups by outcome (hit, miss); coalesced waits count as neither.",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly lookupsInFlight = new Gauge({
    name: "pullcheck_registry_lookups_in_flight",
    help: "Registry lookups currently running.",
    registers: [this.registry],
  });
  readonly badRequests = new Counter({
    name: "pullcheck_bad_requests_total",
    help: "Requests to /validate rejected as malformed (HTTP 400).",
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  readonly engine: EngineMetrics = {
    cacheHit: () => this.cacheRequests.inc({ outcome: "hit" }),
    cacheMiss: () => this.cacheRequests.inc({ outcome: "miss" }),
    lookupsInFlight: (delta) => this.lookupsInFlight.inc(delta),
  };

  /** Counts one answered admission and the result of each of its images. */
  readonly recordDecision = (
    decision: string,
    mode: string,
    kind: string,
    results: readonly CheckResult[],
  ): void => {
    this.admissions.inc({ decision, mode, kind });
    for (const r of results) this.imageResults.inc({ result: r.result, registry: r.registry ?? "" });
  };

  readonly observeRequest = (o: RequestObservation): void => {
    this.registryRequests.observe(
      { registry: o.registry, kind: o.kind, status: String(o.status) },
      o.seconds,
    );
  };
}
