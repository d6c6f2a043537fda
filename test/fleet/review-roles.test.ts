import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fleetPlugin } from "../../src/collector/fleet-plugin.js";
import { startCollector } from "../../src/collector/server.js";
import { tokenHeader } from "../agent/helpers.js";
import { until } from "../support/wait.js";
import { type AgentProc, ensureBuilt, http, startAgentProcess, stopsAfterAll, tempDir } from "./helpers.js";

/**
 * Issue 20 "Roles": who may approve what, per stage and per policy label. The collector enforces
 * its review_roles on dashboard/API approvals; the agent enforces its review.roles on every review
 * it applies (its socket, and the collector's relay). A reviewer without the role gets 403
 * FORGE_REVIEWER_ROLE; one with it succeeds. Real agent process, real WebSocket, loopback.
 */

const stops = stopsAfterAll();
const POLICY = `bundle: {id: roles-test, version: 1}
defaults: {effect: escalate, risk_threshold: 80}
rules:
  - id: deploy-is-a-release
    match: {kind: shell, program: deploy}
    effect: escalate
    risk: 60
    labels: [release]
  - id: migrate-touches-the-database
    match: {kind: shell, program: migrate}
    effect: escalate
    risk: 60
    labels: [database]
`;
const ALICE = { authorization: "Bearer alice-secret-1" };
const BOB = { authorization: "Bearer bob-secret-12" };

/** Proposes `command` from another process, so this one may review it (no self-review). */
function proposeFromChild(agent: AgentProc, command: string): { id: string; evaluation: string } {
  const script = `const r = require("node:http").request({ socketPath: process.argv[1], path: "/v1/actions", method: "POST", headers: { "content-type": "application/json" } }, (res) => { let b = ""; res.on("data", (c) => (b += c)); res.on("end", () => process.stdout.write(b)); }); r.end(JSON.stringify({ session_id: "roles", proposed_action: { kind: "shell", command: process.argv[2] } }));`;
  const r = spawnSync(process.execPath, ["-e", script, join(agent.home, "var", "agent.sock"), command], {
    encoding: "utf8",
  });
  const body = JSON.parse(r.stdout);
  return { id: body.action_id, evaluation: body.evaluation };
}

describe("reviewer roles per policy label", () => {
  it("the collector and the agent each refuse an approver without the label's role (403 FORGE_REVIEWER_ROLE) and apply one with it", async () => {
    ensureBuilt();
    const dir = tempDir("fa-roles-");
    const col = await startCollector({
      database: `sqlite:${join(dir, "c.db")}`,
      listen: "127.0.0.1:0",
      plugins: [
        fleetPlugin({
          operators: [
            { name: "alice", secret: "alice-secret-1" },
            { name: "bob", secret: "bob-secret-12" },
          ],
          // At the collector only releases are restricted.
          reviewRoles: { labels: { release: ["alice"] } },
        }).plugin,
      ],
    });
    stops.push(() => col.close());
    const policy = join(dir, "policy.yaml");
    writeFileSync(policy, POLICY);
    const uid = process.getuid!();
    const agent = await startAgentProcess("roles-a", {
      collector_url: col.url,
      heartbeat_ms: 300,
      policy,
      backend: "none",
      // At the agent: releases by alice only, database changes by this uid only.
      review: { roles: { labels: { release: ["operator:alice"], database: [`uid:${uid}`] } } },
    });
    stops.push(() => agent.stop());
    const token = tokenHeader(join(agent.home, "var", "review.token"));
    const viaSocket = (id: string) =>
      agent.client.call("POST", `/v1/reviews/${id}`, { decision: "approve" }, token);
    const viaCollector = (id: string, who: Record<string, string>, decision = "approve") =>
      http("POST", `${col.httpUrl}/v1/reviews/${id}`, { decision, host_id: "roles-a" }, who);
    const atCollector = (id: string) =>
      until(async () => {
        const r = (await http("GET", `${col.httpUrl}/v1/reviews`, undefined, ALICE)).body.reviews as Array<{
          action_id: string;
          labels?: string[];
        }>;
        return r.find((x) => x.action_id === id);
      }, `review ${id} in the fleet's heartbeats`);

    const release = proposeFromChild(agent, "deploy prod");
    const migrate = proposeFromChild(agent, "migrate up");
    expect([release.evaluation, migrate.evaluation]).toEqual(["ESCALATE", "ESCALATE"]);
    // The labels the rules set travel with the escalation.
    expect((await atCollector(release.id)).labels).toEqual(["release"]);
    expect((await atCollector(migrate.id)).labels).toEqual(["database"]);

    // The collector: bob has no release role.
    const bob = await viaCollector(release.id, BOB);
    expect(bob.status).toBe(403);
    expect(bob.body.error.code).toBe("FORGE_REVIEWER_ROLE");
    expect(bob.body.error.message).toMatch(/operator:bob may not approve an action labelled 'release'/);
    // The agent's socket: this uid has no release role either.
    const sock = await viaSocket(release.id);
    expect(sock.status).toBe(403);
    expect(sock.body.error.code).toBe("FORGE_REVIEWER_ROLE");
    // Still escalated, undecided; then alice, who has the role, approves it through the collector.
    expect((await agent.client.get(`/v1/actions/${release.id}`)).body.state).toBe("escalated");
    const alice = await viaCollector(release.id, ALICE);
    expect(alice.status, JSON.stringify(alice.body)).toBe(200);
    expect(alice.body).toMatchObject({ reviewer: "operator:alice", evaluation: "ALLOW" });

    // The database label is open at the collector but not at the agent: the agent refuses alice's
    // relayed approval, and the escalation stays undecided.
    const relayed = await viaCollector(migrate.id, ALICE);
    expect(relayed.status).toBe(409);
    expect(relayed.body.error.message).toMatch(
      /operator:alice may not approve an action labelled 'database'/,
    );
    expect((await agent.client.get(`/v1/actions/${migrate.id}`)).body.state).toBe("escalated");
    // A denial needs no role.
    const other = proposeFromChild(agent, "deploy staging");
    await atCollector(other.id);
    const denied = await viaCollector(other.id, BOB, "deny");
    expect(denied.status, JSON.stringify(denied.body)).toBe(200);
    expect(denied.body.evaluation).toBe("DENY");
    // This uid holds the database role on the agent's socket.
    const mine = await viaSocket(migrate.id);
    expect(mine.status, JSON.stringify(mine.body)).toBe(200);
    expect(mine.body.evaluation).toBe("ALLOW");
  }, 90_000);
});
