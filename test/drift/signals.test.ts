// What a record or a heartbeat yields, and the edge cases of the statistics.
import { describe, expect, it } from "vitest";
import {
  boundedPopulations,
  heartbeatObservations,
  observationsOf,
  principalOf,
  programOf,
  type RecordLike,
  sessionKindOf,
} from "../../src/drift/signals.js";
import {
  benjaminiHochberg,
  chiSquareHomogeneity,
  holm,
  jsDistance,
  ks2samp,
  zTestProportions,
} from "../../src/drift/stats.js";

const action = (over: Partial<RecordLike> = {}): RecordLike => ({
  kind: "action",
  session_id: "claude-code:abc",
  timestamp: "2026-12-02T10:00:00.000Z",
  proposed_action: { kind: "shell", command: "FOO=1 /usr/bin/git status" },
  evaluation: "ESCALATE",
  policy_matched: { bundle: null, rules: [{ rule_id: "escalate-git" }, { rule_id: "audit" }] },
  execution_result: { reasons: ["git push needs review"] },
  principal_review: { decision: "approve", at: "2026-12-02T10:00:02.500Z" },
  latency_ms: 0.04,
  principal: "uid:501 pid:4242",
  ...over,
});

describe("signals", () => {
  it("an action record: kind, program, every rule, reasons, rates, latency, review, per population", () => {
    const obs = observationsOf(action(), { split_by: ["principal", "session_kind"] }, boundedPopulations(4));
    const by = (s: string) => obs.filter((o) => o.signal === s).map((o) => o.value);
    expect(by("action.kind")).toEqual(["shell"]);
    expect(by("action.kind{principal=uid:501}")).toEqual(["shell"]);
    expect(by("gate.escalate{session_kind=claude-code}")).toEqual(["yes"]);
    expect(by("gate.deny")).toEqual(["no"]);
    expect(by("action.program")).toEqual(["git"]);
    expect(by("action.rule")).toEqual(["escalate-git", "audit"]);
    expect(by("action.reason")).toEqual(["git push needs review"]);
    expect(by("gate.latency_ms")).toEqual([0.04]);
    expect(by("review.outcome")).toEqual(["approve"]);
    expect(by("review.latency_ms")).toEqual([2500]);
  });

  it("an inference record: per model lengths, speed, TTFT, tool calls and their mix", () => {
    const obs = observationsOf(
      {
        ...action(),
        kind: "inference",
        evaluation: null,
        principal_review: null,
        execution_result: {
          model: "llama3.2",
          done_reason: "length",
          timing: { prompt_tokens: 30, generated_tokens: 12, ttft_ms: 80, tokens_per_s: 41, total_ms: 400 },
          tool_calls: [{ name: "search" }, { name: "fetch" }],
        },
      },
      { split_by: [] },
      boundedPopulations(4),
    );
    const m = "{model=llama3.2}";
    expect(
      Object.fromEntries(obs.filter((o) => o.type === "numerical").map((o) => [o.signal, o.value])),
    ).toEqual({
      [`inference.prompt_tokens${m}`]: 30,
      [`inference.output_tokens${m}`]: 12,
      [`inference.tokens_per_s${m}`]: 41,
      [`inference.ttft_ms${m}`]: 80,
      [`inference.tool_calls${m}`]: 2,
    });
    expect(obs.filter((o) => o.signal === `inference.tool${m}`).map((o) => o.value)).toEqual([
      "search",
      "fetch",
    ]);
    expect(obs.find((o) => o.signal === `inference.outcome${m}`)!.value).toBe("length");
  });

  it("heartbeats, populations folding into (other), names", () => {
    expect(
      heartbeatObservations({
        reading: { cpu_percent: 12, temperature_c: null },
        review_queue: { pending: 2 },
      }),
    ).toEqual([
      { signal: "host.cpu_percent", type: "numerical", value: 12 },
      { signal: "review.queue_pending", type: "numerical", value: 2 },
    ]);
    const pops = boundedPopulations(2);
    expect(["a", "b", "c", "a"].map(pops.principal)).toEqual(["a", "b", "(other)", "a"]);
    expect(principalOf("uid:501 pid:9")).toBe("uid:501");
    expect(principalOf(null)).toBe("(none)");
    expect(sessionKindOf("eval:run-1")).toBe("eval");
    expect(sessionKindOf("9f1c-uuid")).toBe("session");
    expect(programOf("  A=1 B=2 ./bin/tool --x")).toBe("tool");
    // alert records and unknown kinds yield nothing
    expect(observationsOf({ ...action(), kind: "alert" }, { split_by: [] }, boundedPopulations(1))).toEqual(
      [],
    );
  });
});

describe("statistics edge cases", () => {
  it("identical samples, empty bins, one category, degenerate proportions", () => {
    expect(ks2samp([1, 1, 1], [1, 1])).toMatchObject({ statistic: 0, pvalue: 1 });
    expect(() => ks2samp([], [1])).toThrow(RangeError);
    expect(jsDistance([0, 0], [1, 2])).toBeNaN();
    expect(jsDistance([1, 0], [0, 1])).toBeCloseTo(1, 12);
    expect(chiSquareHomogeneity([5, 0], [7, 0])).toMatchObject({ pvalue: 1, df: 0 });
    expect(zTestProportions(10, 10, 5, 5).pvalue).toBe(1);
  });

  it("Holm and BH reject in order and adjust monotonically", () => {
    const p = [0.001, 0.04, 0.03, 0.5, Number.NaN];
    const h = holm(p, 0.05);
    expect(h.reject).toEqual([true, false, false, false, false]);
    expect(h.adjusted[0]).toBeCloseTo(0.005, 12);
    const b = benjaminiHochberg(p, 0.05);
    expect(b.reject).toEqual([true, false, false, false, false]);
    expect(benjaminiHochberg([0.01, 0.02, 0.03], 0.05).reject).toEqual([true, true, true]);
    expect(holm([0.01, 0.02, 0.03], 0.05).reject).toEqual([true, true, true]);
  });
});
