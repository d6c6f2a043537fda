import { z } from "zod";

/**
 * Reviewer roles (issue 20 "Roles"): who may approve what. One rule, applied by the collector to
 * dashboard/API approvals and by the agent to its socket review path:
 *
 * - `stages.<stage>`: the reviewers who may approve a `model.promote` to that stage;
 * - `labels.<label>`: the reviewers who may approve an action whose policy labels (the labels its
 *   matched rules set, `labels:` in the bundle) include that label. An action with several
 *   constrained labels needs a reviewer on every one of their lists.
 *
 * A stage or label with no list is open to every reviewer; a denial needs no role (it can only
 * make an action safer). The proposer never reviews its own action (checked beside this, always).
 * A reviewer is named `operator:NAME`, `uid:N` or a bare name; `operator:alice` and `alice` match,
 * and a socket reviewer `uid:501 pid:42` is `uid:501`.
 */
const List = z.array(z.string().min(1).max(128)).max(1000);
export const ReviewRolesSchema = z
  .strictObject({
    stages: z.record(z.string().min(1).max(128), List).default({}),
    labels: z.record(z.string().min(1).max(128), List).default({}),
  })
  .prefault({});
/** The roles as configured (parsed, possibly frozen). */
export type ReviewRoles = Readonly<{
  stages: Readonly<Record<string, readonly string[]>>;
  labels: Readonly<Record<string, readonly string[]>>;
}>;

/** What an approval's roles depend on: the promotion's stage (if it is one) and the action's policy labels. */
export interface ApprovalSubject {
  /** The proposed action (a `model.promote` names its `stage`). */
  action: unknown;
  /** Its policy labels; undefined when unknown (then a label role fails closed). */
  labels: readonly string[] | undefined;
}

/** `operator:alice` → `alice`; `uid:501 pid:42` → `uid:501`. */
const bare = (s: string) => s.split(" ")[0]!.replace(/^operator:/, "");

/** True when `reviewer` is named on `list`. */
export function onList(list: readonly string[], reviewer: string): boolean {
  return list.some((r) => r === reviewer || bare(r) === bare(reviewer));
}

/** The stage a `model.promote` action promotes to, or null for any other action. */
export function promotionStage(action: unknown): string | null {
  const a = action as { kind?: unknown; stage?: unknown } | null;
  return a !== null && typeof a === "object" && a.kind === "model.promote" && typeof a.stage === "string"
    ? a.stage
    : null;
}

/** Why `reviewer` may not approve `subject` under `roles`, or null when it may. */
export function approvalRefusal(
  roles: ReviewRoles,
  reviewer: string,
  subject: ApprovalSubject,
): string | null {
  const stage = promotionStage(subject.action);
  const stageList = stage === null ? undefined : roles.stages[stage];
  if (stage !== null && stageList !== undefined && !onList(stageList, reviewer))
    return `${reviewer} is not on the reviewer allowlist of stage '${stage}' (reviewers of '${stage}': ${stageList.join(", ") || "none"})`;
  const constrained = Object.keys(roles.labels);
  if (constrained.length === 0) return null;
  if (subject.labels === undefined)
    return `the action's policy labels are unknown, and approvals are restricted by label (${constrained.join(", ")}): refused`;
  for (const label of subject.labels) {
    const list = roles.labels[label];
    if (list !== undefined && !onList(list, reviewer))
      return `${reviewer} may not approve an action labelled '${label}' (reviewers of '${label}': ${list.join(", ") || "none"})`;
  }
  return null;
}
