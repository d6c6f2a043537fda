import { createHash } from "node:crypto";
import { chmodSync, chownSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { nextMs, until } from "../support/wait.js";
import {
  callFromChild,
  proposeFromChild,
  reviewAs,
  reviewHeaders,
  shell,
  startTestAgent,
  type TestAgent,
} from "./helpers.js";

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const uid = process.getuid!();

describe("socket API: the decision log line", () => {
  it("is written at info, one per decision, and not at warn", async () => {
    for (const level of ["info", "warn"]) {
      const t = await startTestAgent({}, undefined, level);
      try {
        const r = await t.client.post("/v1/actions", {
          session_id: "log",
          proposed_action: shell("echo hi"),
        });
        expect(r.status).toBe(200);
        const lines = t.logs.map((l) => JSON.parse(l)).filter((l) => l.decision === "gate");
        if (level === "info")
          expect(lines).toMatchObject([{ verdict: "ALLOW", session_id: "log", action_id: r.body.action_id }]);
        else expect(lines).toEqual([]);
      } finally {
        await t.stop();
      }
    }
  });
});

describe("socket API: one daemon", () => {
  let t: TestAgent;
  beforeAll(async () => {
    t = await startTestAgent({ api: { max_body_bytes: 4096 } });
  });
  afterAll(async () => {
    await t.stop();
  });

  it("creates the socket with mode 0660", () => {
    expect(statSync(t.agent.socketPath).mode & 0o777).toBe(0o660);
  });

  it("answers each evaluation, and only DENY is final at once", async () => {
    const allow = await t.client.post("/v1/actions", {
      session_id: "eval",
      proposed_action: shell("echo hi"),
    });
    expect(allow.status).toBe(200);
    expect(allow.body).toMatchObject({ evaluation: "ALLOW", state: "allowed", recorded: true });
    expect(allow.body.policy_matched.rules.map((r: { rule_id: string }) => r.rule_id)).toEqual([
      "allow-harmless",
    ]);
    expect(allow.body.policy_matched.bundle.id).toBe("agent-test");
    expect(typeof allow.body.deadline_ms).toBe("number");

    const deny = await t.client.post("/v1/actions", {
      session_id: "eval",
      proposed_action: shell("rm -rf /tmp/x"),
    });
    expect(deny.body).toMatchObject({
      evaluation: "DENY",
      state: "done",
      execution_result: null,
      recorded: true,
    });
    expect(deny.body.seq).toBeGreaterThan(0);
    expect(deny.body.reasons.join(" ")).toContain("deny-rm");

    const esc = await t.client.post("/v1/actions", {
      session_id: "eval",
      proposed_action: shell("deploy prod"),
    });
    expect(esc.body).toMatchObject({ evaluation: "ESCALATE", state: "escalated" });
    const reviews = await t.client.call("GET", "/v1/reviews", undefined, reviewHeaders(t));
    expect(reviews.body.reviews.map((r: { action_id: string }) => r.action_id)).toContain(esc.body.action_id);

    // GET shows the same action; a final one carries its chain position.
    const got = await t.client.get(`/v1/actions/${deny.body.action_id}`);
    expect(got.body).toMatchObject({ action_id: deny.body.action_id, state: "done", seq: deny.body.seq });
  });

  it("executes an allowed shell action and records its output", async () => {
    const r = await t.client.post("/v1/actions", {
      session_id: "exec",
      proposed_action: shell("printf 'hello\\n'; printf 'oops' >&2; exit 3"),
      execute: true,
    });
    expect(r.body.evaluation).toBe("ALLOW");
    expect(r.body.state).toBe("done");
    const res = r.body.execution_result;
    expect(res).toMatchObject({ status: "failed", exit_code: 3, timed_out: false });
    expect(res.stdout).toEqual({ sha256: sha256("hello\n"), bytes: 6, excerpt: "hello\n", truncated: false });
    expect(res.stderr.excerpt).toBe("oops");
    // The record is final and chained, with the same result.
    const got = await t.client.get(`/v1/actions/${r.body.action_id}`);
    expect(got.body.execution_result.stdout.sha256).toBe(sha256("hello\n"));
    expect(got.body.seq).toBe(r.body.seq);
  });

  it("runs shell actions with a scrubbed environment plus the action's env", async () => {
    process.env.FORGE_TEST_SECRET = "s3cret";
    const r = await t.client.post("/v1/actions", {
      session_id: "env",
      proposed_action: shell('printf "%s|%s" "$FORGE_TEST_SECRET" "$FOO"', { env: { FOO: "bar" } }),
      execute: true,
    });
    delete process.env.FORGE_TEST_SECRET;
    expect(r.body.execution_result.stdout.excerpt).toBe("|bar");
  });

  it("records a result the caller reports, once", async () => {
    const p = await t.client.post("/v1/actions", { session_id: "report", proposed_action: shell("echo x") });
    const id = p.body.action_id;
    const r = await t.client.post(`/v1/actions/${id}/result`, { status: "ok", exit_code: 0 });
    expect(r.status).toBe(200);
    expect(r.body.state).toBe("done");
    expect(r.body.execution_result).toMatchObject({
      status: "reported",
      result: { status: "ok", exit_code: 0 },
    });
    expect(r.body.execution_result.reported_by).toMatch(new RegExp(`^uid:${uid} pid:\\d+$`));
    const again = await t.client.post(`/v1/actions/${id}/result`, { status: "ok" });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("FORGE_CONFLICT");
    const missing = await t.client.post("/v1/actions/nope/result", { status: "ok" });
    expect(missing.status).toBe(404);
  });

  it("a dry run (POST /v1/evaluate) gives the verdict, and leaves nothing to approve, report or count", async () => {
    const before = (await t.client.get("/v1/health")).body;
    const r = await t.client.post("/v1/evaluate", {
      session_id: "dry",
      proposed_action: shell("deploy prod"),
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ dry_run: true, evaluation: "ESCALATE", denied_outright: false });
    expect(r.body.action_id).toBeUndefined();
    const after = (await t.client.get("/v1/health")).body;
    expect(after.evidence.lastSeq).toBe(before.evidence.lastSeq);
    expect(after.evidence.pending).toBe(before.evidence.pending);
    expect(after.actions.pending).toBe(before.actions.pending);
    // It takes no execute flag, and its answer is no id anything accepts.
    const exec = await t.client.post("/v1/evaluate", {
      session_id: "dry",
      proposed_action: shell("ls"),
      execute: true,
    });
    expect(exec.status).toBe(400);
    const bad = await t.client.post("/v1/evaluate", { session_id: "dry", proposed_action: { kind: "x" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("FORGE_ACTION_INVALID");
  });

  it("a deferred report (?defer_ms=) answers once its record is committed with a later proposal", async () => {
    const p = await t.client.post("/v1/actions", { session_id: "defer", proposed_action: shell("echo d") });
    const bad = await t.client.post(`/v1/actions/${p.body.action_id}/result?defer_ms=later`, {
      status: "ok",
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/defer_ms/);
    const reported = t.client.post(`/v1/actions/${p.body.action_id}/result?defer_ms=1000`, { status: "ok" });
    const next = await t.client.post("/v1/actions", {
      session_id: "defer",
      proposed_action: shell("echo e"),
    });
    const r = await reported;
    expect(r.body).toMatchObject({ state: "done", execution_result: { status: "reported" } });
    // Chained in proposal order: the report's record comes before anything the next action writes.
    const done = await t.client.post(`/v1/actions/${next.body.action_id}/result`, { status: "ok" });
    expect(done.body.seq).toBeGreaterThan(r.body.seq);
  });

  it("approve with execute:true runs the action, with the reviewer in principal_review", async () => {
    const p = await proposeFromChild(t, {
      session_id: "review",
      proposed_action: shell("deploy staging"),
      execute: true,
    });
    expect(p.body.state).toBe("escalated");
    // `deploy` does not exist: the shell says so, and the record keeps that.
    // From another process, with the review token (the proposer may not review itself).
    const a = await reviewAs(t, p.body.action_id, "approve", "looks fine");
    expect(a.code).toBe(0);
    const done = await t.client.get(`/v1/actions/${p.body.action_id}?wait=10000`);
    expect(done.body).toMatchObject({ state: "done", evaluation: "ALLOW" });
    expect(done.body.principal_review).toMatchObject({ decision: "approve", reason: "looks fine" });
    expect(done.body.principal_review.reviewer).toMatch(new RegExp(`^uid:${uid} `));
    expect(done.body.execution_result.exit_code).toBe(127);
    const twice = await reviewAs(t, p.body.action_id, "deny");
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain("FORGE_NOT_FOUND");
  });

  it("approve without execute lets the caller execute and report", async () => {
    const p = await proposeFromChild(t, {
      session_id: "review2",
      proposed_action: shell("deploy qa"),
    });
    const waiting = t.client.get(`/v1/actions/${p.body.action_id}?wait=10000`);
    await until(async () => (await t.client.get("/v1/health")).body.actions.waiting === 1, "the GET parks");
    expect((await reviewAs(t, p.body.action_id, "approve")).code).toBe(0);
    const w = await waiting;
    expect(w.body).toMatchObject({ state: "allowed", evaluation: "ALLOW" });
    const r = await t.client.post(`/v1/actions/${p.body.action_id}/result`, { status: "ok" });
    expect(r.body).toMatchObject({ state: "done", evaluation: "ALLOW" });
    expect(r.body.principal_review.decision).toBe("approve");
  });

  it("deny records DENY with the reviewer and the reason, and nothing runs", async () => {
    const marker = join(t.home, "denied-marker");
    const p = await proposeFromChild(t, {
      session_id: "review3",
      proposed_action: shell(`deploy x; touch ${marker}`),
      execute: true,
    });
    expect(p.body.state).toBe("escalated");
    const d = { body: (await reviewAs(t, p.body.action_id, "deny", "not today")).view };
    expect(d.body).toMatchObject({ state: "done", evaluation: "DENY", execution_result: null });
    expect(d.body.principal_review).toMatchObject({ decision: "deny", reason: "not today" });
    expect(existsSync(marker)).toBe(false);
  });

  it("long-polls an escalation until the wait ends", async () => {
    const p = await t.client.post("/v1/actions", { session_id: "poll", proposed_action: shell("deploy y") });
    const w = await t.client.get(`/v1/actions/${p.body.action_id}?wait=50`);
    expect(w.body.state).toBe("escalated");
    const bad = await t.client.get(`/v1/actions/${p.body.action_id}?wait=soon`);
    expect(bad.status).toBe(400);
  });

  it("reconstructs a session in proposal order", async () => {
    const s = "trace-me";
    const a = await t.client.post("/v1/actions", {
      session_id: s,
      prompt: "do it",
      proposed_action: shell("echo 1"),
    });
    // Each proposal in a later millisecond than the one before (timestamps have ms resolution).
    await nextMs();
    const b = await t.client.post("/v1/actions", { session_id: s, proposed_action: shell("rm -rf /") });
    await nextMs();
    const c = await proposeFromChild(t, { session_id: s, proposed_action: shell("deploy z") });
    await nextMs();
    expect((await reviewAs(t, c.body.action_id, "deny", "no")).code).toBe(0);
    // a is chained last (its result arrives last) but was proposed first.
    await t.client.post(`/v1/actions/${a.body.action_id}/result`, { status: "ok" });
    const tr = await t.client.get(`/v1/sessions/${s}/trace`);
    expect(tr.status).toBe(200);
    const steps = tr.body.steps;
    expect(steps.map((x: { action_id: string }) => x.action_id)).toEqual([
      a.body.action_id,
      b.body.action_id,
      c.body.action_id,
    ]);
    expect(steps.map((x: { evaluation: string }) => x.evaluation)).toEqual(["ALLOW", "DENY", "DENY"]);
    expect(steps[0].seq).toBeGreaterThan(steps[2].seq);
    expect(steps[0].execution_result.status).toBe("reported");
    // `rm -rf /` also takes the agent's own home with it: the built-in rule matches first.
    expect(steps[1].rules.map((r: { rule_id: string }) => r.rule_id)).toEqual([
      "builtin:protected-resource",
      "deny-rm",
    ]);
    expect(steps[2].principal_review.reason).toBe("no");
    expect(steps[0].composition_state.session_id).toBe(s);
    expect(steps.every((x: { state: string }) => x.state === "final")).toBe(true);
  });

  it("answers bad requests with coded JSON errors", async () => {
    const cases: [string, string, unknown, number, string][] = [
      ["GET", "/nope", undefined, 404, "FORGE_NOT_FOUND"],
      ["DELETE", "/v1/actions", undefined, 405, "FORGE_METHOD_NOT_ALLOWED"],
      ["POST", "/v1/actions", "{not json", 400, "FORGE_BAD_REQUEST"],
      ["POST", "/v1/actions", { session_id: 5, proposed_action: shell("echo") }, 400, "FORGE_BAD_REQUEST"],
      [
        "POST",
        "/v1/actions",
        { session_id: "s", proposed_action: { kind: "shell" } },
        400,
        "FORGE_ACTION_INVALID",
      ],
      [
        "POST",
        "/v1/actions",
        { session_id: "s", proposed_action: shell("echo"), sesion: 1 },
        400,
        "FORGE_BAD_REQUEST",
      ],
      [
        "POST",
        "/v1/actions",
        { session_id: "s", proposed_action: shell("x".repeat(5000)) },
        413,
        "FORGE_PAYLOAD_TOO_LARGE",
      ],
      ["POST", "/v1/reviews/x", { decision: "maybe" }, 401, "FORGE_REVIEW_TOKEN_REQUIRED"],
      [
        "POST",
        "/v1/actions",
        {
          session_id: "s",
          proposed_action: { kind: "email.send", to: ["a@b.c"], subject: "hi" },
          execute: true,
        },
        400,
        "FORGE_BAD_REQUEST",
      ],
    ];
    for (const [method, path, body, status, code] of cases) {
      const r = await t.client.call(method, path, body);
      expect({ path, status: r.status, code: r.body?.error?.code }).toEqual({ path, status, code });
      expect(typeof r.body.error.message).toBe("string");
    }
    const r405 = await t.client.call("PUT", "/v1/health");
    expect(r405.headers.allow).toBe("GET");
  });

  it("serves Prometheus metrics and health", async () => {
    const m = await t.client.get("/metrics");
    expect(m.status).toBe(200);
    expect(m.text).toMatch(/forge_decisions_total\{evaluation="DENY"\} \d+/);
    expect(m.text).toContain("forge_gate_latency_seconds_bucket");
    expect(m.text).toMatch(/forge_pending_reviews \d+/);
    const h = await t.client.get("/v1/health");
    expect(h.body).toMatchObject({ status: "ok", host_id: "test-host", policy: { id: "agent-test" } });
  });
});

describe("socket API: deadlines", () => {
  let t: TestAgent;
  beforeAll(async () => {
    t = await startTestAgent({ review: { deadline_ms: 150 }, actions: { result_deadline_ms: 150 } });
  });
  afterAll(async () => {
    await t.stop();
  });

  it("an escalation nobody reviews is DENY by the system when its deadline passes", async () => {
    const p = await t.client.post("/v1/actions", {
      session_id: "late",
      proposed_action: shell("deploy prod"),
      execute: true,
    });
    const w = await t.client.get(`/v1/actions/${p.body.action_id}?wait=10000`);
    expect(w.body).toMatchObject({ state: "done", evaluation: "DENY", execution_result: null });
    expect(w.body.principal_review).toMatchObject({ decision: "expired", reviewer: "system" });
    const late = await reviewAs(t, p.body.action_id, "approve");
    expect(late.stderr).toContain("FORGE_NOT_FOUND");
  });

  it("an ALLOW whose result is never reported is recorded as unreported", async () => {
    const p = await t.client.post("/v1/actions", { session_id: "late", proposed_action: shell("echo 1") });
    const w = await t.client.get(`/v1/actions/${p.body.action_id}?wait=10000`);
    expect(w.body).toMatchObject({ state: "done", evaluation: "ALLOW" });
    expect(w.body.execution_result.status).toBe("unreported");
  });
});

describe("socket API: peer credentials", () => {
  const agents: TestAgent[] = [];
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop();
  });

  it("refuses a uid that is not allowed to propose, and still answers health", async () => {
    const t = await startTestAgent({
      api: { allowed_proposer_uids: [uid + 4242], allowed_reviewer_uids: [uid + 4242] },
    });
    agents.push(t);
    const r = await t.client.post("/v1/actions", { session_id: "s", proposed_action: shell("echo hi") });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe("FORGE_FORBIDDEN");
    expect(r.body.error.message).toContain(`uid:${uid}`);
    expect((await t.client.call("GET", "/v1/reviews", undefined, reviewHeaders(t))).status).toBe(403);
    expect((await t.client.get("/v1/health")).status).toBe(200);
    // Nothing was decided for the refused caller.
    expect((await t.client.get("/v1/health")).body.evidence.lastSeq).toBe(1);
  });

  /** Proposes an escalation and approves it from the same connection, with the review token. */
  async function approveOwn(t: TestAgent) {
    const p = await t.client.post("/v1/actions", { session_id: "s", proposed_action: shell("deploy prod") });
    expect(p.body.state).toBe("escalated");
    const id = p.body.action_id as string;
    const a = await t.client.call("POST", `/v1/reviews/${id}`, { decision: "approve" }, reviewHeaders(t));
    expect((await t.client.get(`/v1/actions/${id}`)).body.state).toBe("escalated");
    return { id, status: a.status, code: a.body?.error?.code as string | undefined };
  }

  it("a proposer who is not a reviewer cannot approve its own escalation", async () => {
    const t = await startTestAgent({
      api: { allowed_proposer_uids: [uid], allowed_reviewer_uids: [uid + 4242] },
    });
    agents.push(t);
    expect(await approveOwn(t)).toMatchObject({ status: 403, code: "FORGE_FORBIDDEN" });
  });

  it("the proposer's own connection, even with the review token and a reviewer uid, cannot approve", async () => {
    // Deliberate change (issue 10): reviewer and proposer allowlists both hold the owner, but a
    // reviewer is never the proposer.
    const t = await startTestAgent();
    agents.push(t);
    const own = await approveOwn(t);
    expect(own).toMatchObject({ status: 403, code: "FORGE_SELF_REVIEW" });
    const noToken = await t.client.post(`/v1/reviews/${own.id}`, { decision: "approve" });
    expect(noToken.status).toBe(401);
    expect(noToken.body.error.code).toBe("FORGE_REVIEW_TOKEN_REQUIRED");
  });
});

describe("socket API: evidence failure", () => {
  let t: TestAgent;
  afterAll(async () => {
    await t.stop();
  });

  it("answers DENY evidence-unavailable and runs nothing when the store cannot take the record", async () => {
    // Room for 2 unacked records: the policy record at start, then one DENY.
    t = await startTestAgent({ evidence: { max_unacked_records: 2 } });
    const first = await t.client.post("/v1/actions", {
      session_id: "full",
      proposed_action: shell("rm -rf /x"),
    });
    expect(first.body).toMatchObject({ evaluation: "DENY", recorded: true });

    const marker = join(t.home, "must-not-exist");
    const r = await t.client.post("/v1/actions", {
      session_id: "full",
      proposed_action: shell(`touch ${marker}`),
      execute: true,
    });
    expect(r.body).toMatchObject({ evaluation: "DENY", reasons: ["evidence-unavailable"], recorded: false });
    expect(existsSync(marker)).toBe(false);

    const deny = await t.client.post("/v1/actions", {
      session_id: "full",
      proposed_action: shell("rm -rf /y"),
    });
    expect(deny.body).toMatchObject({
      evaluation: "DENY",
      reasons: ["evidence-unavailable"],
      recorded: false,
    });
    const esc = await t.client.post("/v1/actions", {
      session_id: "full",
      proposed_action: shell("deploy prod"),
    });
    expect(esc.body).toMatchObject({ evaluation: "DENY", reasons: ["evidence-unavailable"] });
    expect((await t.client.call("GET", "/v1/reviews", undefined, reviewHeaders(t))).body.reviews).toEqual([]);
    const m = await t.client.get("/metrics");
    expect(m.text).toMatch(/forge_evidence_failures_total [1-9]/);
  });
});

describe("socket API: another uid on the same socket", () => {
  const NOBODY = 65534;
  let t: TestAgent;
  beforeAll(async () => {
    t = await startTestAgent({ api: { allowed_proposer_uids: [uid, NOBODY], allowed_reviewer_uids: [uid] } });
    // Let uid/gid 65534 reach the socket: traverse the home, connect through the group bit of 0660.
    chmodSync(t.home, 0o711);
    chmodSync(t.agent.config.home, 0o711);
    chownSync(t.agent.socketPath, uid, NOBODY);
  });
  afterAll(async () => {
    await t.stop();
  });

  /** One request from a real child process running as uid/gid 65534. */
  const asNobody = (method: string, path: string, body?: unknown) =>
    callFromChild(t.agent.socketPath, method, path, body, { uid: NOBODY, gid: NOBODY });

  // Switching uid needs root (this machine and CI run as root).
  it.skipIf(uid !== 0)(
    "records the other uid as the proposer, refuses it as a reviewer, and keeps results to the proposer",
    async () => {
      const p = await asNobody("POST", "/v1/actions", {
        session_id: "nobody",
        proposed_action: shell("deploy prod"),
      });
      expect(p.status).toBe(200);
      expect(p.body.evaluation).toBe("ESCALATE");
      const trace = await t.client.get("/v1/sessions/nobody/trace");
      expect(trace.body.steps[0].principal).toMatch(new RegExp(`^uid:${NOBODY} pid:\\d+$`));
      const r = await asNobody("POST", `/v1/reviews/${p.body.action_id}`, { decision: "approve" });
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe("FORGE_FORBIDDEN");

      const mine = await t.client.post("/v1/actions", {
        session_id: "root",
        proposed_action: shell("echo mine"),
      });
      const forged = await asNobody("POST", `/v1/actions/${mine.body.action_id}/result`, { status: "ok" });
      expect(forged.status).toBe(403);
      expect((await t.client.get(`/v1/actions/${mine.body.action_id}`)).body.state).toBe("allowed");
    },
  );
});
