/**
 * One way for the daemon's own work (a promotion, a training run) to put a decision before a
 * human: propose the action to the ActionService, where an ESCALATE waits in the review queue
 * (socket, CLI, collector console) like any action, and wait for it to settle. No answer by the
 * deadline is `expired`; a verdict without escalation is the policy's own approve or deny.
 */
import type { Logger } from "pino";
import type { Action } from "../gate/actions.js";
import { nowRfc3339, type PrincipalReview } from "../protocol/record.js";
import type { ActionService, Principal } from "./actions.js";

export async function reviewInQueue(
  svc: ActionService,
  who: Principal,
  p: {
    session_id: string;
    action: object;
    delegate: string;
    /** Escalate whatever the gate allows (the caller's reason); a DENY stays DENY. */
    escalate?: string;
    deadlineMs: number;
    logger: Logger;
    what: string;
  },
): Promise<PrincipalReview> {
  const v = await svc.propose(
    {
      session_id: p.session_id,
      proposed_action: p.action as Action,
      delegate: p.delegate,
      ...(p.escalate === undefined ? {} : { escalate: p.escalate }),
    },
    who,
  );
  if (v.state !== "escalated")
    return {
      decision: v.evaluation === "ALLOW" ? "approve" : "deny",
      reviewer: "policy",
      at: nowRfc3339(),
      reason: v.reasons.join("; ") || null,
    };
  p.logger.info(
    { action_id: v.action_id, reasons: v.reasons },
    `${p.what} escalated: waiting for a reviewer`,
  );
  const settled = await svc.wait(v.action_id, p.deadlineMs + 5_000);
  return (
    settled?.principal_review ?? {
      decision: "expired",
      reviewer: "system",
      at: nowRfc3339(),
      reason: "no review before the deadline (review.deadline_ms)",
    }
  );
}
