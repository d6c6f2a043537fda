/**
 * The review console's relay: pending escalations come from each host's heartbeat; an operator's
 * approve/deny travels to the agent as `review {action_id, decision, reason, reviewer}` over its
 * WebSocket, the agent applies it (principal_review.reviewer = "operator:<name>") and answers
 * `review_result`, which the HTTP request waits for. The evidence record itself ships as usual.
 */
import { Codes, ForgeError } from "../errors.js";
import { approvalRefusal, type ReviewRoles } from "../protocol/review-roles.js";
import type { CollectorContext, Message } from "./context.js";
import type { Fleet } from "./fleet.js";
import type { Operators } from "./operators.js";

export interface ReviewRelayOptions {
  /** How long POST /v1/reviews/:id waits for the agent's answer (default 10 s). */
  answerTimeoutMs?: number;
  /** Who may approve what (src/protocol/review-roles.ts); default: every operator. */
  roles?: ReviewRoles;
}

interface PendingView {
  action_id?: string;
  session_id?: string;
  timestamp?: string;
  proposed_action?: unknown;
  reasons?: string[];
  risk?: number;
  deadline_ms?: number | null;
  policy_matched?: unknown;
  /** Who proposed it ("uid:501 pid:1234", "operator:alice", …). */
  principal?: string | null;
  /** Its policy labels (the labels its matched rules set), as the host reports them. */
  labels?: unknown;
}

/** How many decided reviews GET /v1/reviews lists, newest first. */
const DECIDED_SHOWN = 100;

type Answer = { ok: boolean; state?: string; evaluation?: string; error?: string };

export class ReviewRelay {
  private readonly waiters = new Map<string, Set<(a: Answer) => void>>();

  constructor(
    private readonly ctx: CollectorContext,
    private readonly fleet: Fleet,
    private readonly operators: Operators,
    private readonly opts: ReviewRelayOptions = {},
  ) {}

  register(): void {
    const { ctx } = this;
    ctx.messages.set("review_result", async (conn, msg) => this.onResult(conn.host!.host_id, msg));
    // "Decided here" is stored (table `reviewed`), so it survives a restart and every collector
    // over one database shows the same list.
    ctx.routes.add("GET", "/v1/reviews", async () => ({
      json: { reviews: this.pending(), decided: await ctx.storage.reviewed(DECIDED_SHOWN) },
    }));
    // The session timeline shows what is not a record yet: escalations and actions in flight.
    ctx.routes.add("GET", "/v1/sessions/:id/pending", (req) => ({
      json: { pending: this.sessionPending(req.params.id!) },
    }));
    ctx.routes.add("POST", "/v1/reviews/:id", async (req) => {
      const operator = this.operators.require(req);
      const b = (req.body ?? {}) as { decision?: unknown; reason?: unknown; host_id?: unknown };
      if (b.decision !== "approve" && b.decision !== "deny")
        throw new ForgeError(Codes.BAD_REQUEST, `'decision' must be "approve" or "deny"`);
      if (
        b.reason !== undefined &&
        b.reason !== null &&
        (typeof b.reason !== "string" || b.reason.length > 2000)
      )
        throw new ForgeError(Codes.BAD_REQUEST, "'reason' must be a string of at most 2000 characters");
      const id = req.params.id!;
      const hostId = typeof b.host_id === "string" ? b.host_id : this.hostOf(id);
      const pending = this.pending().find((r) => r.action_id === id && r.host_id === hostId);
      if (hostId === undefined || pending === undefined)
        throw new ForgeError(Codes.NOT_FOUND, `no pending review '${id}' in the fleet's last heartbeats`);
      // The reviewer can never be the proposer (issue 10 finding 1, issue 20 Roles).
      const p = typeof pending.principal === "string" ? pending.principal : "";
      if (p === `operator:${operator}` || p.startsWith(`operator:${operator} `)) {
        throw new ForgeError(
          Codes.SELF_REVIEW,
          `operator '${operator}' proposed action '${id}' and cannot review it: another operator must`,
        );
      }
      // Who may approve what: the collector's roles here; the agent applies its own again.
      if (b.decision === "approve" && this.opts.roles !== undefined) {
        const labels =
          Array.isArray(pending.labels) && pending.labels.every((l) => typeof l === "string")
            ? (pending.labels as string[])
            : undefined;
        const refusal = approvalRefusal(this.opts.roles, `operator:${operator}`, {
          action: pending.proposed_action,
          labels,
        });
        if (refusal !== null) {
          ctx.logger.warn({ operator, action_id: id, host_id: hostId, refusal }, "approval refused by role");
          throw new ForgeError(Codes.REVIEWER_ROLE, refusal);
        }
      }
      const answer = await this.relay(
        hostId,
        id,
        b.decision,
        (b.reason as string | undefined) ?? null,
        operator,
      );
      if (!answer.ok)
        throw new ForgeError(
          Codes.CONFLICT,
          `the agent did not apply the review: ${answer.error ?? "unknown"}`,
        );
      this.fleet.forgetReview(hostId, id);
      const out = {
        host_id: hostId,
        action_id: id,
        decision: b.decision,
        reviewer: `operator:${operator}`,
        state: answer.state ?? null,
        evaluation: answer.evaluation ?? null,
        at_ms: Date.now(),
      };
      // "Decided here" shows what was decided and why, not the action id alone.
      // The agent has applied it: a failed write loses the list entry, not the answer.
      await ctx.storage
        .addReviewed({
          ...out,
          session_id: pending.session_id ?? null,
          proposed_action: pending.proposed_action ?? null,
          reason: (b.reason as string | undefined) ?? null,
        })
        .catch((err: unknown) =>
          ctx.logger.error({ err, action_id: id, host_id: hostId }, "could not store the decided review"),
        );
      ctx.logger.info(out, "review relayed to the agent");
      return { json: out };
    });
  }

  /** Every escalation waiting on a connected host, oldest first, with its host_id. */
  pending(): Array<PendingView & { host_id: string }> {
    const out: Array<PendingView & { host_id: string }> = [];
    for (const host_id of this.fleet.hostIds()) {
      if (!this.ctx.hosts.has(host_id)) continue;
      const rs = (this.fleet.latest(host_id) as { reviews?: PendingView[] } | undefined)?.reviews ?? [];
      for (const r of rs) if (typeof r?.action_id === "string") out.push({ ...r, host_id });
    }
    return out.sort((a, b) => String(a.timestamp).localeCompare(String(b.timestamp)));
  }

  /**
   * One session's actions that are not final yet, on every connected host, oldest first: its
   * escalations (state "escalated") and its actions in flight (the heartbeat's `in_flight`).
   */
  sessionPending(session_id: string): Array<Record<string, unknown> & { host_id: string }> {
    const out: Array<Record<string, unknown> & { host_id: string; timestamp?: unknown }> = [];
    for (const r of this.pending())
      if (r.session_id === session_id) out.push({ ...r, state: "escalated", evaluation: "ESCALATE" });
    for (const host_id of this.fleet.hostIds()) {
      if (!this.ctx.hosts.has(host_id)) continue;
      const hb = this.fleet.latest(host_id) as { in_flight?: Array<Record<string, unknown>> } | undefined;
      for (const a of hb?.in_flight ?? [])
        if (a?.session_id === session_id && typeof a.action_id === "string") out.push({ ...a, host_id });
    }
    return out.sort((a, b) => String(a.timestamp).localeCompare(String(b.timestamp)));
  }

  private hostOf(actionId: string): string | undefined {
    return this.pending().find((r) => r.action_id === actionId)?.host_id;
  }

  private relay(
    hostId: string,
    actionId: string,
    decision: string,
    reason: string | null,
    operator: string,
  ): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      const set = this.waiters.get(actionId) ?? new Set();
      this.waiters.set(actionId, set);
      const done = (a: Answer) => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(actionId);
        resolve(a);
      };
      const timer = setTimeout(() => {
        set.delete(done);
        if (set.size === 0) this.waiters.delete(actionId);
        reject(
          new ForgeError(
            Codes.UPSTREAM_TIMEOUT,
            `host '${hostId}' did not answer the review of ${actionId} in time; it may still apply it`,
          ),
        );
      }, this.opts.answerTimeoutMs ?? 10_000);
      set.add(done);
      const sent = this.ctx.sendTo(hostId, {
        type: "review",
        action_id: actionId,
        decision,
        reason,
        reviewer: `operator:${operator}`,
      });
      if (!sent) done({ ok: false, error: `host '${hostId}' is not connected to this collector` });
    });
  }

  private async onResult(hostId: string, msg: Message): Promise<void> {
    const id = msg.action_id;
    if (typeof id !== "string") return;
    const answer: Answer = {
      ok: msg.ok === true,
      state: typeof msg.state === "string" ? msg.state : undefined,
      evaluation: typeof msg.evaluation === "string" ? msg.evaluation : undefined,
      error: typeof msg.error === "string" ? msg.error : undefined,
    };
    if (!answer.ok)
      this.ctx.logger.warn({ host_id: hostId, action_id: id, error: answer.error }, "agent refused a review");
    for (const w of [...(this.waiters.get(id) ?? [])]) w(answer);
  }
}
