// model.pull / model.push: the registry-host allowlist, digest pinning and signatures as policy.
import { beforeAll, describe, expect, it } from "vitest";
import { compilePolicyText, Gate, initGate } from "../../src/gate/index.js";

const PIN = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const STRICT = `
bundle: {id: strict-models, version: 1}
defaults: {effect: deny}
lists:
  registries: [registry.corp.example, "127.0.0.1"]
rules:
  - id: pull-allowlisted-pinned-signed
    match: {kind: model.pull, hosts: "@registries", pinned: true, signed: true, repositories: "models/*"}
    effect: allow
  - id: push-allowlisted
    match: {kind: model.push, hosts: "@registries"}
    effect: allow
`;

function pull(over: Record<string, unknown>) {
  return {
    kind: "model.pull",
    ref: `oci://registry.corp.example/models/m@${PIN}`,
    registry: "registry.corp.example",
    repository: "models/m",
    digest: PIN,
    pinned: true,
    signed: true,
    purpose: "serve",
    ...over,
  };
}

describe("model.pull and model.push in the gate", () => {
  let gate: Gate;
  beforeAll(async () => {
    await initGate();
    gate = new Gate(compilePolicyText(STRICT, "strict.yaml"), { home: "/home/u", cwd: "/home/u" });
  });
  const ev = (action: unknown) => gate.evaluate({ session_id: "s", action });

  it("allows a pinned, signed pull from an allowlisted registry", () => {
    const d = ev(pull({}));
    expect(d.evaluation).toBe("ALLOW");
    expect(d.policy_matched.map((m) => m.rule_id)).toEqual(["pull-allowlisted-pinned-signed"]);
  });

  it("requires the pin, the signature, the host and the repository", () => {
    expect(ev(pull({ pinned: false, digest: null })).evaluation).toBe("DENY");
    expect(ev(pull({ signed: false })).evaluation).toBe("DENY");
    expect(ev(pull({ registry: "registry.evil.example:5000" })).evaluation).toBe("DENY");
    expect(ev(pull({ repository: "other/m" })).evaluation).toBe("DENY");
  });

  it("matches the registry host without its port", () => {
    expect(ev(pull({ registry: "127.0.0.1:5000" })).evaluation).toBe("ALLOW");
    expect(
      ev({
        kind: "model.push",
        ref: "oci://127.0.0.1:1/x:y",
        registry: "127.0.0.1:1",
        repository: "x",
        pinned: false,
      }).evaluation,
    ).toBe("ALLOW");
  });

  it("refuses a malformed model action (fail closed)", () => {
    const d = ev(pull({ digest: "sha256:short" }));
    expect(d.evaluation).toBe("DENY");
    expect(d.reasons[0]).toMatch(/FORGE_ACTION_INVALID: invalid action: digest/);
  });

  it("rejects artifact match fields on other kinds, naming the line", () => {
    const bad = `rules:\n  - id: x\n    match: {kind: shell, program: ls, pinned: true}\n    effect: allow\n`;
    expect(() => compilePolicyText(bad, "bad.yaml")).toThrow(
      /field 'pinned' in rule 'x' \(bad.yaml:3\) only applies to kinds 'model.pull' and 'model.push'/,
    );
  });
});
