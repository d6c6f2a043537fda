import { spawnSync } from "node:child_process";
import { verify } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decisionSigningInput, type WireDecision } from "../../src/protocol/messages.js";
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

type Decision = {
  host_id: string;
  action_id: string;
  state: string;
  record: { evaluation: string };
  host_sig: string | null;
};
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

  it("a decision the collector did not ack is re-sent after a kill -9 and restart, lands once, host-signed, even when it became final meanwhile", async () => {
    ensureBuilt();
    const dir = tempDir("fa-decisions-ack-");
    let collector = await startCollectorProcess(dir);
    stops.push(() => collector.stop());
    const port = new URL(collector.url).port;
    const agent = await startAgentProcess("dec-b", { collector_url: collector.url, heartbeat_ms: 500 });
    stops.push(() => agent.stop());
    const health = async () => (await agent.client.get("/v1/health")).body.collector;
    await until(async () => (await health())?.connected === true, "connected");
    const propose = async (command: string) =>
      (await agent.client.post("/v1/actions", { session_id: "ack", proposed_action: shell(command) })).body
        .action_id as string;

    // Acked before the fault: held by the collector, owed nothing.
    const early = await propose("echo early");
    await until(async () => (await decisions(collector, "dec-b")).length === 1, "the early decision");
    await until(async () => (await health()).decisionsUnacked === 0, "the early decision acked");

    // The collector freezes: the agent's decisions reach its socket and are never committed or acked.
    collector.child.kill("SIGSTOP");
    const stays = await propose("echo stays-pending");
    const finished = await propose("echo finished");
    // This one becomes final while unacked: its pending row is gone, only the resend set holds it.
    const r = await agent.client.post(`/v1/actions/${finished}/result`, { status: "ok", exit_code: 0 });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    await until(async () => (await health()).decisionsUnacked === 2, "two decisions sent, unacked");
    collector.child.kill("SIGKILL");
    await new Promise<void>((res) => collector.child.once("exit", () => res()));

    collector = await startCollectorProcess(dir, ["--listen", `127.0.0.1:${port}`]);
    stops.push(() => collector.stop());
    await until(
      async () => (await health())?.connected === true && (await health()).decisionsUnacked === 0,
      "all acked after the restart",
    );
    const got = await decisions(collector, "dec-b");
    // Each once (the early one re-sent as still pending is not doubled), none lost.
    expect(got.map((d) => d.action_id).sort()).toEqual([early, stays, finished].sort());
    // Each is the host's signed word: its signature verifies with the host's pinned key.
    const host = (await http("GET", `${collector.http}/v1/hosts/dec-b`)).body;
    for (const d of got) {
      const wire: WireDecision = {
        action_id: d.action_id,
        session_id: (d as unknown as { session_id: string }).session_id,
        state: d.state as WireDecision["state"],
        created_ms: (d as unknown as { created_ms: number }).created_ms,
        deadline_ms: (d as unknown as { deadline_ms: number | null }).deadline_ms,
        record: d.record as unknown as WireDecision["record"],
      };
      expect(
        verify(
          null,
          decisionSigningInput("dec-b", wire),
          host.public_key_pem,
          Buffer.from(d.host_sig!, "base64"),
        ),
        d.action_id,
      ).toBe(true);
    }
    // The finished one's final record arrives too (the chain, acked as ever).
    await until(async () => {
      const recs = (await http("GET", `${collector.http}/v1/records?host_id=dec-b&session_id=ack`)).body
        .records;
      return recs.some((x: { action_id: string }) => x.action_id === finished);
    }, "the final record of the finished decision");

    // A graceful restart: the still-pending one is sent again, stored once, acked again.
    await collector.stop();
    collector = await startCollectorProcess(dir, ["--listen", `127.0.0.1:${port}`]);
    stops.push(() => collector.stop());
    await until(
      async () => (await health())?.connected === true && (await health()).decisionsUnacked === 0,
      "reconnected, acked",
    );
    expect((await decisions(collector, "dec-b")).map((d) => d.action_id).sort()).toEqual(
      [early, stays, finished].sort(),
    );
  }, 90_000);
});
