import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { desktopNotifier } from "../../src/cli/notify.js";
import { formatDuration, printable, resultLines } from "../../src/cli/review-view.js";
import {
  type AgentProcess,
  CLI,
  callFromChild,
  FIXTURE_POLICY,
  REPO,
  shell,
  spawnAgentProcess,
  stopAgentProcess,
  tempHome,
  tokenHeader,
} from "../agent/helpers.js";
import { missing } from "../support/tools.js";
import { until } from "../support/wait.js";

describe("review output", () => {
  it("shows an action's control characters instead of sending them to the terminal", () => {
    expect(printable("ok\u001b]0;owned\u0007\u001b[2J\tend\n")).toBe("ok\\x1b]0;owned\\x07\\x1b[2J\tend\n");
    const lines = resultLines({
      status: "ok",
      exit_code: 0,
      duration_ms: 3,
      stdout: { excerpt: "a\u001b[1Ab\n" },
    });
    expect(lines).toEqual(["result: ok exit 0 in 3 ms", "stdout:", "  a\\x1b[1Ab"]);
  });

  it("formats durations for people", () => {
    expect([
      formatDuration(-5),
      formatDuration(42_900),
      formatDuration(185_000),
      formatDuration(7_800_000),
    ]).toEqual(["0s", "42s", "3m 05s", "2h 10m"]);
  });
});

describe("desktopNotifier", () => {
  it("passes the text as argv: notify-send after '--' on Linux, osascript's run argv on macOS", async () => {
    const calls: [string, string[]][] = [];
    const run = async (file: string, args: string[]) => {
      calls.push([file, args]);
      return true;
    };
    const body = '--help"; do shell script "touch /tmp/pwned';
    await desktopNotifier("linux", run)!("title", body);
    await desktopNotifier("darwin", run)!("title", body);
    expect(calls[0]).toEqual(["notify-send", ["--app-name=forge-agent", "--", "title", body]]);
    // The body is an argument of the script, never part of its source.
    expect(calls[1]![0]).toBe("osascript");
    expect(calls[1]![1].slice(-2)).toEqual(["title", body]);
    expect(calls[1]![1].slice(0, -2).join(" ")).not.toContain("pwned");
    expect(desktopNotifier("win32", run)).toBeNull();
  });
});

/**
 * `forge-agent review watch` as a reviewer runs it: in a terminal (tmux), against a real agent
 * process, with proposals from other processes. Keys go in with send-keys; the screen is read with
 * capture-pane.
 */
describe.skipIf(missing("tmux"))("forge-agent review watch under tmux", () => {
  const running = new Set<AgentProcess>();
  let home: string;
  let agent: AgentProcess;
  let tmuxSock: string;
  const session = "watch";
  const tmux = (...args: string[]) => execFileSync("tmux", ["-S", tmuxSock, ...args], { encoding: "utf8" });
  const screen = () => tmux("capture-pane", "-p", "-J", "-t", session);
  const sock = () => join(home, "agent.sock");
  const token = () => join(home, "review.token");
  const propose = (command: string, execute = false) =>
    callFromChild(sock(), "POST", "/v1/actions", {
      session_id: "watch",
      proposed_action: shell(command),
      execute,
    });

  beforeAll(async () => {
    if (!existsSync(join(REPO, "dist", "src", "cli", "review-watch.js"))) {
      execFileSync("npx", ["tsc", "-p", "."], { cwd: REPO, stdio: "ignore" });
    }
    home = tempHome("fa-watch-");
    copyFileSync(FIXTURE_POLICY, join(home, "policy.yaml"));
    tmuxSock = join(home, "tmux.sock");
    agent = await spawnAgentProcess(home, ["--host-id", "watch-test"], running);
  });
  afterAll(async () => {
    try {
      tmux("kill-server");
    } catch {
      // already gone: the watch quit and its session ended
    }
    for (const d of [...running]) await stopAgentProcess(d, "SIGKILL", running);
    rmSync(home, { recursive: true, force: true });
  });

  it("lists escalations live, notifies of a new one, approves (showing the executed result) and denies by key", async () => {
    // A notify-send on PATH that records its argv, one argument a line, one call a block.
    const bin = join(home, "bin");
    mkdirSync(bin);
    const calls = join(home, "notify-calls");
    writeFileSync(
      join(bin, "notify-send"),
      `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done >> '${calls}'\necho --- >> '${calls}'\n`,
    );
    chmodSync(join(bin, "notify-send"), 0o755);

    const first = await propose("deploy prod || printf 'ran-%s\\n' ok", true);
    expect(first.body.state).toBe("escalated");

    const cmd = [
      `PATH='${bin}':"$PATH"`,
      "exec",
      `'${process.execPath}'`,
      `'${CLI}'`,
      "review watch --notify --interval-ms 100",
      `--socket '${sock()}' --token-file '${token()}'`,
    ].join(" ");
    tmux("new-session", "-d", "-s", session, "-x", "200", "-y", "50", cmd);
    await until(
      () => screen().includes("1 pending"),
      () => `the first escalation on screen:\n${screen()}`,
    );
    expect(screen()).toContain(first.body.action_id);
    expect(screen()).toContain("shell: deploy prod || printf 'ran-%s\\n' ok");

    // A second escalation appears without a key press, and is announced on the desktop.
    const second = await propose("deploy staging");
    await until(
      () => screen().includes("2 pending"),
      () => `the second escalation on screen:\n${screen()}`,
    );
    expect(screen()).toContain(second.body.action_id);
    await until(() => existsSync(calls) && readFileSync(calls, "utf8").includes("---"), "notify-send to run");
    expect(readFileSync(calls, "utf8").split("\n")).toEqual([
      "--app-name=forge-agent",
      "--",
      `forge-agent: review ${second.body.action_id.slice(0, 8)}`,
      "shell: deploy staging",
      "---",
      "",
    ]);

    // The selection starts on the oldest: approve it, and the screen shows what it printed.
    tmux("send-keys", "-t", session, "a");
    await until(
      () => screen().includes("ran-ok"),
      () => `the executed result on screen:\n${screen()}`,
    );
    expect(screen()).toContain(`${first.body.action_id}: approved (now ALLOW, done)`);
    expect(screen()).toMatch(/result: ok exit 0 in \d+/);
    expect(screen()).toContain("1 pending");

    tmux("send-keys", "-t", session, "d");
    await until(
      () => screen().includes("0 pending"),
      () => `the denial on screen:\n${screen()}`,
    );
    expect(screen()).toContain(`${second.body.action_id}: denied (now DENY, done)`);

    // Both decisions are the reviewer's, recorded by the agent.
    const a = await agent.client.get(`/v1/actions/${first.body.action_id}`);
    expect(a.body).toMatchObject({
      state: "done",
      evaluation: "ALLOW",
      principal_review: { decision: "approve" },
    });
    const d = await agent.client.get(`/v1/actions/${second.body.action_id}`);
    expect(d.body).toMatchObject({
      state: "done",
      evaluation: "DENY",
      principal_review: { decision: "deny" },
    });
    const left = await agent.client.call("GET", "/v1/reviews", undefined, tokenHeader(token()));
    expect(left.body.reviews).toEqual([]);

    // q quits: the watch exits and its tmux session ends.
    tmux("send-keys", "-t", session, "q");
    await until(() => {
      try {
        tmux("has-session", "-t", session);
        return false;
      } catch {
        return true;
      }
    }, "the watch to quit");
  });

  it("review approve shows what an executed action did", async () => {
    const esc = await propose("deploy prod || printf 'approved-%s\\n' ran", true);
    const out = execFileSync(
      process.execPath,
      [
        CLI,
        "review",
        "approve",
        esc.body.action_id.slice(0, 13),
        "--socket",
        sock(),
        "--token-file",
        token(),
      ],
      { encoding: "utf8" },
    );
    expect(out).toContain(`${esc.body.action_id}: approved (now ALLOW, done)`);
    expect(out).toMatch(/ {2}result: ok exit 0 in \d+/);
    expect(out).toContain("  stdout:\n    approved-ran\n");
  });

  it("refuses to run without a terminal", () => {
    let err: { status?: number; stderr?: string } = {};
    try {
      execFileSync(process.execPath, [CLI, "review", "watch", "--socket", sock(), "--token-file", token()], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.status).toBe(2);
    expect(err.stderr).toContain("review watch needs a terminal");
  });
});
