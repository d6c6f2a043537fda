import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Evaluation } from "../gate/decision.js";

/** The daemon's own Prometheus registry (never the global one, so tests can run several agents). */
export class AgentMetrics {
  readonly registry = new Registry();
  private readonly decisions = new Counter({
    name: "forge_decisions_total",
    help: "Gate decisions by evaluation",
    labelNames: ["evaluation"],
    registers: [this.registry],
  });
  private readonly gateLatency = new Histogram({
    name: "forge_gate_latency_seconds",
    help: "Time inside the gate per decision",
    buckets: [5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 5e-3, 2e-2],
    registers: [this.registry],
  });
  private readonly evidenceFailures = new Counter({
    name: "forge_evidence_failures_total",
    help: "Records the evidence store refused (each answered DENY or retried)",
    registers: [this.registry],
  });
  readonly tokensPerSecond = new Gauge({
    name: "forge_inference_tokens_per_second",
    help: "Generation speed of the last inference",
    registers: [this.registry],
  });

  constructor(sources: {
    backlog: () => number;
    pendingReviews: () => number;
    pendingActions: () => number;
  }) {
    new Gauge({
      name: "forge_evidence_backlog",
      help: "Chained records not yet acked by the collector",
      registers: [this.registry],
      collect() {
        this.set(sources.backlog());
      },
    });
    new Gauge({
      name: "forge_pending_reviews",
      help: "Escalations waiting for a principal",
      registers: [this.registry],
      collect() {
        this.set(sources.pendingReviews());
      },
    });
    new Gauge({
      name: "forge_pending_actions",
      help: "Actions not yet final (waiting for review, execution or a result)",
      registers: [this.registry],
      collect() {
        this.set(sources.pendingActions());
      },
    });
  }

  decision(evaluation: Evaluation, gateMs: number): void {
    this.decisions.inc({ evaluation });
    this.gateLatency.observe(gateMs / 1000);
  }

  evidenceFailure(): void {
    this.evidenceFailures.inc();
  }
}
