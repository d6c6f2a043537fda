/**
 * The training state machine's one declared transition table. The loop moves only through
 * `Machine.go`, which throws FORGE_TRAINING_TRANSITION for any pair not in TRANSITIONS: an
 * undeclared transition cannot happen.
 */
import { Codes, ForgeError } from "../errors.js";

export const STATES = [
  "INIT",
  "BUDGET_CHECK",
  "FORWARD",
  "LOSS_CHECK",
  "ANOMALY",
  "BACKWARD",
  "STEP",
  "CHECKPOINT",
  "DONE",
  "HALTED",
  "FAILED",
] as const;
export type State = (typeof STATES)[number];

export const TERMINAL: ReadonlySet<State> = new Set(["DONE", "HALTED", "FAILED"]);

/**
 * Every allowed move. Any non-terminal state may go to FAILED (a trainer or disk error) — that is
 * declared here too, per state, not implied.
 */
export const TRANSITIONS: Readonly<Record<State, readonly State[]>> = Object.freeze({
  INIT: ["BUDGET_CHECK", "FAILED", "HALTED"],
  // Budgets allow the next step (FORWARD), the job is complete (DONE), or a budget would be crossed.
  BUDGET_CHECK: ["FORWARD", "DONE", "HALTED", "FAILED"],
  FORWARD: ["LOSS_CHECK", "FAILED"],
  // The loss is known, no gradient yet: an anomaly, or on to the backward pass.
  LOSS_CHECK: ["ANOMALY", "BACKWARD", "FAILED"],
  // skip → next BUDGET_CHECK; halt or a denied review → HALTED; an approved review → BACKWARD.
  ANOMALY: ["BUDGET_CHECK", "BACKWARD", "HALTED", "FAILED"],
  BACKWARD: ["STEP", "FAILED"],
  STEP: ["CHECKPOINT", "BUDGET_CHECK", "FAILED"],
  CHECKPOINT: ["BUDGET_CHECK", "DONE", "FAILED"],
  DONE: [],
  HALTED: [],
  FAILED: [],
});

/** The current state and a count of visits per state. */
export class Machine {
  private current: State = "INIT";
  private readonly visits = new Map<State, number>([["INIT", 1]]);

  constructor(private readonly onTransition: (from: State, to: State) => void = () => {}) {}

  get state(): State {
    return this.current;
  }

  /** Moves to `to`, or throws FORGE_TRAINING_TRANSITION when the table does not declare it. */
  go(to: State): void {
    const from = this.current;
    if (!TRANSITIONS[from].includes(to))
      throw new ForgeError(
        Codes.TRAINING_TRANSITION,
        `undeclared training transition ${from} → ${to}: the table in src/training/machine.ts allows ${from} → ${TRANSITIONS[from].join(" | ") || "(nothing: terminal)"}`,
        { details: { from, to } },
      );
    this.current = to;
    this.visits.set(to, (this.visits.get(to) ?? 0) + 1);
    this.onTransition(from, to);
  }

  /** Visits per state, in the table's order, states never visited left out. */
  counts(): Partial<Record<State, number>> {
    const out: Partial<Record<State, number>> = {};
    for (const s of STATES) {
      const n = this.visits.get(s);
      if (n) out[s] = n;
    }
    return out;
  }
}
