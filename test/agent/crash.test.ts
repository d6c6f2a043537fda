import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EvidenceStore, verifyStore } from "../../src/evidence/index.js";
import { sleep, until } from "../support/wait.js";
import {
  CLI,
  callFromChild,
  FIXTURE_POLICY,
  REPO,
  shell,
  tempHome,
  tokenHeader,
  UdsClient,
} from "./helpers.js";

/**
 * SIGKILL the daemon at random moments while proposals, executions and reviews are in flight,
 * restart it, and check what must hold whatever the timing: the chain verifies, every action the
 * agent answered for exists afterwards (pending or final), and no action has two records.
 */
const ROUNDS = 5;
const home = tempHome("fa-crash-");
const procs = new Set<ChildProcess>();

async function start(): Promise<{ proc: ChildProcess; client: UdsClient }> {
  const proc = spawn(
    process.execPath,
    [CLI, "run", "--home", home, "--backend", "none", "--host-id", "crash"],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, FORGE_POLICY: join(home, "policy.yaml") },
    },
  );
  procs.add(proc);
  let out = "";
  proc.stdout!.on("data", (c: Buffer) => (out = (out + c.toString()).slice(-4000)));
  proc.stderr!.on("data", (c: Buffer) => (out = (out + c.toString()).slice(-4000)));
  const client = new UdsClient(join(home, "agent.sock"));
  const exited = () => proc.exitCode !== null || proc.signalCode !== null;
  // Health answers (not up yet: the call throws), or the daemon exited.
  await until(
    async () => exited() || (await client.get("/v1/health")).status === 200,
    () => `daemon to come up: ${out}`,
    30_000,
  );
  if (exited()) throw new Error(`daemon did not come up (exit ${proc.exitCode ?? proc.signalCode}): ${out}`);
  return { proc, client };
}

function kill(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once("exit", () => resolve());
    proc.kill(signal);
  });
}

beforeAll(() => {
  copyFileSync(FIXTURE_POLICY, join(home, "policy.yaml"));
  if (!existsSync(join(REPO, "dist", "src", "agent", "daemon.js"))) {
    execFileSync("npx", ["tsc", "-p", "."], { cwd: REPO, stdio: "ignore" });
  }
});
afterAll(async () => {
  for (const p of procs) await kill(p, "SIGKILL");
  rmSync(home, { recursive: true, force: true });
});

describe("SIGKILL at random moments", () => {
  it("keeps the chain valid and every answered action accounted for", async () => {
    const answered = new Set<string>();
    for (let round = 0; round < ROUNDS; round++) {
      const { proc, client } = await start();
      // Decide what the previous round left for review, so reviews race the kill too.
      // Reviewers and the proposers of what they review are separate processes (a reviewer is
      // never the proposer nor runs under it), presenting the review token.
      const auth = { headers: tokenHeader(join(home, "review.token")) };
      const sock = join(home, "agent.sock");
      const pending = (await client.call("GET", "/v1/reviews", undefined, auth.headers)).body.reviews as {
        action_id: string;
      }[];
      const work: Promise<unknown>[] = pending
        .slice(0, 2)
        .map((r, i) =>
          callFromChild(
            sock,
            "POST",
            `/v1/reviews/${r.action_id}`,
            { decision: i % 2 ? "deny" : "approve" },
            auth,
          ).catch(() => {}),
        );
      const commands = ["rm -rf /x", "echo ok", "sleep 0.05; echo late", "deploy prod"];
      for (let i = 0; i < 24; i++) {
        const body = {
          session_id: `crash-${round}`,
          proposed_action: shell(commands[i % 4]!),
          execute: i % 3 === 0,
        };
        work.push(
          // One escalation a round comes from a child process, so the next round's reviewer can decide it.
          (i === 3 ? callFromChild(sock, "POST", "/v1/actions", body) : client.post("/v1/actions", body))
            .then((r) => {
              if (r.status === 200 && r.body.recorded === true) answered.add(r.body.action_id);
            })
            .catch(() => {}),
        );
      }
      // Kill once the agent has answered something this round (an event, so a loaded machine cannot
      // make every round die before its first answer), then at a random moment after that.
      const before = answered.size;
      await Promise.race([
        until(() => answered.size > before, "a first answer", 30_000),
        Promise.allSettled(work),
      ]);
      await sleep(Math.floor(Math.random() * 60)); // a random kill point, not an ordering
      await kill(proc, "SIGKILL");
      client.close();
      await Promise.allSettled(work);
    }

    // A last clean start: every answered action is there, pending or final.
    const { proc, client } = await start();
    for (const id of answered) {
      const v = await client.get(`/v1/actions/${id}`);
      expect({ id, status: v.status }).toEqual({ id, status: 200 });
    }
    client.close();
    await kill(proc, "SIGTERM");

    const report = verifyStore(join(home, "evidence.db"), { keyDir: join(home, "keys") });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    const store = EvidenceStore.open({
      path: join(home, "evidence.db"),
      hostId: "crash",
      keyDir: join(home, "keys"),
    });
    try {
      const ids = store.records({ kind: "action", limit: 1_000_000 }).map((r) => r.action_id);
      expect(ids.length).toBe(new Set(ids).size); // no action has two records
      const pendingIds = new Set(store.listPending().map((p) => p.action_id));
      expect(ids.filter((id) => pendingIds.has(id))).toEqual([]); // nothing is both final and pending
      for (const id of answered) expect(ids.includes(id) || pendingIds.has(id)).toBe(true);
    } finally {
      await store.close();
    }
    expect(answered.size).toBeGreaterThan(0);
  });
});
