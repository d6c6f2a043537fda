import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { shell, tokenHeader } from "../agent/helpers.js";
import { until } from "../support/wait.js";
import {
  type AgentProc,
  type CollectorProc,
  ensureBuilt,
  http,
  startAgentProcess,
  startCollectorProcess,
  stopsAfterAll,
  tempDir,
} from "./helpers.js";

/**
 * Issue 20, "decisions reach the cluster in seconds": an ALLOW the agent does not execute stays a
 * pending row until its caller reports or its deadline passes; the decision itself must be at the
 * collector within the shipping latency, once, and stay there if the host is lost.
 */

const stops = stopsAfterAll();

type Decision = { host_id: string; action_id: string; state: string; record: { evaluation: string } };
const decisions = async (c: CollectorProc, host: string) =>
  (await http("GET", `${c.http}/v1/decisions?host_id=${host}`)).body.decisions as Decision[];

describe("pending decisions at the collector", () => {
  it("a non-executed ALLOW and an ESCALATE are at the collector before they are final, each once, across reconnects, and outlive the host", async () => {
    ensureBuilt();
    const dir = tempDir("fa-decisions-");
    let collector = await startCollectorProcess(dir);
    stops.push(() => collector.stop());
    const port = new URL(collector.url).port;
    const agent: AgentProc = await startAgentProcess("dec-a", {
      collector_url: collector.url,
      heartbeat_ms: 500,
    });
    stops.push(() => agent.stop());
    await until(
      async () => (await agent.client.get("/v1/health")).body.collector?.connected === true,
      "connected",
    );

    const propose = async (command: string) => {
      const r = await agent.client.post("/v1/actions", {
        session_id: "dec",
        proposed_action: shell(command),
      });
      return { id: r.body.action_id as string, evaluation: r.body.evaluation as string, state: r.body.state };
    };
    // The escalation is proposed by another process, so this one may review it below (no self-review).
    const proposeFromChild = (command: string) => {
      const script = `const r = require("node:http").request({ socketPath: process.argv[1], path: "/v1/actions", method: "POST", headers: { "content-type": "application/json" } }, (res) => { let b = ""; res.on("data", (c) => (b += c)); res.on("end", () => process.stdout.write(b)); }); r.end(JSON.stringify({ session_id: "dec", proposed_action: { kind: "shell", command: process.argv[2] } }));`;
      const r = spawnSync(process.execPath, ["-e", script, join(agent.home, "var", "agent.sock"), command], {
        encoding: "utf8",
      });
      const body = JSON.parse(r.stdout);
      return { id: body.action_id as string, evaluation: body.evaluation as string, state: body.state };
    };
    const owed = [await propose("echo one"), await propose("ls"), proposeFromChild("deploy prod")];
    expect(owed.map((o) => o.evaluation)).toEqual(["ALLOW", "ALLOW", "ESCALATE"]);
    // None of them is final: no record of them at the collector yet.
    const records = (await http("GET", `${collector.http}/v1/records?host_id=dec-a&session_id=dec`)).body
      .records;
    expect(records).toEqual([]);
    const got = await until(async () => {
      const d = await decisions(collector, "dec-a");
      return d.length >= owed.length ? d : undefined;
    }, "the pending decisions at the collector");
    expect(got.map((d) => d.action_id).sort()).toEqual(owed.map((o) => o.id).sort());
    expect(Object.fromEntries(got.map((d) => [d.action_id, d.record.evaluation]))).toEqual(
      Object.fromEntries(owed.map((o) => [o.id, o.evaluation])),
    );

    // The escalation is approved on the host (now allowed, executing): the collector's copy follows.
    const escalated = owed[2]!.id;
    expect(got.find((d) => d.action_id === escalated)?.state).toBe("escalated");
    const approve = await agent.client.call(
      "POST",
      `/v1/reviews/${escalated}`,
      { decision: "approve" },
      tokenHeader(join(agent.home, "var", "review.token")),
    );
    expect(approve.status, JSON.stringify(approve.body)).toBeLessThan(300);
    const approved = await until(async () => {
      const d = (await decisions(collector, "dec-a")).find((x) => x.action_id === escalated);
      return d?.state === "allowed" ? d : undefined;
    }, "the approved escalation re-sent as allowed");
    // The draft is the approved one now (evaluation ALLOW, the review in it), as on the host.
    expect(approved.record.evaluation).toBe("ALLOW");
    expect((approved.record as { principal_review?: { decision?: string } }).principal_review?.decision).toBe(
      "approve",
    );
    expect((await decisions(collector, "dec-a")).length).toBe(owed.length);

    // Decided while the collector is down: sent on reconnect; the ones already held are not doubled.
    await collector.stop();
    owed.push(await propose("echo three"));
    collector = await startCollectorProcess(dir, ["--listen", `127.0.0.1:${port}`]);
    stops.push(() => collector.stop());
    const after = await until(async () => {
      const d = await decisions(collector, "dec-a");
      return d.length >= owed.length ? d : undefined;
    }, "the decision made while disconnected");
    expect(after.map((d) => d.action_id).sort()).toEqual(owed.map((o) => o.id).sort());

    // The host is lost (killed, its state wiped) before any of them became final.
    agent.child.kill("SIGKILL");
    await new Promise<void>((r) => agent.child.once("exit", () => r()));
    rmSync(agent.home, { recursive: true, force: true });
    const kept = await decisions(collector, "dec-a");
    expect(kept.map((d) => d.action_id).sort()).toEqual(owed.map((o) => o.id).sort());
  }, 90_000);
});
