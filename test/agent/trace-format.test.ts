import { describe, expect, it } from "vitest";
import { buildTrace, formatTrace } from "../../src/agent/trace.js";
import { input } from "../collector/helpers.js";

// Issue 21, "Broken out of the box" 1: the human output of `trace` prints the "incomplete" warning
// whether the session has steps or none (the CLI prints formatTrace for the agent's answer and for
// its own read of the evidence file alike).
describe("formatTrace's incomplete warning", () => {
  const rec = { ...input("demo", 1), host_id: "h", seq: 1, prev_hash: "0".repeat(64), hash: "1".repeat(64) };
  const why = "records already shipped to the collector are missing: FORGE_UNAUTHENTICATED: HTTP 401";

  it("prints it right under the header of a session with steps", () => {
    const lines = formatTrace({
      ...buildTrace("demo", [rec]),
      sources: { local: 1, collector: 0, incomplete: why },
    }).split("\n");
    expect(lines[0]).toBe("session demo: 1 step(s)");
    expect(lines[1]).toBe(`warning: this trace may be incomplete: ${why}`);
    expect(lines[2]).toMatch(/^1\. .*seq 1 {2}action {2}ALLOW {2}\[final\] {2}a-1$/);
  });

  it("prints it for a session with no evidence here", () => {
    expect(
      formatTrace({ ...buildTrace("demo", []), sources: { local: 0, collector: 0, incomplete: why } }),
    ).toBe(`session demo: no evidence\nwarning: this trace may be incomplete: ${why}`);
  });

  it("prints none when nothing is missing", () => {
    expect(formatTrace({ ...buildTrace("demo", [rec]), sources: { local: 1, collector: 0 } })).not.toContain(
      "warning",
    );
  });
});
