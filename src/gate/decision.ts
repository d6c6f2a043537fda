/** The shape every gate decision has; it becomes the evidence record's authority fields. */
export type Evaluation = "ALLOW" | "DENY" | "ESCALATE";
export type Effect = "allow" | "deny" | "escalate";

export interface RuleMatch {
  rule_id: string;
  effect: Effect;
  risk: number;
}

export interface BundleRef {
  id: string;
  version: number;
  sha256: string;
}

/** Snapshot of a session's (and its principal's) composition state at evaluation time. */
export interface CompositionSnapshot {
  session_id: string;
  principal: string | null;
  labels: string[];
  principal_labels: string[];
  counts: Record<string, number>;
  recent: {
    action_id: string | null;
    kind: string;
    summary: string;
    evaluation: Evaluation;
    at_ms: number;
  }[];
  /** True when this session's earlier state was evicted (LRU bound) and is incomplete. */
  evicted: boolean;
}

export interface Decision {
  evaluation: Evaluation;
  policy_matched: RuleMatch[];
  bundle: BundleRef;
  risk: number;
  reasons: string[];
  /** The policy labels this decision's matched rules set (`labels:` in the bundle): what review roles by label look at. */
  labels: string[];
  composition_state: CompositionSnapshot;
  /** Wall time inside the gate, in milliseconds (fractional). */
  latency_ms: number;
}
