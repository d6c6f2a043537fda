import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EvidenceStore, verifyStore } from "../../src/evidence/index.js";
import { ensureBuilt, tempHome } from "./helpers.js";

const FIXTURE = fileURLToPath(new URL("../fixtures/evidence-writer.mjs", import.meta.url));
const KILLS = 20;

let home: ReturnType<typeof tempHome>;
beforeAll(() => {
  ensureBuilt();
  home = tempHome();
});
afterAll(() => home.cleanup());

/** Runs the writer, SIGKILLs it after `delayMs` (counted from "ready", or from spawn), returns its complete lines. */
function runAndKill(runId: string, delayMs: number, afterReady: boolean): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FIXTURE, home.db, home.keys, runId, "16"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    let timer: NodeJS.Timeout | undefined;
    const kill = () => {
      timer = setTimeout(() => child.kill("SIGKILL"), delayMs);
    };
    if (!afterReady) kill();
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      if (afterReady && timer === undefined && (out + d).includes("ready\n")) kill();
      out += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      err += d;
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (signal !== "SIGKILL") return reject(new Error(`writer exited ${code} ${signal}: ${err}`));
      // A line cut by the kill has no newline yet: it was never fully reported, so it is not owed.
      const lines = out.split("\n");
      lines.pop();
      resolve(lines);
    });
  });
}

describe("crash safety under SIGKILL", () => {
  it(`loses no resolved append, pending put or resolve across ${KILLS} kills, and keeps seq gap-free`, async () => {
    const owed = new Map<number, string>(); // seq -> action_id, from every run so far
    const pendingOwed = new Set<string>(); // putPending resolved, resolvePending not (yet) reported
    let killedMidLoad = 0;
    for (let run = 0; run < KILLS; run++) {
      // Most kills land under load; some during startup (key creation, schema, first batch).
      const afterReady = run % 5 !== 4;
      const lines = await runAndKill(
        `r${run}`,
        afterReady ? 30 + Math.floor(Math.random() * 220) : Math.floor(Math.random() * 150),
        afterReady,
      );
      let resolvedThisRun = 0;
      for (const line of lines) {
        const [tag, a, b] = line.split(" ");
        if (tag === "R" || tag === "X") {
          const seq = Number(a);
          expect(owed.has(seq), `seq ${seq} reported twice`).toBe(false);
          owed.set(seq, b!);
          if (tag === "X") pendingOwed.delete(b!);
          resolvedThisRun++;
        } else if (tag === "P") {
          pendingOwed.add(a!);
        }
      }
      if (resolvedThisRun > 0) killedMidLoad++;

      // After every restart: the chain verifies, seq is gap-free, and everything owed is there.
      // A SIGKILL leaves the records after the last checkpoint unsigned (the store signs at close
      // and at each ack): reported as such, and nothing else is wrong.
      const report = verifyStore(home.db, { keyDir: home.keys });
      expect(report.problems.filter((p) => p.code !== "unsigned_tail")).toEqual([]);
      expect(report.problems.length === 0 || report.state === "open").toBe(true);
      const store = EvidenceStore.open({ path: home.db, keyDir: home.keys, hostId: "crash-host" });
      try {
        const all = store.records({ limit: 10_000_000 });
        expect(all.map((r) => r.seq)).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
        expect(store.lastSeq()).toBe(all.length);
        for (const [seq, id] of owed) expect(all[seq - 1]?.action_id, `owed seq ${seq}`).toBe(id);
        for (const id of pendingOwed) {
          // Either still pending, or its resolve committed but the kill came before the line was printed.
          const chained = store.records({ action_id: id });
          expect(store.getPending(id) !== undefined || chained.length === 1, `pending ${id}`).toBe(true);
          if (chained.length === 1) pendingOwed.delete(id);
        }
        expect(new Set(all.map((r) => r.action_id)).size).toBe(all.length);
      } finally {
        await store.close();
      }
    }
    // Sanity: the kills really landed under load (kept low so a slow CI disk does not flake it).
    expect(owed.size).toBeGreaterThan(200);
    expect(killedMidLoad).toBeGreaterThanOrEqual(KILLS / 2);
  });
});

describe("the writer thread and the process", () => {
  it("a script that appends and closes exits on its own, with the file closed cleanly", async () => {
    const h = tempHome();
    try {
      const dist = new URL("../../dist/src/evidence/index.js", import.meta.url).href;
      const script = `
        import { EvidenceStore } from ${JSON.stringify(dist)};
        const s = EvidenceStore.open({ path: process.argv[1], keyDir: process.argv[2], hostId: "exit-host" });
        const rec = (id) => ({ kind: "action", session_id: "s", action_id: id, timestamp: new Date().toISOString(),
          prompt_hash: null, proposed_action: { type: "x" }, evaluation: "ALLOW", policy_matched: { bundle: null, rules: [] },
          composition_state: {}, execution_result: null, principal_review: null, latency_ms: 0 });
        await s.append(rec("a"));
        await s.append(rec("b"));
        await s.close();
        process.stdout.write("closed\\n");`;
      const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, ["--input-type=module", "-e", script, h.db, h.keys], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        let o = "";
        child.stdout.setEncoding("utf8").on("data", (d: string) => {
          o += d;
        });
        child.on("close", (c) => resolve({ code: c, out: o }));
      });
      // Exit 13 would be close() left waiting with nothing keeping the process alive.
      expect({ code, out }).toEqual({ code: 0, out: "closed\n" });
      const report = verifyStore(h.db, { keyDir: h.keys });
      expect(report.problems).toEqual([]);
      expect(report.state).toBe("closed");
    } finally {
      h.cleanup();
    }
  });
});
