import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** The collector's Prometheus metrics, on their own Registry (never the global one). */
export function createMetrics() {
  const registry = new Registry();
  return {
    registry,
    recordsIngested: new Counter({
      name: "forge_collector_records_ingested_total",
      help: "Records committed (new, not duplicates)",
      registers: [registry],
    }),
    duplicates: new Counter({
      name: "forge_collector_records_duplicate_total",
      help: "Re-sent records already stored (deduplicated by host_id, seq)",
      registers: [registry],
    }),
    batches: new Counter({
      name: "forge_collector_batches_total",
      help: "records messages processed",
      registers: [registry],
    }),
    refusals: new Counter({
      name: "forge_collector_refusals_total",
      help: "Connections closed by the collector, by reason",
      labelNames: ["reason"],
      registers: [registry],
    }),
    connections: new Gauge({
      name: "forge_collector_connections",
      help: "Open agent connections (authenticated or not)",
      registers: [registry],
    }),
    signInFailures: new Counter({
      name: "forge_collector_sign_in_failures_total",
      help: "Refused operator sign-ins and bearer secrets",
      registers: [registry],
    }),
    ingestSeconds: new Histogram({
      name: "forge_collector_ingest_seconds",
      help: "Time to verify and commit one records batch",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
  };
}

export type CollectorMetrics = ReturnType<typeof createMetrics>;
