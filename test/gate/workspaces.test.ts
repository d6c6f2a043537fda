/**
 * Per-session workspaces (issue 19 §3): the caller registers a session's roots at its start; the
 * session's actions are judged against them (not against every configured root, nor the cwd a
 * model picks), a root outside the configured ones is refused, and the registration survives an
 * export/import (a restart) and a state clear.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { hasForgeCode } from "../../src/errors.js";
import { defaultPolicyPath, Gate, initGate, loadPolicy, type PolicyBundle } from "../../src/gate/index.js";

const HOME = "/Users/dev";
const WS = `${HOME}/ws`;
let bundle: PolicyBundle;
const gateOf = () => new Gate(bundle, { home: HOME, cwd: WS, workspaces: [WS] });
const sh = (g: Gate, session_id: string, command: string, cwd?: string) =>
  g.evaluate({ session_id, action: { kind: "shell", command, ...(cwd ? { cwd } : {}) } });

beforeAll(async () => {
  await initGate();
  bundle = loadPolicy(defaultPolicyPath());
});

describe("per-session workspaces", () => {
  it("a session registered to one project cannot delete another project under the same configured root", () => {
    const g = gateOf();
    g.setSessionWorkspaces("a", [`${WS}/alpha`]);
    // Unregistered: the configured root is the workspace, so the sibling project is inside it.
    expect(sh(g, "free", "rm -rf beta/src", WS).evaluation).toBe("ALLOW");
    // Registered to alpha: beta is outside, whatever cwd the model picks.
    expect(sh(g, "a", "rm -rf ../beta/src").evaluation).not.toBe("ALLOW");
    expect(sh(g, "a", "rm -rf beta/src", WS).evaluation).not.toBe("ALLOW");
    const d = sh(g, "a", "rm -rf src", `${WS}/beta`);
    expect(d.evaluation).not.toBe("ALLOW");
    expect(d.reasons.join()).toMatch(/outside the configured workspaces/);
    // Its own project: as before.
    expect(sh(g, "a", "rm -rf build && mkdir -p build").evaluation).toBe("ALLOW");
    expect(sh(g, "a", "cat README.md", `${WS}/alpha/docs`).evaluation).toBe("ALLOW");
  });

  it("structured actions resolve relative paths in the session's root and judge them against it", () => {
    const g = gateOf();
    g.setSessionWorkspaces("s", [`${WS}/alpha`]);
    const w = (session_id: string, path: string) =>
      g.evaluate({ session_id, action: { kind: "file.write", path } }).evaluation;
    expect(w("s", "src/x.ts")).toBe("ALLOW");
    expect(w("s", `${WS}/beta/src/x.ts`)).not.toBe("ALLOW");
    expect(w("other", `${WS}/beta/src/x.ts`)).toBe("ALLOW");
  });

  it("a root outside the configured workspaces is refused with a stable code, and nothing changes", () => {
    const g = gateOf();
    let err: unknown;
    try {
      g.setSessionWorkspaces("x", [`${WS}/alpha`, HOME]);
    } catch (e) {
      err = e;
    }
    expect(hasForgeCode(err) && err.code).toBe("FORGE_WORKSPACE_OUTSIDE");
    expect(() => g.setSessionWorkspaces("x", [])).toThrow(/between 1 and 64/);
    // Not registered: the configured root still applies.
    expect(sh(g, "x", "rm -rf beta/src").evaluation).toBe("ALLOW");
  });

  it("survives an export and import (a restart) and a state clear", () => {
    const g = gateOf();
    g.setSessionWorkspaces("a", [`${WS}/alpha`]);
    const state = JSON.parse(JSON.stringify(g.exportState()));
    const h = gateOf();
    h.importState(state);
    expect(sh(h, "a", "rm -rf ../beta/src").evaluation).not.toBe("ALLOW");
    expect(sh(h, "a", "rm -rf build").evaluation).toBe("ALLOW");
    h.clearState({ session_id: "a" });
    expect(sh(h, "a", "rm -rf ../beta/src").evaluation).not.toBe("ALLOW");
    // A dump whose roots are not absolute is refused whole.
    state.sessions[0].workspaces = ["relative/dir"];
    expect(() => gateOf().importState(state)).toThrow(/invalid gate state/);
  });
  it("an imported declaration judges exactly as the declared one (canonical roots computed at import), and dumps the same", () => {
    const at = () => 1_000_000;
    const mk = () => new Gate(bundle, { home: HOME, cwd: WS, workspaces: [WS], now: at });
    const g = mk();
    g.setSessionWorkspaces("a", [`${WS}/alpha`]);
    g.setSessionWorkspaces("b", [`${WS}/Beta`, `${WS}/gamma/sub`]);
    const dump = JSON.parse(JSON.stringify(g.exportState()));
    // The dump holds the roots as declared, nothing else (the format is unchanged).
    expect(dump.sessions.map((t: { key: string; workspaces?: string[] }) => [t.key, t.workspaces])).toEqual([
      ["a", [`${WS}/alpha`]],
      ["b", [`${WS}/Beta`, `${WS}/gamma/sub`]],
    ]);
    const h = mk();
    h.importState(dump);
    // Spellings that only canonical comparison matches (case), cwd-less lines, cwds outside.
    const cases: [string, string, string | undefined][] = [
      ["a", "rm -rf build", undefined],
      ["a", "rm -rf src", `${WS}/ALPHA/x`],
      ["a", "rm -rf src", `${WS}/beta`],
      ["a", "rm -rf ../beta/src", undefined],
      ["b", "rm -rf src", `${WS}/beta`],
      ["b", "rm -rf src", `${WS}/BETA/deep`],
      ["b", "rm -rf src", `${WS}/gamma`],
      ["b", "rm -rf x", `${WS}/Gamma/SUB`],
      ["b", "rm -rf ../alpha", `${WS}/beta`],
      ["free", "rm -rf alpha/src", WS],
    ];
    const answers = (x: Gate) =>
      cases.map(([s, c, cwd]) => {
        const d = sh(x, s, c, cwd);
        return { s, c, cwd, evaluation: d.evaluation, reasons: d.reasons };
      });
    const before = answers(g);
    expect(answers(h)).toEqual(before);
    // Both kinds of answer occur, so the comparison can tell the roots apart.
    expect(new Set(before.map((x) => x.evaluation)).size).toBeGreaterThan(1);
    expect(before.find((x) => x.cwd === `${WS}/BETA/deep`)?.evaluation).toBe("ALLOW");
    expect(before.find((x) => x.cwd === `${WS}/gamma`)?.evaluation).not.toBe("ALLOW");
    expect(JSON.parse(JSON.stringify(h.exportState()))).toEqual(JSON.parse(JSON.stringify(g.exportState())));
  });

  it("the session bound never evicts a declared workspace (the session would come back wider); at most half the bound may declare", () => {
    const g = new Gate(bundle, { home: HOME, cwd: WS, workspaces: [WS], maxSessions: 4 });
    g.setSessionWorkspaces("a", [`${WS}/alpha`]);
    // Many other sessions pass through the bound of 4: "a" is the oldest each time.
    for (let i = 0; i < 20; i++) sh(g, `filler-${i}`, "ls");
    expect(g.sessionWorkspaces("a")).toEqual([`${WS}/alpha`]);
    expect(sh(g, "a", "rm -rf src", `${WS}/beta`).evaluation).not.toBe("ALLOW");
    expect(g.stats().sessions).toBeLessThanOrEqual(4);
    // ... and it survives an export/import of a full table.
    const g2 = new Gate(bundle, { home: HOME, cwd: WS, workspaces: [WS], maxSessions: 4 });
    g2.importState(g.exportState());
    expect(g2.sessionWorkspaces("a")).toEqual([`${WS}/alpha`]);
    // Half the bound (2) may hold a declared workspace; a third is refused with a code, nothing changes.
    g.setSessionWorkspaces("b", [`${WS}/beta`]);
    let err: unknown;
    try {
      g.setSessionWorkspaces("c", [`${WS}/gamma`]);
    } catch (e) {
      err = e;
    }
    expect(hasForgeCode(err) && err.code).toBe("FORGE_RATE_LIMITED");
    expect(g.sessionWorkspaces("c")).toBeNull();
    // Re-declaring one that holds a workspace is not a new one.
    expect(() => g.setSessionWorkspaces("a", [`${WS}/alpha/sub`])).not.toThrow();
  });
});
