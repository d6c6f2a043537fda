import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTinyModel } from "../../src/inference/tiny-model.js";
import { until } from "../support/wait.js";
import { CLOCK, EMAIL, FACADE_POLICY, SHELL } from "./facade-fixtures.js";
import { reviewAs, reviewHeaders, startTestAgent, type TestAgent, tempHome } from "./helpers.js";

/**
 * The governed Ollama-compatible facade as the daemon wires it: the official ollama client against
 * the daemon's loopback port, the embedded tiny model behind it, every tool call through the
 * daemon's gate, evidence and review queue.
 */
const opts = { temperature: 0, num_predict: 160 };

describe("daemon facade with the ollama client", () => {
  let t: TestAgent;
  let host: string;
  beforeAll(async () => {
    const home = tempHome("fa-facade-");
    writeFileSync(join(home, "policy.yaml"), FACADE_POLICY);
    t = await startTestAgent(
      { backend: "llama", policy: join(home, "policy.yaml"), facade: { listen: "127.0.0.1:0" } },
      home,
    );
    host = `http://${t.agent.facadeAddress}`;
  });
  afterAll(async () => {
    await t.stop();
  });
  const client = (session: string) => new Ollama({ host, headers: { "x-forge-session": session } });

  it("generates, streaming and not, and leaves inference records", async () => {
    const c = client("f-gen");
    const whole = await c.generate({ model: "", prompt: "hello", options: { num_predict: 8 } });
    expect(whole.done).toBe(true);
    expect(whole.eval_count).toBeGreaterThan(0);
    let pieces = 0;
    for await (const p of await c.chat({
      model: "",
      messages: [{ role: "user", content: "hi" }],
      options: { num_predict: 8 },
      stream: true,
    })) {
      pieces++;
      if (p.done) expect(p.eval_count).toBeGreaterThan(0);
    }
    expect(pieces).toBeGreaterThan(1);
    const trace = await t.client.get("/v1/sessions/f-gen/trace");
    expect(trace.body.steps.map((s: { kind: string }) => s.kind)).toEqual(["inference", "inference"]);
    // The same facade answers on the Unix socket.
    const v = await t.client.get("/api/version");
    expect(v.status).toBe(200);
    expect(typeof v.body.version).toBe("string");
    const m = await t.client.get("/metrics");
    const tps = Number(/^forge_inference_tokens_per_second (\S+)$/m.exec(m.text)?.[1]);
    expect(tps).toBeGreaterThan(0);
  });

  it("a tool call the gate denies is removed, explained, and recorded as a DENY action", async () => {
    const r = await client("f-deny").chat({
      model: "",
      messages: [{ role: "user", content: "clean up" }],
      tools: [SHELL],
      options: opts,
    });
    expect(r.message.tool_calls ?? []).toHaveLength(0);
    expect(r.message.content).toContain("tool call run_shell denied");
    const steps = (await t.client.get("/v1/sessions/f-deny/trace")).body.steps;
    const action = steps.find((s: { kind: string }) => s.kind === "action");
    expect(action).toMatchObject({
      evaluation: "DENY",
      proposed_action: { kind: "shell", command: "rm -rf ~/projects" },
    });
    expect(action.rules.map((x: { rule_id: string }) => x.rule_id)).toContain("no-rm");
    expect(action.principal).toBe("tcp-loopback");

    const ok = await client("f-allow").chat({
      model: "",
      messages: [{ role: "user", content: "time?" }],
      tools: [CLOCK],
      options: opts,
    });
    expect(ok.message.tool_calls).toEqual([{ function: { name: "get_time", arguments: { zone: "UTC" } } }]);
    const allowed = (await t.client.get("/v1/sessions/f-allow/trace")).body.steps.find(
      (x: { kind: string }) => x.kind === "action",
    );
    expect(allowed).toMatchObject({
      evaluation: "ALLOW",
      state: "final",
      execution_result: { status: "delegated" },
    });
    expect((await t.client.get("/v1/health")).body.actions.pending).toBe(0);
  });

  it("an escalated tool call holds the response until a reviewer approves it on the socket", async () => {
    const pending = client("f-esc").chat({
      model: "",
      messages: [{ role: "user", content: "mail ops" }],
      tools: [EMAIL],
      options: opts,
    });
    const reviews: { action_id: string }[] = await until(
      async () => {
        const r = (await t.client.call("GET", "/v1/reviews", undefined, reviewHeaders(t))).body.reviews;
        return r.length > 0 ? r : undefined;
      },
      "the escalation to be listed",
      30_000,
    );
    expect(reviews).toHaveLength(1);
    // A reviewer in another process, with the review token.
    const a = { body: (await reviewAs(t, reviews[0]!.action_id, "approve", "ok")).view };
    // The facade's client executes and never reports: the record is final at once, "delegated".
    expect(a.body).toMatchObject({
      evaluation: "ALLOW",
      state: "done",
      execution_result: { status: "delegated" },
    });
    expect(a.body.principal_review).toMatchObject({ decision: "approve", reason: "ok" });
    const r = await pending;
    expect(r.message.tool_calls).toEqual([
      { function: { name: "send_email", arguments: { to: "ops@example.com", subject: "status" } } },
    ]);
  });
});

describe("daemon facade without a usable model", () => {
  it("answers 503 FORGE_BACKEND_UNAVAILABLE, keeps gating, and recovers once the model exists", async () => {
    const home = tempHome("fa-facade-missing-");
    const model = join(home, "later.gguf");
    const t = await startTestAgent({ backend: "llama", model }, home);
    try {
      const r = await t.client.get("/api/tags");
      expect(r.status).toBe(503);
      // Ollama's error shape (issue 21): the message in `error`, our code beside it.
      expect(typeof r.body.error).toBe("string");
      expect(r.body.code).toBe("FORGE_BACKEND_UNAVAILABLE");
      const p = await t.client.post("/v1/actions", {
        session_id: "s",
        proposed_action: { kind: "shell", command: "rm -rf /" },
      });
      expect(p.body.evaluation).toBe("DENY");
      writeTinyModel(model);
      const again = await t.client.get("/api/tags");
      expect(again.status).toBe(200);
      expect(again.body.models).toHaveLength(1);
      const none = await startTestAgent({ backend: "none" });
      try {
        expect((await none.client.get("/api/version")).body.code).toBe("FORGE_BACKEND_UNAVAILABLE");
      } finally {
        await none.stop();
      }
    } finally {
      await t.stop();
    }
  });
});
