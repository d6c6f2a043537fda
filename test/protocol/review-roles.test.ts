import { describe, expect, it } from "vitest";
import { approvalRefusal, ReviewRolesSchema } from "../../src/protocol/review-roles.js";

/** Who may approve what (issue 20 "Roles"): the one rule the collector and the agent both apply. */
describe("approvalRefusal", () => {
  const roles = ReviewRolesSchema.parse({
    stages: { production: ["alice"] },
    labels: { release: ["operator:alice", "uid:501"], pii: ["carol"] },
  });
  const promote = (stage: string) => ({ action: { kind: "model.promote", stage }, labels: [] });
  const shell = (labels: string[] | undefined) => ({ action: { kind: "shell", command: "x" }, labels });

  it("a stage's list decides its promotions; other stages are open", () => {
    expect(approvalRefusal(roles, "operator:alice", promote("production"))).toBeNull();
    expect(approvalRefusal(roles, "operator:bob", promote("production"))).toMatch(
      /operator:bob is not on the reviewer allowlist of stage 'production'/,
    );
    expect(approvalRefusal(roles, "operator:bob", promote("staging"))).toBeNull();
  });

  it("every constrained label needs the reviewer; names match bare, socket reviewers by uid", () => {
    expect(approvalRefusal(roles, "alice", shell(["release"]))).toBeNull();
    expect(approvalRefusal(roles, "uid:501 pid:42", shell(["release", "other"]))).toBeNull();
    expect(approvalRefusal(roles, "uid:502 pid:42", shell(["release"]))).toMatch(/labelled 'release'/);
    expect(approvalRefusal(roles, "operator:alice", shell(["release", "pii"]))).toMatch(/labelled 'pii'/);
    expect(approvalRefusal(roles, "operator:bob", shell(["other"]))).toBeNull();
  });

  it("unknown labels fail closed when labels are restricted, and nothing is restricted by default", () => {
    expect(approvalRefusal(roles, "operator:alice", shell(undefined))).toMatch(/labels are unknown/);
    expect(approvalRefusal(ReviewRolesSchema.parse({}), "anyone", shell(undefined))).toBeNull();
    expect(() => ReviewRolesSchema.parse({ label: {} })).toThrow();
  });
});
