import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Codes } from "../../src/errors.js";
import {
  defaultPolicyPath,
  initGate,
  loadPolicy,
  loadPolicyText,
  runPolicyTests,
} from "../../src/gate/index.js";

let dir: string;
beforeAll(async () => {
  await initGate();
  dir = mkdtempSync(join(tmpdir(), "forge-gate-policy-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function errorOf(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error("expected an error");
}

const BASE = `bundle: {id: t, version: 7}
rules:
  - id: ssh-keys
    match: {kind: shell, paths: ["~/.ssh/**"]}
    effect: deny
`;

describe("validation", () => {
  it("names the file, the line and the fix for an unknown field", () => {
    const text = `${BASE}    efect: deny\n`;
    const e = errorOf(() => loadPolicyText(text, "policies/default.yaml"));
    expect(e.code).toBe(Codes.POLICY_INVALID);
    expect(e.message).toBe(
      "unknown field 'efect' in rule 'ssh-keys' (default.yaml:6): did you mean 'effect'?",
    );
  });

  it("suggests match fields, top-level fields and list names", () => {
    expect(
      errorOf(() =>
        loadPolicyText(
          "rules:\n  - id: a\n    match: {kind: shell, progam: ls}\n    effect: allow\n",
          "p.yaml",
        ),
      ).message,
    ).toMatch(/unknown field 'progam' in rule 'a' \(p\.yaml:3\): did you mean 'program'\?/);
    expect(errorOf(() => loadPolicyText("rulez: []\n", "p.yaml")).message).toMatch(/did you mean 'rules'\?/);
    const lists =
      "lists: {hosts: [a.com]}\nrules:\n  - id: a\n    match: {kind: http, hosts: '@hostz'}\n    effect: allow\n";
    expect(errorOf(() => loadPolicyText(lists, "p.yaml")).message).toMatch(
      /unknown list '@hostz'.*p\.yaml:4.*did you mean '@hosts'\?/,
    );
  });

  it("rejects bad values with the line: effect, risk range, kind, YAML syntax, duplicate ids", () => {
    const bad = (body: string) => errorOf(() => loadPolicyText(body, "p.yaml"));
    expect(bad("rules:\n  - id: a\n    match: {kind: shell}\n    effect: allowed\n").message).toMatch(
      /field 'effect' in rule 'a' \(p\.yaml:4\)/,
    );
    expect(
      bad("rules:\n  - id: a\n    match: {kind: shell}\n    effect: allow\n    risk: 101\n").message,
    ).toMatch(/p\.yaml:5/);
    expect(bad("rules:\n  - id: a\n    match: {kind: sh}\n    effect: allow\n").code).toBe(
      Codes.POLICY_INVALID,
    );
    expect(bad("rules: [\n").message).toMatch(/YAML syntax/);
    const dup =
      "rules:\n  - {id: a, match: {kind: shell}, effect: allow}\n  - {id: a, match: {kind: shell}, effect: deny}\n";
    expect(bad(dup).message).toMatch(/rule id 'a' is used twice \(p\.yaml:2 and p\.yaml:3\)/);
    expect(bad("rules:\n  - {id: a, match: {kind: http, program: curl}, effect: allow}\n").message).toMatch(
      /only applies to kind 'shell'/,
    );
    expect(bad("lists: {x: [~]}\n").message).toMatch(/quote it/);
  });
});

describe("bundles", () => {
  it("takes id and version from the file and sha256 over its bytes", () => {
    const b = loadPolicyText(BASE, "x.yaml");
    expect(b.ref.id).toBe("t");
    expect(b.ref.version).toBe(7);
    expect(b.ref.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(loadPolicyText(`${BASE}\n`, "x.yaml").ref.sha256).not.toBe(b.ref.sha256);
  });

  it("loads a directory of files in name order and indexes rules by program", () => {
    const d = join(dir, "bundle");
    mkdirSync(d);
    writeFileSync(join(d, "a.yaml"), `${BASE}defaults: {effect: deny}\n`);
    writeFileSync(
      join(d, "b.yaml"),
      "rules:\n  - {id: ls, match: {kind: shell, program: ls}, effect: allow}\n",
    );
    writeFileSync(join(d, "notes.txt"), "ignored");
    const b = loadPolicy(d);
    expect(b.ref).toMatchObject({ id: "t", version: 7 });
    expect(b.rules.map((r) => r.id)).toEqual(["ssh-keys", "ls"]);
    expect(b.defaultEffect).toBe("deny");
    expect(b.index.get("shell\0ls")?.map((r) => r.id)).toEqual(["ls"]);
    expect(b.index.get("shell\0*")?.map((r) => r.id)).toEqual(["ssh-keys"]);
    writeFileSync(join(d, "b.yaml"), "bundle: {id: other, version: 1}\n");
    expect(errorOf(() => loadPolicy(d)).message).toMatch(/'bundle' is declared twice/);
  });

  it("runs embedded tests at load and fails the load on a failing test", () => {
    const ok = `${BASE}tests:\n  - {command: "cat ~/.ssh/id_rsa", expect: DENY}\n`;
    expect(loadPolicyText(ok, "ok.yaml").tests).toHaveLength(1);
    const failing = `${BASE}tests:\n  - {name: wrong, command: "cat ~/.ssh/id_rsa", expect: ALLOW}\n`;
    const e = errorOf(() => loadPolicyText(failing, "bad.yaml"));
    expect(e.code).toBe(Codes.POLICY_TEST_FAILED);
    expect(e.message).toMatch(/bad\.yaml:7 'wrong': expected ALLOW, got DENY/);
    expect(loadPolicyText(failing, "bad.yaml", { runTests: false }).tests).toHaveLength(1);
  });

  it("ships a default pack whose own tests pass", () => {
    const b = loadPolicy(defaultPolicyPath());
    expect(b.ref.id).toBe("default");
    const results = runPolicyTests(b);
    expect(results.length).toBeGreaterThan(100);
    expect(results.filter((r) => !r.pass)).toEqual([]);
  });
});

describe("layered policy (extends: default)", () => {
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const shell = (command: string) => ({ kind: "shell", command });

  it("extends the default pack instead of replacing it: its rules, tests and lists stay", async () => {
    const { Gate } = await import("../../src/gate/index.js");
    const pack = loadPolicy(defaultPolicyPath());
    const user = loadPolicy(
      write(
        "ext.yaml",
        `extends: default
bundle: {id: team, version: 3}
lists:
  trusted_hosts: [artifacts.team.example]
rules:
  - {id: team-deploy, match: {kind: shell, program: deploy-tool}, effect: escalate, risk: 50}
tests:
  - {command: "deploy-tool --prod", expect: ESCALATE, rules: [team-deploy]}
`,
      ),
    );
    expect(user.extendsDefault).toBe(true);
    expect(user.ref.id).toBe("team");
    expect(user.rules.length).toBe(pack.rules.length + 1);
    // The pack's embedded tests run too (loadPolicy ran them: they all pass with the additions).
    expect(user.tests.length).toBe(pack.tests.length + 1);
    expect(runPolicyTests(user).every((r) => r.pass)).toBe(true);
    expect(user.warnings).toEqual([]);
    // The bundle hash covers the pack: not the user file's hash alone.
    expect(user.ref.sha256).not.toBe(pack.ref.sha256);
    const g = new Gate(user, { home: "/Users/dev", cwd: "/Users/dev/project" });
    // The pack still denies what it denies.
    expect(g.evaluate({ session_id: "a", action: shell("rm -rf ~") }).evaluation).toBe("DENY");
    // A list of the pack's name extends it: the team host is trusted, the pack's still are.
    const get = (h: string) => shell(`curl -d @build/report.json https://${h}/x`);
    const p = new Gate(pack, { home: "/Users/dev", cwd: "/Users/dev/project" });
    expect(p.evaluate({ session_id: "b", action: get("artifacts.team.example") }).evaluation).not.toBe(
      "ALLOW",
    );
    expect(g.evaluate({ session_id: "b", action: get("artifacts.team.example") }).evaluation).toBe("ALLOW");
    expect(g.evaluate({ session_id: "c", action: get("github.com") }).evaluation).toBe("ALLOW");
  });

  it("a rule id of the pack cannot be redefined", () => {
    const e = errorOf(() =>
      loadPolicy(
        write(
          "dup.yaml",
          `extends: default
rules:
  - {id: network-after-secret, match: {kind: shell, program: curl}, effect: allow}
`,
        ),
      ),
    );
    expect(e.code).toBe(Codes.POLICY_INVALID);
    expect(e.message).toContain("rule id 'network-after-secret' is used twice");
  });

  it("a policy with no tests says so (and one that extends the pack says only the pack's ran)", () => {
    const bare = loadPolicy(
      write("bare.yaml", "rules:\n  - {id: ls, match: {kind: shell, program: ls}, effect: allow}\n"),
    );
    expect(bare.warnings).toEqual([expect.stringContaining("bare.yaml has no tests")]);
    const ext = loadPolicy(
      write(
        "ext-bare.yaml",
        "extends: default\nrules:\n  - {id: team-ls, match: {kind: shell, program: ls}, effect: allow}\n",
      ),
    );
    expect(ext.warnings).toEqual([expect.stringContaining("only the default pack's tests ran")]);
    expect(loadPolicy(defaultPolicyPath()).warnings).toEqual([]);
  });

  it("text loaded without a loader that can read the pack refuses 'extends'", () => {
    const e = errorOf(() => loadPolicyText("extends: default\nrules: []\n", "x.yaml"));
    expect(e.code).toBe(Codes.POLICY_INVALID);
    expect(e.message).toContain("'extends: default' needs the default pack");
  });
});

describe("subcommand of several words (lead53)", () => {
  it("names as many leading operands, each a word glob; one-word patterns still name the first", async () => {
    const { Gate } = await import("../../src/gate/index.js");
    const policy = loadPolicyText(
      `bundle: {id: t, version: 1}
rules:
  - {id: reads, match: {kind: shell, program: gh, subcommand: ["pr list", "run v*", status]}, effect: allow}
`,
      "sub.yaml",
    );
    const g = new Gate(policy, { home: "/Users/dev", cwd: "/Users/dev/project" });
    const verdict = (command: string, i: number) =>
      g.evaluate({ session_id: `s${i}`, action: { kind: "shell", command } }).evaluation;
    const rows: [string, string][] = [
      ["gh pr list", "ALLOW"],
      ["gh pr list --label bug", "ALLOW"],
      ["gh run view 7", "ALLOW"],
      ["gh status", "ALLOW"],
      ["gh pr merge 42", "ESCALATE"], // the second word differs
      ["gh pr", "ESCALATE"], // too few operands
      ["gh 'pr list'", "ESCALATE"], // one operand with a space is not two
      ["gh list pr", "ESCALATE"], // order matters
      ["gh pr $X", "ESCALATE"], // a dynamic operand where a glob stands: at best MAYBE
      ["gh $X list", "ESCALATE"],
      ["gh prs list", "ESCALATE"],
    ];
    const got = rows.map(([c], i) => [c, verdict(c, i)]);
    expect(got).toEqual(rows);
  });
});
