import { execFileSync } from "node:child_process";
import { closeSync, copyFileSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { processLogger } from "../../src/platform/log.js";
import { missing } from "../support/tools.js";
import { until } from "../support/wait.js";
import {
  type AgentProcess,
  CLI,
  callFromChild,
  FIXTURE_POLICY,
  shell,
  spawnAgentProcess,
  stopAgentProcess,
  tempHome,
} from "./helpers.js";

const homes: string[] = [];
const running = new Set<AgentProcess>();
afterAll(async () => {
  for (const d of [...running]) await stopAgentProcess(d, "SIGKILL", running);
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

function newHome(): string {
  const home = tempHome("fa-log-");
  homes.push(home);
  copyFileSync(FIXTURE_POLICY, join(home, "policy.yaml"));
  return home;
}

describe("processLogger", () => {
  it("writes JSON lines to a file and pretty lines when asked", () => {
    const home = newHome();
    for (const format of ["auto", "json", "pretty"] as const) {
      const file = join(home, `${format}.log`);
      const fd = openSync(file, "w");
      processLogger({ base: { host_id: "h" } }, fd, format, false).info(
        { verdict: "ALLOW" },
        "ALLOW shell: ls",
      );
      closeSync(fd);
      const text = readFileSync(file, "utf8");
      if (format === "pretty") {
        expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: ALLOW shell: ls \{"verdict":"ALLOW"\}\n$/);
      } else {
        expect(JSON.parse(text)).toMatchObject({
          level: 30,
          host_id: "h",
          verdict: "ALLOW",
          msg: "ALLOW shell: ls",
        });
      }
    }
  });
});

describe("the agent's decision log", () => {
  it("logs each decision at info as JSON when stdout is not a terminal: verdict, rule and the action", async () => {
    const home = newHome();
    const a = await spawnAgentProcess(home, ["--host-id", "log-test"], running);
    const sock = join(home, "agent.sock");
    await callFromChild(sock, "POST", "/v1/actions", {
      session_id: "log",
      proposed_action: shell("echo hi"),
    });
    await callFromChild(sock, "POST", "/v1/actions", {
      session_id: "log",
      proposed_action: shell("rm -rf /tmp/x"),
    });
    const lines = () =>
      a.out
        .join("")
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l))
        .filter((l) => l.decision === "gate");
    await until(
      () => lines().length === 2,
      () => `two decision lines in ${a.out.join("")}`,
    );
    expect(lines()).toMatchObject([
      { level: 30, verdict: "ALLOW", rule: "allow-harmless", action: "shell: echo hi", session_id: "log" },
      {
        level: 30,
        verdict: "DENY",
        rule: "deny-rm",
        action: "shell: rm -rf /tmp/x",
        msg: "DENY shell: rm -rf /tmp/x (rule deny-rm)",
      },
    ]);
    await stopAgentProcess(a, "SIGTERM", running);
  });

  it.skipIf(missing("tmux"))("is human-readable on a terminal (tmux)", async () => {
    const home = newHome();
    const tmuxSock = join(home, "tmux.sock");
    const tmux = (...args: string[]) => execFileSync("tmux", ["-S", tmuxSock, ...args], { encoding: "utf8" });
    const sock = join(home, "agent.sock");
    const cmd = `FORGE_POLICY='${join(home, "policy.yaml")}' exec '${process.execPath}' '${CLI}' run --home '${home}' --backend none --host-id log-tty`;
    tmux("new-session", "-d", "-s", "agent", "-x", "200", "-y", "50", cmd);
    // The pane's process is the agent (exec): tmux's kill-server sends it SIGHUP, which the agent
    // takes as "reload the policy", so it is stopped by its pid as well.
    const pid = Number(tmux("display-message", "-p", "-t", "agent", "#{pane_pid}").trim());
    try {
      await until(
        async () => (await callFromChild(sock, "GET", "/v1/health")).status === 200,
        "the agent on the terminal",
      );
      await callFromChild(sock, "POST", "/v1/actions", {
        session_id: "tty",
        proposed_action: shell("deploy prod"),
      });
      const screen = () => tmux("capture-pane", "-p", "-J", "-t", "agent");
      await until(
        () => screen().includes("ESCALATE shell: deploy prod"),
        () => `the decision line:\n${screen()}`,
      );
      const line = screen()
        .split("\n")
        .find((l) => l.includes("ESCALATE shell: deploy prod"))!;
      expect(line).toMatch(
        /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: ESCALATE shell: deploy prod \(rule escalate-deploy\)/,
      );
      expect(screen()).not.toMatch(/^\{"level"/m);
    } finally {
      tmux("kill-server");
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
});
