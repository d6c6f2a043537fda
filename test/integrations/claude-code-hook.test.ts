import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, pendingReview, reviewAs, startTestAgent, type TestAgent, tempHome } from "../agent/helpers.js";
import { runProcess, SHELL_POLICY } from "./fixtures.js";

/**
 * `forge-agent hook claude-code` as Claude Code runs it: a child process per event, the hook JSON
 * on stdin in the documented PreToolUse / PostToolUse shapes, against a real daemon on its socket.
 */

interface Out {
  code: number | null;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: the hook's JSON answer, read by shape
  json: any;
}

async function runHook(input: unknown, socket: string, args: string[] = []): Promise<Out> {
  const stdin = typeof input === "string" ? input : JSON.stringify(input);
  const r = await runProcess(process.execPath, [CLI, "hook", "claude-code", "--socket", socket, ...args], {
    stdin,
  });
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { ...r, json };
}

const pre = (tool_name: string, tool_input: Record<string, unknown>, session = "cc-1") => ({
  session_id: session,
  transcript_path: "/tmp/transcript.jsonl",
  cwd: "/work/project",
  permission_mode: "default",
  hook_event_name: "PreToolUse",
  tool_name,
  tool_input,
  tool_use_id: `toolu_${Math.random().toString(36).slice(2)}`,
});

describe("forge-agent hook claude-code", () => {
  let t: TestAgent;
  beforeAll(async () => {
    const home = tempHome("fa-hook-");
    writeFileSync(join(home, "policy.yaml"), SHELL_POLICY);
    t = await startTestAgent({ policy: join(home, "policy.yaml") }, home);
  });
  afterAll(async () => {
    await t.stop();
  });
  const decisionOf = (o: Out) => o.json?.hookSpecificOutput?.permissionDecision;

  it("PreToolUse Bash: allow and deny in the documented output form, each a recorded action", async () => {
    const ok = await runHook(pre("Bash", { command: "echo hi", description: "say hi" }), t.agent.socketPath);
    expect(ok.code).toBe(0);
    expect(ok.json.hookSpecificOutput).toMatchObject({
      hookEventName: "PreToolUse",
      permissionDecision: "allow",
    });
    const no = await runHook(pre("Bash", { command: "rm -rf ~/projects" }), t.agent.socketPath);
    expect(no.code).toBe(0);
    expect(decisionOf(no)).toBe("deny");
    expect(no.json.hookSpecificOutput.permissionDecisionReason).toMatch(/DENY \(no-rm\).*\[action /);
    const steps = (await t.client.get("/v1/sessions/claude-code-cc-1/trace")).body.steps;
    const byCommand = (c: string) =>
      steps.find((s: { proposed_action: { command: string } }) => s.proposed_action.command === c);
    expect(steps).toHaveLength(2);
    expect(byCommand("echo hi")).toMatchObject({ evaluation: "ALLOW", state: "allowed" });
    expect(byCommand("rm -rf ~/projects")).toMatchObject({ evaluation: "DENY", state: "final" });
  });

  it("maps Read, Write, Edit, WebFetch and mcp__ tools onto file.read, file.write, http and tool", async () => {
    const s = "cc-map";
    expect(
      decisionOf(await runHook(pre("Read", { file_path: "/work/project/a.ts" }, s), t.agent.socketPath)),
    ).toBe("allow");
    expect(
      decisionOf(
        await runHook(pre("Write", { file_path: "/work/project/b.ts", content: "x" }, s), t.agent.socketPath),
      ),
    ).toBe("deny");
    expect(
      decisionOf(
        await runHook(
          pre("Edit", { file_path: "c.ts", old_string: "a", new_string: "b" }, s),
          t.agent.socketPath,
        ),
      ),
    ).toBe("deny");
    expect(
      decisionOf(
        await runHook(
          pre("WebFetch", { url: "https://example.com/x", prompt: "summarize" }, s),
          t.agent.socketPath,
        ),
      ),
    ).toBe("deny");
    expect(
      decisionOf(
        await runHook(pre("mcp__fs__read_file", { path: "/work/project/a.ts" }, s), t.agent.socketPath),
      ),
    ).toBe("allow");
    const kinds = (await t.client.get(`/v1/sessions/claude-code-${s}/trace`)).body.steps.map(
      (x: { proposed_action: { kind: string; path?: string; name?: string } }) => x.proposed_action,
    );
    expect(kinds).toHaveLength(5);
    expect(kinds).toEqual(
      expect.arrayContaining([
        { kind: "file.read", path: "/work/project/a.ts" },
        expect.objectContaining({
          kind: "file.write",
          path: "/work/project/b.ts",
          content_sha256: expect.any(String),
        }),
        expect.objectContaining({ kind: "file.write", path: "/work/project/c.ts" }),
        expect.objectContaining({ kind: "http", method: "GET", url: "https://example.com/x" }),
        expect.objectContaining({ kind: "tool", name: "mcp__fs__read_file" }),
      ]),
    );
  });

  it("PostToolUse reports the result to the allowed action, which becomes final with it", async () => {
    const input = pre("Bash", { command: "echo done" }, "cc-post");
    expect(decisionOf(await runHook(input, t.agent.socketPath))).toBe("allow");
    const before = (await t.client.get("/v1/sessions/claude-code-cc-post/trace")).body.steps[0];
    expect(before.state).toBe("allowed");
    const post = await runHook(
      {
        ...input,
        hook_event_name: "PostToolUse",
        tool_response: { stdout: "done\n", stderr: "", interrupted: false },
      },
      t.agent.socketPath,
    );
    expect(post.code).toBe(0);
    expect(post.stderr).toContain(`result of ${before.action_id} recorded`);
    const after = (await t.client.get("/v1/sessions/claude-code-cc-post/trace")).body.steps[0];
    expect(after).toMatchObject({
      action_id: before.action_id,
      state: "final",
      execution_result: {
        status: "reported",
        result: expect.objectContaining({
          status: "ok",
          reported_by: "claude-code PostToolUse",
          tool_response_bytes: 51,
        }),
      },
    });
  });

  it("ESCALATE: ask by default; with --escalate wait it holds until a reviewer decides", async () => {
    const ask = await runHook(pre("Bash", { command: "deploy prod" }, "cc-esc"), t.agent.socketPath);
    expect(decisionOf(ask)).toBe("ask");
    expect(ask.json.hookSpecificOutput.permissionDecisionReason).toContain("forge-agent review");

    const held = runHook(pre("Bash", { command: "deploy staging" }, "cc-wait"), t.agent.socketPath, [
      "--escalate",
      "wait",
    ]);
    const review = await pendingReview(t, "claude-code-cc-wait", "the hook's escalation in the review queue");
    // A reviewer is another process holding the review token (never the proposer's connection).
    const approved = await reviewAs(t, review.action_id, "approve", "go");
    expect(approved.view).toMatchObject({ evaluation: "ALLOW" });
    const out = await held;
    expect(decisionOf(out)).toBe("allow");
    expect(out.json.hookSpecificOutput.permissionDecisionReason).toContain("approve");
  });

  it("fails closed: the daemon down, malformed input, an unmappable call", async () => {
    const down = await runHook(pre("Bash", { command: "echo hi" }), join(t.home, "nothing.sock"));
    expect(down.code).toBe(0);
    expect(decisionOf(down)).toBe("deny");
    expect(down.json.hookSpecificOutput.permissionDecisionReason).toMatch(/not running.*forge-agent run/);
    const junk = await runHook("{not json", t.agent.socketPath);
    expect(decisionOf(junk)).toBe("deny");
    expect(junk.json.hookSpecificOutput.permissionDecisionReason).toContain("not JSON");
    const shape = await runHook({ hook_event_name: "PreToolUse" }, t.agent.socketPath);
    expect(decisionOf(shape)).toBe("deny");
    const bad = await runHook(pre("Bash", { description: "no command" }), t.agent.socketPath);
    expect(decisionOf(bad)).toBe("deny");
    expect(bad.json.hookSpecificOutput.permissionDecisionReason).toContain("cannot judge this Bash call");
  });
});
