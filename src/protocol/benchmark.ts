import { nowRfc3339, type RecordInput } from "./record.js";

/**
 * The session every `benchmark` record belongs to, on every host: the collector's
 * `GET /v1/records?session_id=forge-bench` returns the fleet's runs (the dashboard's panel).
 */
export const BENCH_SESSION_ID = "forge-bench";

/**
 * The `benchmark` record of one run: the intent as proposed_action, the report as
 * execution_result, no gate verdict. `forge-agent bench` appends it to the store itself, or hands
 * it to the running agent (POST /v1/benchmarks) when one owns the store; both build it here.
 */
export function benchmarkRecord(o: {
  action_id: string;
  intent: unknown;
  result: unknown;
  principal: string;
}): RecordInput {
  return {
    kind: "benchmark",
    session_id: BENCH_SESSION_ID,
    action_id: o.action_id,
    timestamp: nowRfc3339(),
    prompt_hash: null,
    proposed_action: o.intent,
    evaluation: null,
    policy_matched: { bundle: null, rules: [] },
    composition_state: null,
    execution_result: o.result,
    principal_review: null,
    latency_ms: 0,
    principal: o.principal,
  };
}
