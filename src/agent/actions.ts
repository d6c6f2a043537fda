import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import type { Logger } from "pino";
import { Codes, ForgeError, httpStatus } from "../errors.js";
import type { Action } from "../gate/actions.js";
import type { Decision, Evaluation } from "../gate/decision.js";
import { toPolicyMatched } from "../gate/index.js";
import { isWithin } from "../gate/paths.js";
import type { SandboxProfile } from "../gate/sandbox-profile.js";
import { HttpError } from "../http.js";
import {
  nowRfc3339,
  type PrincipalReview,
  promptHash,
  type RecordInput,
  type StoredRecord,
} from "../protocol/record.js";
import type { ApprovalSubject } from "../protocol/review-roles.js";
import { assertEncodable } from "./bounds.js";
import { EXECUTABLE_KINDS, type ExecutionResult, type ExecutorLimits, execute } from "./executors/index.js";
import { notFound } from "./http.js";
import type { GatePort, PendingAction, StorePort } from "./ports.js";
import type { Sandbox } from "./sandbox/index.js";
import { summarize } from "./trace.js";

/**
 * The life of one action, from proposal to its one final evidence record.
 *
 * DENY is chained at once. Everything else first becomes a durable PENDING row (putPending,
 * group-committed before the verdict is returned), and is chained in its final form by
 * resolvePending when its outcome exists: the execution result, the caller's report, the review,
 * or a deadline. The draft's `execution_result` holds the plan (`{status: "pending", execute,
 * reasons, risk}`) so a restarted agent knows what was asked.
 */

export type ActionState = "allowed" | "escalated" | "executing" | "done";

/** What the API shows of an action. */
export interface ActionView {
  action_id: string;
  session_id: string;
  state: ActionState;
  evaluation: Evaluation;
  policy_matched: RecordInput["policy_matched"];
  reasons: string[];
  risk: number;
  /** The policy labels its matched rules set (review roles by label, src/protocol/review-roles.ts); live actions only. */
  labels?: string[];
  latency_ms: number;
  /** False only when the evidence store refused the record (the answer is then DENY). */
  recorded: boolean;
  timestamp?: string;
  principal?: string | null;
  proposed_action?: unknown;
  deadline_ms?: number | null;
  execution_result?: unknown;
  principal_review?: PrincipalReview | null;
  seq?: number;
  hash?: string;
}

/** An action in flight, as the heartbeat carries it (bounded: a summary, not the action). */
export interface InFlight {
  action_id: string;
  session_id: string;
  state: Exclude<ActionState, "done">;
  evaluation: Evaluation;
  timestamp: string;
  summary: string;
}

/** A dry run's answer: the verdict the gate would give, with no action behind it. */
export interface PreviewView {
  dry_run: true;
  evaluation: Evaluation;
  /** DENY by a rule that names the tool and looks at nothing else (Gate.deniesOutright). */
  denied_outright: boolean;
  policy_matched: RecordInput["policy_matched"];
  reasons: string[];
  risk: number;
}

export interface ProposeInput {
  session_id: string;
  prompt?: string;
  /** Given instead of `prompt` when the caller holds only the hash (the inference facade). */
  prompt_hash?: string;
  proposed_action: Action;
  execute?: boolean;
  /**
   * Who executes an ALLOW when nobody will report back (the inference facade's client): the
   * record is then final at once, with execution_result `{status: "delegated", to}`.
   */
  delegate?: string;
  /**
   * The agent's own reason to put this action before a reviewer whatever the gate allows (a
   * training anomaly under an `escalate` rule). A DENY stays DENY. Internal: not on /v1/actions.
   */
  escalate?: string;
}

/** Who is asking: `gate` is what the gate's principal rules see, `record` what the evidence keeps. */
export interface Principal {
  gate: string;
  record: string;
}

export interface ActionServiceOptions {
  gate: () => GatePort;
  store: StorePort;
  limits: ExecutorLimits;
  /** Contains every action the agent executes (src/agent/sandbox). */
  sandbox: Sandbox;
  reviewDeadlineMs: number;
  resultDeadlineMs: number;
  onRestart: "restore" | "deny";
  recordPrompts: boolean;
  /**
   * The store's bound on unacked records. A non-DENY verdict reserves room for its final record:
   * an action must never run, or be allowed, when its record could not be chained afterwards.
   */
  maxUnacked: number;
  logger: Logger;
  /** Metrics hooks. */
  observe?: { decision(evaluation: Evaluation, gateMs: number): void; evidenceFailure(): void };
  /**
   * Who may approve what (review roles per stage and policy label, src/protocol/review-roles.ts):
   * why `reviewer` may not approve, or null. Refused with FORGE_REVIEWER_ROLE (403).
   */
  authorizeReview?: (subject: ApprovalSubject, reviewer: string) => string | null;
  /**
   * Settles once the gate's composition state changed by the decisions so far is saved
   * (GateStatePersister.durable): awaited before a verdict is answered or its action executed.
   */
  stateDurable?: () => Promise<void>;
  /**
   * The session's workspace declaration being recorded (SessionWorkspaces.settling), or
   * undefined: a proposal of that session waits for it before it is judged.
   */
  declaring?: (session_id: string) => Promise<void> | undefined;
}

const SETTLED = Promise.resolve();

interface Plan {
  status: "pending";
  execute: boolean;
  delegate: string | null;
  reasons: string[];
  risk: number;
  /** The decision's policy labels; absent on rows restored from before they were kept. */
  labels?: string[];
}

interface Live {
  id: string;
  state: Exclude<ActionState, "done">;
  /** A transition (report, review, expiry) is writing; others must not start one. */
  busy: boolean;
  draft: RecordInput;
  plan: Plan;
  deadline_ms: number | null;
  timer: NodeJS.Timeout | undefined;
}

const RECENT_MAX = 10_000;
const RETRY_MS = 1_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

export class ActionService {
  private readonly live = new Map<string, Live>();
  /** Final views of recent actions, so GET shows reasons without re-reading the store. */
  private readonly recent = new Map<string, ActionView>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly background = new Set<Promise<unknown>>();
  private closed = false;
  /** Proposals between the capacity check and their pending row (concurrent requests). */
  private reserving = 0;

  constructor(private readonly o: ActionServiceOptions) {}

  /** Gate, make durable, and (for ALLOW + execute) run. Resolves only once the evidence is committed. */
  async propose(input: ProposeInput, who: Principal): Promise<ActionView> {
    if (this.closed) throw new HttpError(Codes.EVIDENCE_CLOSED, "the agent is shutting down");
    const action = input.proposed_action;
    // Before the verdict: nothing the final record could not encode may become a pending row.
    assertEncodable(action, "proposed_action");
    if (input.execute === true && !EXECUTABLE_KINDS.has(action.kind)) {
      throw new HttpError(
        Codes.BAD_REQUEST,
        `no built-in executor for ${action.kind}: propose without execute and report the result to /v1/actions/:id/result`,
      );
    }
    // A declaration of this session's workspace is being recorded: judged once it settled,
    // against the declared roots; if it registered none, DENY (never the wider configured roots).
    const declaring = this.o.declaring?.(input.session_id);
    if (declaring !== undefined) {
      await declaring;
      if (this.closed) throw new HttpError(Codes.EVIDENCE_CLOSED, "the agent is shutting down");
    }
    const action_id = randomUUID();
    const undeclared = declaring !== undefined && this.o.gate().sessionWorkspaces(input.session_id) === null;
    const judged = undeclared
      ? this.refused(
          input.session_id,
          who.gate,
          "session-workspace: this session's workspace declaration, sent while this action was proposed, failed: not judged against the configured roots",
          performance.now(),
        )
      : this.containable(
          input.execute === true,
          action,
          this.decide(input.session_id, who.gate, action, action_id),
        );
    const decision =
      input.escalate !== undefined && judged.evaluation === "ALLOW"
        ? { ...judged, evaluation: "ESCALATE" as const, reasons: [...judged.reasons, input.escalate] }
        : judged;
    // A label or artefact this decision made new is being saved in the background (gate-state.ts):
    // nothing is answered or executed before that save finished.
    const stateSaved = this.o.stateDurable?.() ?? SETTLED;
    this.o.observe?.decision(decision.evaluation, decision.latency_ms);
    // Not even built when info is off (log_level warn and above: the summary line and its fields).
    if (this.o.logger.isLevelEnabled("info"))
      this.logDecision("gate", action_id, input.session_id, decision.evaluation, action, {
        rule: decidingRule(decision),
        reason: decision.reasons[0] ?? null,
        principal: who.record,
      });
    const plan: Plan = {
      status: "pending",
      execute: input.execute === true,
      delegate: input.execute === true ? null : (input.delegate ?? null),
      reasons: decision.reasons,
      risk: decision.risk,
      labels: decision.labels,
    };
    const prompt_hash = input.prompt !== undefined ? promptHash(input.prompt) : (input.prompt_hash ?? null);
    const draft: RecordInput = {
      kind: "action",
      session_id: input.session_id,
      action_id,
      timestamp: nowRfc3339(),
      prompt_hash,
      ...(this.o.recordPrompts && input.prompt !== undefined ? { prompt: input.prompt } : {}),
      proposed_action: action,
      evaluation: decision.evaluation,
      policy_matched: toPolicyMatched(decision),
      composition_state: decision.composition_state,
      execution_result: null,
      principal_review: null,
      latency_ms: decision.latency_ms,
      principal: who.record,
    };

    if (decision.evaluation === "DENY" || (decision.evaluation === "ALLOW" && plan.delegate !== null)) {
      const final = decision.evaluation === "DENY" ? draft : { ...draft, execution_result: delegated(plan) };
      try {
        const stored = await this.o.store.append(final);
        await stateSaved;
        return this.finalView(stored, plan);
      } catch (err) {
        await stateSaved;
        return this.evidenceFailure(draft, plan, err);
      }
    }

    const now = Date.now();
    const escalated = decision.evaluation === "ESCALATE";
    const deadline_ms = escalated
      ? now + this.o.reviewDeadlineMs
      : plan.execute
        ? null
        : now + this.o.resultDeadlineMs;
    const pendingDraft = { ...draft, execution_result: plan };
    const unacked = this.o.store.lastSeq() - this.o.store.ackedSeq() + this.live.size + this.reserving;
    if (unacked + 1 > this.o.maxUnacked) {
      const full = new ForgeError(
        Codes.EVIDENCE_FULL,
        `evidence buffer full: ${unacked} records (chained or reserved by pending actions) await the collector's ack (evidence.max_unacked_records ${this.o.maxUnacked})`,
      );
      await stateSaved;
      return this.evidenceFailure(draft, plan, full);
    }
    this.reserving++;
    try {
      await this.o.store.putPending({
        action_id,
        session_id: input.session_id,
        state: escalated ? "escalated" : "allowed",
        record: pendingDraft,
        deadline_ms,
        created_ms: now,
      });
    } catch (err) {
      await stateSaved;
      return this.evidenceFailure(draft, plan, err);
    } finally {
      this.reserving--;
    }
    await stateSaved;
    const live: Live = {
      id: action_id,
      state: escalated ? "escalated" : plan.execute ? "executing" : "allowed",
      busy: false,
      draft: pendingDraft,
      plan,
      deadline_ms,
      timer: undefined,
    };
    this.live.set(action_id, live);
    if (live.state === "executing") return this.runAndResolve(live, action);
    this.arm(live);
    return this.liveView(live);
  }

  /**
   * What the gate would decide for this proposal now (POST /v1/evaluate): no action id, no
   * record, no pending row, no change to composition state. Advice only: nothing accepts a
   * preview later, so it can neither approve nor prepare anything.
   */
  preview(input: { session_id: string; proposed_action: Action }, who: Principal): PreviewView {
    const d = this.o.gate().preview({
      session_id: input.session_id,
      principal: who.gate,
      action: input.proposed_action,
    });
    return {
      dry_run: true,
      evaluation: d.evaluation,
      denied_outright: this.o.gate().deniesOutright(d),
      policy_matched: toPolicyMatched(d),
      reasons: d.reasons,
      risk: d.risk,
    };
  }

  /**
   * The caller ran an allowed action and reports what happened. `deferMs` > 0 lets the final
   * record wait that long to share the next group commit (the store's resolvePending); the
   * promise still resolves only once it is committed.
   */
  async report(
    action_id: string,
    result: Record<string, unknown>,
    who: Principal,
    deferMs = 0,
  ): Promise<ActionView> {
    const live = this.live.get(action_id);
    if (live === undefined) {
      if (this.view(action_id) !== undefined) {
        throw new HttpError(Codes.CONFLICT, `action ${action_id} is already final`);
      }
      throw notFound(`action ${action_id}`);
    }
    if (live.state !== "allowed" || live.busy) {
      throw new HttpError(Codes.CONFLICT, `action ${action_id} is ${live.state}, not waiting for a result`);
    }
    // Only the proposer's uid (or root) may say what happened to its action.
    const proposer = uidOf(live.draft.principal);
    const reporter = uidOf(who.record);
    if (reporter !== "0" && proposer !== reporter) {
      throw new HttpError(
        Codes.FORBIDDEN,
        `action ${action_id} was proposed by uid ${proposer ?? "?"}; uid ${reporter ?? "?"} may not report its result`,
      );
    }
    assertEncodable(result, "result");
    live.busy = true;
    const final: RecordInput = {
      ...live.draft,
      execution_result: { status: "reported", reported_by: who.record, result },
    };
    try {
      return await this.resolve(live, final, deferMs);
    } catch (err) {
      live.busy = false;
      throw unavailable(err);
    }
  }

  /** A principal's review of a pending escalation. */
  async review(
    action_id: string,
    decision: "approve" | "deny",
    reason: string | null,
    reviewer: string,
  ): Promise<ActionView> {
    const live = this.live.get(action_id);
    if (live === undefined) {
      // Still 404 (no pending review has this ID), but saying who decided it and when.
      const done = this.view(action_id)?.principal_review;
      if (done)
        throw new HttpError(
          Codes.NOT_FOUND,
          `no pending review ${action_id}: it was already decided: ${done.decision} by ${done.reviewer} at ${done.at}`,
        );
      throw notFound(`pending review ${action_id}`);
    }
    if (live.state !== "escalated" || live.busy) {
      throw new HttpError(Codes.CONFLICT, `action ${action_id} is ${live.state}, not waiting for review`);
    }
    // The proposer never reviews itself, whichever path the review came by (socket, collector).
    if (sameParty(reviewer, live.draft.principal)) {
      throw new HttpError(
        Codes.SELF_REVIEW,
        `${reviewer} proposed action ${action_id}: the proposer may not review its own action`,
      );
    }
    const refusal =
      decision === "approve"
        ? (this.o.authorizeReview?.(
            { action: live.draft.proposed_action, labels: live.plan.labels },
            reviewer,
          ) ?? null)
        : null;
    if (refusal !== null) throw new HttpError(Codes.REVIEWER_ROLE, refusal);
    live.busy = true;
    const principal_review: PrincipalReview = { decision, reviewer, at: nowRfc3339(), reason };
    this.logDecision(
      "review",
      action_id,
      live.draft.session_id,
      decision === "approve" ? "ALLOW" : "DENY",
      live.draft.proposed_action,
      { rule: live.draft.policy_matched.rules[0]?.rule_id ?? null, reason, reviewer },
    );
    if (decision === "deny") {
      try {
        return await this.resolve(live, {
          ...live.draft,
          evaluation: "DENY",
          principal_review,
          execution_result: null,
        });
      } catch (err) {
        live.busy = false;
        throw unavailable(err);
      }
    }
    const approved: RecordInput = { ...live.draft, evaluation: "ALLOW", principal_review };
    if (live.plan.delegate !== null) {
      try {
        return await this.resolve(live, { ...approved, execution_result: delegated(live.plan) });
      } catch (err) {
        live.busy = false;
        throw unavailable(err);
      }
    }
    const execute = live.plan.execute;
    const deadline_ms = execute ? null : Date.now() + this.o.resultDeadlineMs;
    try {
      await this.o.store.updatePending(action_id, { state: "allowed", record: approved, deadline_ms });
    } catch (err) {
      live.busy = false;
      throw unavailable(err);
    }
    this.disarm(live);
    live.draft = approved;
    live.deadline_ms = deadline_ms;
    live.busy = false;
    if (execute) {
      this.track(this.runAndResolve(live, approved.proposed_action as Action));
    } else {
      live.state = "allowed";
      this.arm(live);
    }
    this.notify(action_id);
    return this.liveView(live);
  }

  /**
   * One info line per decision, so `tail -f` of the log shows what the agent does: the verdict,
   * the rule that decided, and the action in a line (at most 120 characters; never its content).
   */
  private logDecision(
    by: "gate" | "review",
    action_id: string,
    session_id: string,
    verdict: Evaluation,
    action: unknown,
    extra: Record<string, unknown>,
  ): void {
    const summary = summaryLine(action);
    this.o.logger.info(
      { decision: by, verdict, action_id, session_id, action: summary, ...extra },
      `${verdict} ${summary}${typeof extra.rule === "string" ? ` (rule ${extra.rule})` : ""}`,
    );
  }

  /** Escalations waiting for a principal, oldest first. */
  reviews(): ActionView[] {
    return [...this.live.values()]
      .filter((l) => l.state === "escalated" && !l.busy)
      .map((l) => this.liveView(l));
  }

  /**
   * Actions in flight that wait for no reviewer (allowed and waiting for the caller's result, or
   * executing), oldest first, at most `limit`, each with a one-line summary: what the heartbeat
   * carries so the dashboard's session timeline shows them beside the records and the escalations.
   */
  inFlight(limit = 20): InFlight[] {
    const out: InFlight[] = [];
    for (const l of this.live.values()) {
      if (l.state === "escalated") continue;
      out.push({
        action_id: l.id,
        session_id: l.draft.session_id,
        state: l.state,
        evaluation: l.draft.evaluation as Evaluation,
        timestamp: l.draft.timestamp,
        summary: summaryLine(l.draft.proposed_action),
      });
    }
    return out.sort((a, b) => a.timestamp.localeCompare(b.timestamp)).slice(0, limit);
  }

  /** The action's current view: live, recent, or read back from the store. */
  view(action_id: string): ActionView | undefined {
    const live = this.live.get(action_id);
    if (live !== undefined) return this.liveView(live);
    const recent = this.recent.get(action_id);
    if (recent !== undefined) return recent;
    const rec = this.o.store.records({ action_id, kind: "action", limit: 1 })[0];
    return rec === undefined ? undefined : this.finalView(rec, undefined);
  }

  /**
   * Waits up to `ms` until the action settles: it is final, or (if it was escalated) a review
   * allowed it so the caller may execute. Resolves with the view at that time.
   */
  async wait(action_id: string, ms: number): Promise<ActionView | undefined> {
    const first = this.view(action_id);
    if (first === undefined || first.state === "done" || ms <= 0) return first;
    const from = first.state;
    const settled = (v: ActionView | undefined) =>
      v === undefined || v.state === "done" || (from === "escalated" && v.state === "allowed");
    return new Promise((resolve) => {
      let set = this.waiters.get(action_id);
      if (set === undefined) {
        set = new Set();
        this.waiters.set(action_id, set);
      }
      const finish = () => {
        clearTimeout(timer);
        set!.delete(check);
        if (set!.size === 0) this.waiters.delete(action_id);
        resolve(this.view(action_id));
      };
      const check = () => {
        if (this.closed || settled(this.view(action_id))) finish();
      };
      const timer = setTimeout(finish, Math.min(ms, MAX_TIMER_MS));
      set.add(check);
    });
  }

  /** Session records in proposal order, with what is still pending. */
  session(session_id: string): { records: StoredRecord[]; pending: ActionView[] } {
    const records = this.o.store.records({ session_id });
    const pending = [...this.live.values()]
      .filter((l) => l.draft.session_id === session_id)
      .map((l) => this.liveView(l));
    return { records, pending };
  }

  /**
   * Re-arms what a previous run left pending. Escalations are restored (timers re-armed) or
   * resolved as DENY per review.on_restart; an allowed action whose execution the agent itself
   * had started is resolved with an `unknown` result, since it may or may not have run.
   * Those resolutions run in the background: with a full buffer they wait for the collector's
   * acks, and the shipper starts only after this returns.
   */
  async restore(): Promise<{ restored: number; resolved: number }> {
    let restored = 0;
    let resolved = 0;
    for (const p of this.o.store.listPending()) {
      const plan = planOf(p);
      const live: Live = {
        id: p.action_id,
        state: p.state,
        busy: false,
        draft: p.record,
        plan,
        deadline_ms: p.deadline_ms,
        timer: undefined,
      };
      this.live.set(p.action_id, live);
      if (p.state === "escalated" && this.o.onRestart === "deny") {
        live.busy = true;
        this.track(
          this.resolveRetrying(live, {
            ...p.record,
            evaluation: "DENY",
            execution_result: null,
            principal_review: {
              decision: "agent-restart",
              reviewer: "system",
              at: nowRfc3339(),
              reason: "agent restarted with review.on_restart=deny",
            },
          }),
        );
        resolved++;
      } else if (p.state === "allowed" && plan.delegate !== null) {
        // Approved just before the stop: the caller had been told ALLOW; finish the record.
        live.busy = true;
        this.track(this.resolveRetrying(live, { ...p.record, execution_result: delegated(plan) }));
        resolved++;
      } else if (p.state === "allowed" && plan.execute) {
        live.busy = true;
        this.track(
          this.resolveRetrying(live, {
            ...p.record,
            execution_result: {
              status: "unknown",
              reason: "agent-restart: the agent stopped while executing; the action may or may not have run",
            },
          }),
        );
        resolved++;
      } else {
        this.arm(live);
        restored++;
      }
    }
    return { restored, resolved };
  }

  /** Stops timers and waits for executions already started; pending rows stay durable. */
  async close(): Promise<void> {
    this.closed = true;
    for (const l of this.live.values()) this.disarm(l);
    for (const id of [...this.waiters.keys()]) this.notify(id);
    await Promise.allSettled([...this.background]);
  }

  /** Live actions, escalations among them, and GET /v1/actions/:id?wait= requests parked on one. */
  stats(): { pending: number; escalated: number; waiting: number } {
    let escalated = 0;
    for (const l of this.live.values()) if (l.state === "escalated") escalated++;
    let waiting = 0;
    for (const set of this.waiters.values()) waiting += set.size;
    return { pending: this.live.size, escalated, waiting };
  }

  // --- internals -------------------------------------------------------------------------------

  /**
   * An action the agent would execute in a process it cannot contain is DENY sandbox-unavailable
   * (sandbox.on_unavailable: deny), decided before anything is recorded or run.
   */
  private containable(execute: boolean, action: Action, d: Decision): Decision {
    if (
      !execute ||
      action.kind !== "shell" ||
      d.evaluation === "DENY" ||
      this.o.sandbox.onUnavailable !== "deny"
    )
      return d;
    const st = this.o.sandbox.probe();
    if (st.ok) return d;
    return {
      ...d,
      evaluation: "DENY",
      risk: 100,
      reasons: [...d.reasons, `sandbox-unavailable: ${st.reason}`],
    };
  }

  private decide(session_id: string, principal: string, action: Action, action_id: string): Decision {
    const started = performance.now();
    try {
      return this.o.gate().evaluate({ session_id, principal, action, action_id });
    } catch (err) {
      // Gate.evaluate is specified never to throw; if it does anyway, fail closed.
      this.o.logger.error({ err, action_id }, "gate threw; answering DENY");
      return this.refused(session_id, principal, "gate-error", started);
    }
  }

  /** DENY for `reason`, decided without the gate (which may have failed): nothing in the composition state. */
  private refused(session_id: string, principal: string, reason: string, started: number): Decision {
    let bundle = { id: "unknown", version: 0, sha256: "" };
    try {
      bundle = this.o.gate().bundle;
    } catch {}
    return {
      evaluation: "DENY",
      policy_matched: [],
      bundle,
      risk: 100,
      reasons: [reason],
      labels: [],
      composition_state: {
        session_id,
        principal,
        labels: [],
        principal_labels: [],
        counts: {},
        recent: [],
        evicted: false,
      },
      latency_ms: performance.now() - started,
    };
  }

  private async runAndResolve(live: Live, action: Action): Promise<ActionView> {
    live.state = "executing";
    live.busy = true;
    const rules = (live.draft.policy_matched as { rules?: { rule_id: string }[] } | null)?.rules ?? [];
    const gate = this.o.gate();
    const chosen = gate.sandboxFor(rules.map((r) => r.rule_id));
    // A session with declared workspace roots (POST /v1/sessions/:id/workspace) runs there: its
    // default cwd is its first root, and `$WORKSPACE` in the profile means its roots.
    const roots = gate.sessionWorkspaces(live.draft.session_id);
    const result: ExecutionResult = await execute(
      action,
      roots === null ? this.o.limits : { ...this.o.limits, cwd: roots[0]! },
      { sandbox: this.o.sandbox, name: chosen.name, profile: sessionProfile(chosen.profile, roots) },
    );
    return this.resolveRetrying(live, { ...live.draft, execution_result: result });
  }

  /** Chains the final record and forgets the pending row; rejects if the store refuses. */
  private async resolve(live: Live, final: RecordInput, deferMs = 0): Promise<ActionView> {
    const stored = await this.o.store.resolvePending(live.id, final, deferMs);
    this.disarm(live);
    this.live.delete(live.id);
    const v = this.finalView(stored, live.plan);
    this.notify(live.id);
    return v;
  }

  /**
   * For outcomes that already happened (an execution, an expiry): the record must not be lost,
   * so a refused write is retried until it lands or the agent stops (the pending row then
   * survives the restart).
   */
  private async resolveRetrying(live: Live, final: RecordInput): Promise<ActionView> {
    for (;;) {
      try {
        return await this.resolve(live, final);
      } catch (err) {
        this.o.observe?.evidenceFailure();
        const code = (err as { code?: string }).code;
        // Only a full or unavailable store can get better by waiting; anything else never will.
        const transient = code === Codes.EVIDENCE_FULL || code === Codes.EVIDENCE_UNAVAILABLE;
        if (!transient) {
          this.o.logger.error(
            { err, action_id: live.id },
            "cannot chain the final record, and retrying cannot help; the pending row stays for inspection",
          );
          this.disarm(live);
          this.live.delete(live.id);
          this.notify(live.id);
          return { ...this.liveView(live), recorded: false };
        }
        this.o.logger.error({ err, action_id: live.id }, "cannot chain the final record; retrying");
        if (this.closed) return { ...this.liveView(live), recorded: false };
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  private arm(live: Live): void {
    this.disarm(live);
    if (live.deadline_ms === null || this.closed) return;
    const delay = Math.max(0, Math.min(live.deadline_ms - Date.now(), MAX_TIMER_MS));
    live.timer = setTimeout(() => {
      live.timer = undefined;
      this.expire(live);
    }, delay);
  }

  private disarm(live: Live): void {
    if (live.timer !== undefined) clearTimeout(live.timer);
    live.timer = undefined;
  }

  private expire(live: Live): void {
    if (live.busy) return;
    live.busy = true;
    if (live.state === "escalated") {
      const p = this.resolveRetrying(live, {
        ...live.draft,
        evaluation: "DENY",
        execution_result: null,
        principal_review: {
          decision: "expired",
          reviewer: "system",
          at: nowRfc3339(),
          reason: "no review before the deadline (review.deadline_ms)",
        },
      });
      this.track(p);
    } else if (live.state === "allowed") {
      const p = this.resolveRetrying(live, {
        ...live.draft,
        execution_result: { status: "unreported", deadline_ms: live.deadline_ms },
      });
      this.track(p);
    }
  }

  private track(p: Promise<unknown>): void {
    this.background.add(p);
    p.catch((err) => this.o.logger.error({ err }, "background action task failed")).finally(() =>
      this.background.delete(p),
    );
  }

  private notify(action_id: string): void {
    const set = this.waiters.get(action_id);
    if (set !== undefined) for (const f of [...set]) f();
  }

  private evidenceFailure(draft: RecordInput, plan: Plan, err: unknown): ActionView {
    this.o.observe?.evidenceFailure();
    this.o.logger.error(
      { err, action_id: draft.action_id },
      "evidence store refused the record; answering DENY",
    );
    return {
      action_id: draft.action_id,
      session_id: draft.session_id,
      state: "done",
      evaluation: "DENY",
      policy_matched: draft.policy_matched,
      reasons: ["evidence-unavailable"],
      risk: plan.risk,
      latency_ms: draft.latency_ms,
      recorded: false,
    };
  }

  private liveView(live: Live): ActionView {
    const d = live.draft;
    return {
      action_id: live.id,
      session_id: d.session_id,
      state: live.state,
      evaluation: d.evaluation as Evaluation,
      policy_matched: d.policy_matched,
      reasons: live.plan.reasons,
      risk: live.plan.risk,
      ...(live.plan.labels !== undefined ? { labels: live.plan.labels } : {}),
      latency_ms: d.latency_ms,
      recorded: true,
      timestamp: d.timestamp,
      principal: d.principal ?? null,
      proposed_action: d.proposed_action,
      deadline_ms: live.deadline_ms,
      principal_review: d.principal_review,
    };
  }

  private finalView(rec: StoredRecord, plan: Plan | undefined): ActionView {
    const v: ActionView = {
      action_id: rec.action_id,
      session_id: rec.session_id,
      state: "done",
      evaluation: rec.evaluation as Evaluation,
      policy_matched: rec.policy_matched,
      reasons: plan?.reasons ?? [],
      risk: plan?.risk ?? Math.max(0, ...rec.policy_matched.rules.map((r) => r.risk)),
      latency_ms: rec.latency_ms,
      recorded: true,
      execution_result: rec.execution_result,
      principal_review: rec.principal_review,
      seq: rec.seq,
      hash: rec.hash,
    };
    if (plan !== undefined) {
      this.recent.set(rec.action_id, v);
      if (this.recent.size > RECENT_MAX) this.recent.delete(this.recent.keys().next().value!);
    }
    return v;
  }
}

function delegated(plan: Plan): { status: "delegated"; to: string } {
  return { status: "delegated", to: plan.delegate ?? "caller" };
}

function planOf(p: PendingAction): Plan {
  const r = p.record.execution_result as Partial<Plan> | null;
  return {
    status: "pending",
    execute: r?.execute === true,
    delegate: typeof r?.delegate === "string" ? r.delegate : null,
    reasons: Array.isArray(r?.reasons) ? r.reasons.map(String) : [],
    risk: typeof r?.risk === "number" ? r.risk : 0,
    // A row from before labels were kept: unknown, so a label role fails closed on it.
    ...(Array.isArray(r?.labels) ? { labels: r.labels.map(String) } : {}),
  };
}

/** "uid:501 pid:42" → "501"; principals without a uid (tcp-loopback) → the whole name. */
function uidOf(principal: string | null | undefined): string | null {
  if (principal === null || principal === undefined) return null;
  const m = /^uid:(\d+)/.exec(principal);
  return m === null ? principal : m[1]!;
}

/** Same principal: the same name, or the same process ("uid:0 pid:42" and "uid:0 pid:42 …"). */
function sameParty(a: string, b: string | null | undefined): boolean {
  if (b === null || b === undefined) return false;
  if (a === b) return true;
  const pa = /\bpid:(\d+)/.exec(a)?.[1];
  const pb = /\bpid:(\d+)/.exec(b)?.[1];
  return pa !== undefined && pa === pb;
}

/** A 503 for a record the store refused: the store's own code when that is a 503 one. */
function unavailable(err: unknown): HttpError {
  const code =
    err instanceof ForgeError && httpStatus(err.code) === 503 ? err.code : Codes.EVIDENCE_UNAVAILABLE;
  return new HttpError(code, `the evidence store refused the record: ${(err as Error).message}`);
}

/** The rule whose effect is the verdict (the first such match); null for a default or composition verdict. */
function decidingRule(d: Decision): string | null {
  const effect = d.evaluation.toLowerCase();
  return d.policy_matched.find((m) => m.effect === effect)?.rule_id ?? null;
}

/** An action in one line of at most 120 characters (the heartbeat's `in_flight`, the decision log). */
function summaryLine(action: unknown): string {
  const s = summarize(action);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/**
 * `profile` for a session with declared roots: it writes only inside them. Each `$WORKSPACE`
 * write root becomes one per session root (so a write elsewhere in the configured workspace is
 * outside the write roots); an absolute write root inside a session root stays, one that holds
 * session roots is narrowed to them, any other is dropped; `$TMP` (the action's private temp dir)
 * stays. Each `$WORKSPACE` hide is kept and repeated under every session root.
 */
export function sessionProfile(profile: SandboxProfile, roots: readonly string[] | null): SandboxProfile {
  if (roots === null) return profile;
  const per = (p: string) =>
    p === "$WORKSPACE" || p.startsWith("$WORKSPACE/") ? roots.map((r) => r + p.slice(10)) : [p];
  const narrowed = (p: string): string[] => {
    if (!p.startsWith("/")) return per(p);
    const abs = resolve(p);
    if (roots.some((r) => isWithin(abs, r))) return [abs];
    return roots.filter((r) => isWithin(r, abs));
  };
  return {
    ...profile,
    write: [...new Set(profile.write.flatMap(narrowed))],
    deny_read: [...new Set([...profile.deny_read, ...profile.deny_read.flatMap(per)])],
  };
}
