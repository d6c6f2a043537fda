import { execFile, execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { sessionProfile } from "../../src/agent/actions.js";
import { execute } from "../../src/agent/executors/index.js";
import { Sandbox } from "../../src/agent/sandbox/index.js";
import { EvidenceStore } from "../../src/evidence/index.js";
import type { Action } from "../../src/gate/actions.js";
import { BUILTIN_PROFILE } from "../../src/gate/sandbox-profile.js";
import { until } from "../support/wait.js";
import {
  type AgentProcess,
  CLI,
  callFromChild,
  proposeFromChild,
  REPO,
  reviewAs,
  shell,
  spawnAgentProcess,
  startTestAgent,
  stopAgentProcess,
  type TestAgent,
  tempHome,
} from "./helpers.js";
import { BWRAP_CONFIG, profile, testLimits } from "./sandbox-fixtures.js";

/**
 * Issue 19 §3, through a real daemon and its Unix socket: the caller declares a session's
 * workspace (POST /v1/sessions/:id/workspace); that session's actions are judged and run there.
 */
const PACK = join(REPO, "policies", "default.yaml");
const bwrap = (() => {
  try {
    execFileSync("bwrap", ["--ro-bind", "/", "/", "true"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

let work: string;
let t: TestAgent | undefined;
const outside = tempHome("fa-ws-outside-");

async function start(config: Record<string, unknown> = {}) {
  t = await startTestAgent({ policy: PACK, ...config }, work);
  return t;
}
/** Stops the agent but keeps its home (startTestAgent's stop() removes it). */
async function close() {
  t!.client.close();
  await t!.agent.close();
  t = undefined;
}
/** From a separate process, as a harness would (the test process is the in-process agent itself). */
const declare = (session: string, roots: string[]) =>
  callFromChild(t!.agent.socketPath, "POST", `/v1/sessions/${encodeURIComponent(session)}/workspace`, {
    roots,
  });
const propose = async (session: string, action: Record<string, unknown>, execute = false) => {
  const r = await t!.client.call("POST", "/v1/actions", {
    session_id: session,
    proposed_action: action,
    execute,
  });
  expect(r.status).toBe(200);
  return r.body as { action_id: string; evaluation: string; reasons: string[]; state: string };
};

beforeAll(() => {
  // Not under /tmp: the pack allows writes anywhere in /tmp, which would hide the narrowing.
  work = mkdtempSync("/var/tmp/fa-ws-");
  for (const d of ["a", "b"]) mkdirSync(join(work, d));
  symlinkSync(outside, join(work, "escape"));
});
afterAll(async () => {
  if (t) await close();
  rmSync(work, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe("POST /v1/sessions/:id/workspace", () => {
  it("narrows what the session may do: a write in its root is ALLOW, elsewhere in the configured root it is not", async () => {
    await start();
    // Before: another session may write anywhere in the configured workspace.
    const other = await propose("s-free", {
      kind: "file.write",
      path: join(work, "b", "x.txt"),
      content: "x",
    });
    expect(other.evaluation).toBe("ALLOW");

    const d = await declare("s-a", [join(work, "a")]);
    expect(d.status).toBe(200);
    expect(d.body.roots).toEqual([join(work, "a")]);
    const inRoot = await propose("s-a", { kind: "file.write", path: join(work, "a", "x.txt"), content: "x" });
    expect(inRoot.evaluation).toBe("ALLOW");
    const elsewhere = await propose("s-a", {
      kind: "file.write",
      path: join(work, "b", "x.txt"),
      content: "x",
    });
    expect(elsewhere.evaluation).not.toBe("ALLOW");
    const shellElsewhere = await propose("s-a", shell(`touch ${join(work, "b", "y")}`));
    expect(shellElsewhere.evaluation).not.toBe("ALLOW");
    // A relative path and a cwd-less shell line mean the session's root, for the gate and the executor.
    const rel = await propose("s-a", shell("touch made-here"), true);
    expect(rel.evaluation).toBe("ALLOW");
    await until(
      async () => (await t!.client.get(`/v1/actions/${rel.action_id}`)).body.state === "done",
      "run",
    );
    expect(existsSync(join(work, "a", "made-here"))).toBe(true);
    expect(existsSync(join(work, "made-here"))).toBe(false);
    // The evidence: a `policy` record in the session's own trace, naming the roots and the caller.
    const trace = (await t!.client.get("/v1/sessions/s-a/trace")).body;
    const rec = JSON.stringify(trace);
    expect(rec).toContain("session.workspace");
    // The state view shows it.
    const st = (await t!.client.get("/v1/gate/state?session=s-a")).body;
    expect(st.sessions[0].workspaces).toEqual([join(work, "a")]);
  });

  it("refuses a root outside the configured roots, a symlink leading out, a missing one, naming it; nothing changes", async () => {
    for (const [root, named] of [
      [outside, outside],
      [join(work, "escape"), join(work, "escape")],
      [join(work, "nope"), join(work, "nope")],
    ] as const) {
      const r = await declare("s-out", [join(work, "a"), root]);
      expect({ root, status: r.status, code: r.body.error?.code }).toEqual({
        root,
        status: 400,
        code: "FORGE_WORKSPACE_OUTSIDE",
      });
      expect(r.body.error.message).toContain(named);
    }
    // Nothing was registered: the session still has the configured roots, and can still declare.
    const st = (await t!.client.get("/v1/gate/state?session=s-out")).body;
    expect(st.sessions.find((s: { key: string }) => s.key === "s-out")?.workspaces).toBeUndefined();
    expect((await declare("s-out", [join(work, "b")])).status).toBe(200);
  });

  it("is declared once, before the session's first action: no later declaration widens it", async () => {
    const again = await declare("s-a", [work]);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("FORGE_CONFLICT");
    await propose("s-late", shell("echo hi"));
    const late = await declare("s-late", [join(work, "a")]);
    expect(late.status).toBe(409);
    expect(late.body.error.message).toMatch(/before its first action/);
    // Bad bodies keep the API's codes.
    expect((await declare("s-x", [])).body.error.code).toBe("FORGE_BAD_REQUEST");
    expect((await declare("s-x", ["relative/dir"])).body.error.code).toBe("FORGE_BAD_REQUEST");
  });

  it("an executed action cannot declare or widen one (it descends from the agent)", async () => {
    await close();
    // Unconfined, so the socket is reachable from the action: the API's own refusal is what is tested.
    await start({ sandbox: { engine: "off", on_unavailable: "unconfined" } });
    const sock = t!.agent.socketPath;
    const js = `const r = require("http").request({ socketPath: ${JSON.stringify(sock)}, method: "POST", path: "/v1/sessions/s-a/workspace" }, (x) => { let s = ""; x.on("data", (c) => (s += c)); x.on("end", () => console.log(x.statusCode, s)); }); r.end(JSON.stringify({ roots: [${JSON.stringify(work)}] }));`;
    writeFileSync(join(work, "a", "widen.js"), js);
    writeFileSync(join(work, "a", "fresh.js"), js.replace("s-a", "s-fresh"));
    for (const [session, script] of [
      ["s-a", "widen.js"],
      ["s-a", "fresh.js"],
    ]) {
      const run = await propose(session!, shell(`node ${script}`), true);
      expect(run.evaluation).toBe("ALLOW");
      const done = await until(async () => {
        const v = (await t!.client.get(`/v1/actions/${run.action_id}`)).body;
        return v.state === "done" ? v : undefined;
      }, "run");
      expect(done.execution_result.stdout.excerpt, JSON.stringify(done.execution_result)).toMatch(
        /^403 .*FORGE_SELF_REVIEW/,
      );
    }
    const st = (await t!.client.get("/v1/gate/state")).body;
    expect(st.sessions.find((s: { key: string }) => s.key === "s-a").workspaces).toEqual([join(work, "a")]);
    expect(st.sessions.find((s: { key: string }) => s.key === "s-fresh")).toBeUndefined();
  });

  it("survives a restart: the session is judged against its roots after it, and still cannot re-declare", async () => {
    await close();
    await start();
    const elsewhere = await propose("s-a", {
      kind: "file.write",
      path: join(work, "b", "z.txt"),
      content: "x",
    });
    expect(elsewhere.evaluation).not.toBe("ALLOW");
    const inRoot = await propose("s-a", { kind: "file.write", path: join(work, "a", "z.txt"), content: "x" });
    expect(inRoot.evaluation).toBe("ALLOW");
    expect((await declare("s-a", [work])).status).toBe(409);
    const saved = JSON.parse(readFileSync(join(work, "var", "gate-state.json"), "utf8"));
    expect(saved.sessions.find((s: { key: string }) => s.key === "s-a").workspaces).toEqual([
      join(work, "a"),
    ]);
  });

  it.skipIf(!bwrap)(
    "the sandbox's write roots follow the session: an approved line writing elsewhere in the configured root fails",
    async () => {
      await declare("s-box", [join(work, "a")]);
      // A path the gate cannot read statically: escalated; the reviewer approves it anyway.
      // Proposed from another process: the reviewer must not run under the proposer.
      const p = (
        await proposeFromChild(t!, {
          session_id: "s-box",
          proposed_action: shell("touch $(echo ../b)/boxed; touch ok-boxed"),
          execute: true,
        })
      ).body as { action_id: string; evaluation: string };
      expect(p.evaluation).toBe("ESCALATE");
      const rv = await reviewAs(t!, p.action_id, "approve");
      expect(rv.code, rv.stderr).toBe(0);
      const done = await until(async () => {
        const v = (await t!.client.get(`/v1/actions/${p.action_id}`)).body;
        return v.state === "done" ? v : undefined;
      }, "run");
      expect(done.execution_result.stderr.excerpt).toMatch(/Read-only file system|Permission denied/);
      expect(existsSync(join(work, "b", "boxed"))).toBe(false);
      expect(existsSync(join(work, "a", "ok-boxed"))).toBe(true);
    },
  );

  it("an action sent while the declaration's record is being written waits for it and is judged against the declared roots; if it fails, DENY", async () => {
    if (!t) await start();
    // The seam: the real store's append, held back for the declaration's `policy` record only.
    const orig = EvidenceStore.prototype.append;
    let release: ((fail: boolean) => void) | undefined;
    let entered = () => {};
    const spy = vi.spyOn(EvidenceStore.prototype, "append").mockImplementation(async function (
      this: EvidenceStore,
      rec,
    ) {
      if ((rec.proposed_action as { kind?: string } | null)?.kind === "session.workspace") {
        const fail = await new Promise<boolean>((r) => {
          release = r;
          entered();
        });
        if (fail) throw new Error("held-back append refused");
      }
      return orig.call(this, rec);
    });
    try {
      for (const fail of [false, true]) {
        const session = fail ? "s-race-fail" : "s-race";
        const inAppend = new Promise<void>((r) => {
          entered = r;
        });
        const declared = declare(session, [join(work, "a")]);
        await inAppend;
        // Sent on the socket while the record is held: elsewhere in the configured root, and in it.
        const elsewhere = t!.client.call("POST", "/v1/actions", {
          session_id: session,
          proposed_action: { kind: "file.write", path: join(work, "b", "race.txt"), content: "x" },
        });
        const inRoot = t!.client.call("POST", "/v1/actions", {
          session_id: session,
          proposed_action: { kind: "file.write", path: join(work, "a", "race.txt"), content: "x" },
        });
        // A second declaration racing the first: the existing 409.
        const second = await declare(session, [join(work, "b")]);
        expect(second.status).toBe(409);
        release!(fail);
        const d = await declared;
        const [e, i] = [(await elsewhere).body, (await inRoot).body];
        if (!fail) {
          expect(d.status).toBe(200);
          expect(e.evaluation).not.toBe("ALLOW");
          expect(i.evaluation).toBe("ALLOW");
          // Judged after the declaration: its record comes first in the session's trace.
          const kinds = (await t!.client.get(`/v1/sessions/${session}/trace`)).body;
          const txt = JSON.stringify(kinds);
          expect(txt.indexOf("session.workspace")).toBeLessThan(txt.indexOf("race.txt"));
        } else {
          expect(d.status).toBeGreaterThanOrEqual(500);
          // Nothing registered: never judged against the (wider) configured roots.
          for (const v of [e, i]) {
            expect(v.evaluation).toBe("DENY");
            expect(v.reasons.join()).toMatch(/session-workspace: .*declaration.*failed/);
          }
        }
        release = undefined;
      }
    } finally {
      spy.mockRestore();
    }
  });

  it("`forge-agent session workspace` declares through the socket, prints the roots (--json too), and maps refusals to exit 3", async () => {
    if (!t) await start();
    const cli = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((res) => {
        execFile(
          process.execPath,
          [CLI, "session", "workspace", ...args, "--socket", t!.agent.socketPath],
          { encoding: "utf8", cwd: work },
          (err, stdout, stderr) =>
            res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    // A relative root resolves against the caller's cwd.
    const ok = await cli("s-cli", "a", "--json");
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).roots).toEqual([join(work, "a")]);
    const again = await cli("s-cli", join(work, "b"));
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/FORGE_CONFLICT: refused \(.*new session id\)/);
    const out = await cli("s-cli-2", outside);
    expect(out.code).toBe(3);
    expect(out.stderr).toContain("FORGE_WORKSPACE_OUTSIDE");
    expect(out.stderr).toContain(outside);
    const text = await cli("s-cli-3", join(work, "b"));
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`session s-cli-3: workspace ${join(work, "b")}`));
    const usage = await cli("s-cli-4");
    expect(usage.code).toBe(2);
    const noAgent = await new Promise<number>((res) =>
      execFile(
        process.execPath,
        [CLI, "session", "workspace", "s", work, "--socket", join(work, "none.sock")],
        (err) => res(err ? ((err as { code?: number }).code ?? 1) : 0),
      ),
    );
    expect(noAgent).toBe(1);
  });
});

describe("a real `forge-agent run` SIGKILLed right after the declaration", () => {
  it("keeps the session's workspace: the answer came after the state was saved", async () => {
    const dir = mkdtempSync("/var/tmp/fa-ws-kill-");
    mkdirSync(join(dir, "a"));
    mkdirSync(join(dir, "b"));
    copyFileSync(PACK, join(dir, "policy.yaml"));
    const running = new Set<AgentProcess>();
    const run = () =>
      spawnAgentProcess(
        join(dir, "var"),
        ["--host-id", "ws-kill"],
        running,
        { FORGE_POLICY: join(dir, "policy.yaml") },
        dir,
      );
    try {
      let d = await run();
      const decl = await callFromChild(join(dir, "var", "agent.sock"), "POST", "/v1/sessions/k/workspace", {
        roots: [join(dir, "a")],
      });
      expect(decl.status).toBe(200);
      await stopAgentProcess(d, "SIGKILL", running);
      d = await run();
      const write = (path: string) =>
        d.client.call("POST", "/v1/actions", {
          session_id: "k",
          proposed_action: { kind: "file.write", path, content: "x" },
        });
      expect((await write(join(dir, "b", "x"))).body.evaluation).not.toBe("ALLOW");
      expect((await write(join(dir, "a", "x"))).body.evaluation).toBe("ALLOW");
      // The declaration is in the evidence, in the session.
      const trace = JSON.stringify((await d.client.get("/v1/sessions/k/trace")).body);
      expect(trace).toContain("session.workspace");
      await stopAgentProcess(d, "SIGTERM", running);
    } finally {
      for (const d of running) d.proc.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("sessionProfile", () => {
  it("maps $WORKSPACE write roots and hides to every session root; other entries stay", () => {
    const base = {
      ...BUILTIN_PROFILE,
      write: ["$WORKSPACE", "$TMP", "$WORKSPACE/out"],
      deny_read: ["$WORKSPACE/.env"],
    };
    const p = sessionProfile(base, ["/w/a", "/w/c"]);
    expect(p.write).toEqual(["/w/a", "/w/c", "$TMP", "/w/a/out", "/w/c/out"]);
    expect(p.deny_read).toEqual(["$WORKSPACE/.env", "/w/a/.env", "/w/c/.env"]);
    expect(sessionProfile(base, null)).toBe(base);
  });

  it("narrows absolute write roots to the session's: one inside stays, one holding them becomes them, others go", () => {
    const base = { ...BUILTIN_PROFILE, write: ["/w", "/w/a/out/", "/w/b", "/elsewhere", "$TMP"] };
    expect(sessionProfile(base, ["/w/a", "/w/c"]).write).toEqual(["/w/a", "/w/c", "/w/a/out", "$TMP"]);
    expect(sessionProfile({ ...base, write: ["/"] }, ["/w/a"]).write).toEqual(["/w/a"]);
  });

  it.skipIf(!bwrap)(
    "under real bubblewrap, a declared session writes only inside its roots, whatever absolute roots the profile names",
    async () => {
      const dir = mkdtempSync("/var/tmp/fa-ws-abs-");
      try {
        for (const d of ["a", "b"]) mkdirSync(join(dir, d));
        const sb = new Sandbox(BWRAP_CONFIG, { workspace: dir, home: dir, protect: [], readOnly: [] });
        // The profile names the configured root and a sibling by absolute path: wider than the session.
        const wide = profile({ write: [dir, join(dir, "b"), "$TMP"] });
        const line = `touch ${join(dir, "a", "in")}; touch ${join(dir, "b", "out")}; touch ${join(dir, "top")}; echo done`;
        const r = await execute(
          shell(line, { cwd: join(dir, "a") }) as Action,
          testLimits(join(dir, "a"), dir),
          {
            sandbox: sb,
            name: "abs",
            profile: sessionProfile(wide, [join(dir, "a")]),
          },
        );
        expect(r.status, JSON.stringify(r)).toBe("ok");
        expect(existsSync(join(dir, "a", "in"))).toBe(true);
        expect(existsSync(join(dir, "b", "out"))).toBe(false);
        expect(existsSync(join(dir, "top"))).toBe(false);
        expect(JSON.stringify(r)).toMatch(/Read-only file system|Permission denied/);
        await sb.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
