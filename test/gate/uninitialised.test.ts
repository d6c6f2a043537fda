import { describe, expect, it } from "vitest";
import { Codes } from "../../src/errors.js";
import { compilePolicyText, Gate, loadPolicyText } from "../../src/gate/index.js";

// Each test file runs in its own worker, so the shell parser is not loaded here.
describe("before initGate()", () => {
  const bundle = compilePolicyText(
    "rules:\n  - {id: ls, match: {kind: shell, program: ls}, effect: allow}\n",
    "p.yaml",
  );

  it("a shell action is DENY gate-error, never ALLOW", () => {
    const d = new Gate(bundle, { home: "/h" }).evaluate({
      session_id: "s",
      action: { kind: "shell", command: "ls" },
    });
    expect(d.evaluation).toBe("DENY");
    expect(d.reasons).toEqual(["gate-error", expect.stringMatching(/initGate/)]);
  });

  it("loading a policy says to call initGate first", () => {
    expect(() => loadPolicyText("rules: []\n", "p.yaml")).toThrow(
      expect.objectContaining({ code: Codes.GATE_ERROR }),
    );
  });
});
