import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GateStatePersister } from "../../src/agent/gate-state.js";
import { Gate, initGate, loadPolicyText, type PolicyBundle } from "../../src/gate/index.js";
import { HOME, POLICY } from "../gate/unit-policy.js";

/**
 * Issue 18: the gate-state save's fsync is off the decision path. A new label starts a background
 * save; `durable()` settles only once a save that began after the change finished, and that is
 * what the daemon awaits before it answers (the SIGKILL test in gate-state.test.ts holds the end
 * to end). A real Gate, a real file.
 */
let bundle: PolicyBundle;
const dirs: string[] = [];
beforeAll(async () => {
  await initGate();
  bundle = loadPolicyText(POLICY, "unit.yaml");
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function setup(path?: string) {
  const dir = mkdtempSync(join(tmpdir(), "fa-gsave-"));
  dirs.push(dir);
  const errors: string[] = [];
  let gate: Gate | undefined;
  const p = new GateStatePersister(() => gate!, path ?? join(dir, "gate-state.json"), {
    coalesceMs: 60_000,
    onError: (m) => errors.push(m),
  });
  gate = new Gate(bundle, { home: HOME, cwd: `${HOME}/p`, onChange: (u) => p.changed(u) });
  p.load();
  return { dir, p, gate, errors };
}

const secret = (g: Gate, session: string) =>
  g.evaluate({
    session_id: session,
    principal: "p",
    action: { kind: "shell", command: "cat ~/.ssh/id_rsa" },
  });
const labelsIn = (path: string, session: string): string[] =>
  (JSON.parse(readFileSync(path, "utf8")) as { sessions: { key: string; labels: string[] }[] }).sessions.find(
    (s) => s.key === session,
  )?.labels ?? [];

describe("gate state saved in the background", () => {
  it("a new label does not write during the decision; durable() settles once it is on disk (0600)", async () => {
    const { p, gate } = setup();
    expect(secret(gate, "a").evaluation).toBe("ESCALATE");
    // The decision returned without touching the disk: the save runs on libuv's thread pool.
    expect(existsSync(p.path)).toBe(false);
    let settled = false;
    const d = p.durable().then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await d;
    expect(labelsIn(p.path, "a")).toEqual(["secret-read"]);
    expect(statSync(p.path).mode & 0o777).toBe(0o600);
    expect(p.saves).toBe(1);
    // Nothing new since: settled at once.
    await p.durable();
    await p.close();
  });

  it("a label made while a save runs is in the save durable() waits for", async () => {
    const { p, gate } = setup();
    secret(gate, "a");
    const first = p.durable();
    secret(gate, "b"); // the first save's snapshot was taken before this
    const second = p.durable();
    await first;
    await second;
    expect(labelsIn(p.path, "a")).toEqual(["secret-read"]);
    expect(labelsIn(p.path, "b")).toEqual(["secret-read"]);
    expect(p.saves).toBe(2);
    await p.close();
  });

  it("a decision that changed nothing urgent does not wait for the coalesced save", async () => {
    const { p, gate } = setup();
    gate.evaluate({ session_id: "a", action: { kind: "shell", command: "ls" } });
    let settled = false;
    await p.durable().then(() => (settled = true));
    expect(settled).toBe(true);
    expect(existsSync(p.path)).toBe(false); // coalesced: 60 s here
    await p.close(); // …and the close saves it
    expect(JSON.parse(readFileSync(p.path, "utf8")).sessions.map((s: { key: string }) => s.key)).toEqual([
      "a",
    ]);
  });

  it("a failed save is alerted, settles durable() (it never held a verdict), and is retried at close", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fa-gsave-"));
    dirs.push(dir);
    const blocker = join(dir, "not-a-dir");
    writeFileSync(blocker, "");
    const { p, gate, errors } = setup(join(blocker, "gate-state.json"));
    secret(gate, "a");
    await p.durable();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("could not save the gate state");
    expect(p.lastError).toContain("could not save the gate state");
    expect(p.saves).toBe(0);
    await p.close();
    expect(p.saves).toBe(0);
    expect(errors).toHaveLength(1); // the same message is alerted once
  });

  it("close waits for the running save, writes the last changes, then ignores later ones", async () => {
    const { p, gate } = setup();
    secret(gate, "a");
    gate.evaluate({ session_id: "b", action: { kind: "shell", command: "ls" } });
    await p.close();
    expect(labelsIn(p.path, "a")).toEqual(["secret-read"]);
    const keys = () => JSON.parse(readFileSync(p.path, "utf8")).sessions.map((s: { key: string }) => s.key);
    expect(keys()).toEqual(["a", "b"]);
    secret(gate, "c");
    await p.durable();
    expect(keys()).toEqual(["a", "b"]);
  });
});
