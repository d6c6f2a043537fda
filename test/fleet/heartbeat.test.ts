import { describe, expect, it } from "vitest";
import { GateStats, Heartbeat } from "../../src/agent/heartbeat.js";
import type { NativeSample } from "../../src/platform/native.js";
import { sampleMetrics } from "../../src/platform/native.js";
import { breachedOf, snapshotOf } from "../../src/platform/tolerances.js";
import type { RecordInput } from "../../src/protocol/record.js";

/** A sample `ms` after start with cumulative counters that grew at `watts` (RAPL uJ) and 50% CPU. */
function sample(ms: number, watts: number): NativeSample {
  return {
    platform: "linux",
    monotonicMs: ms,
    ticksPerSecond: 100,
    cpu: { total: { busy: ms / 20, idle: ms / 20 }, cores: [{ busy: ms / 20, idle: ms / 20 }] },
    memory: { totalBytes: 1000, availableBytes: 600, usedBytes: 400, pressure: null, pressureLevel: null },
    temperatures: [{ zone: "thermal_zone0", type: "x86_pkg_temp", celsius: 55 }],
    energy: [
      {
        rail: "cpu",
        name: "package-0",
        zone: "intel-rapl:0",
        parent: "",
        unit: "uJ",
        value: ms * 1000 * watts,
        max: null,
      },
    ],
    residencies: [],
    notes: [],
  };
}

describe("GateStats", () => {
  it("counts every decision and keeps p99 and the deny rate over the last window", () => {
    const g = new GateStats(100);
    expect(g.p99()).toBeNull();
    expect(g.denyRate()).toBeNull();
    for (let i = 1; i <= 100; i++) g.record(i % 4 === 0 ? "DENY" : "ALLOW", i / 100);
    expect(g.counts).toEqual({ ALLOW: 75, DENY: 25, ESCALATE: 0 });
    expect(g.p99()).toBeCloseTo(0.99, 10);
    expect(g.denyRate()).toBeCloseTo(0.25, 10);
    // A window's worth of fast ALLOWs pushes the old ones out; the counts keep everything.
    for (let i = 0; i < 100; i++) g.record("ALLOW", 0.001);
    expect(g.p99()).toBe(0.001);
    expect(g.denyRate()).toBe(0);
    expect(g.counts.ALLOW).toBe(175);
  });
});

describe("Heartbeat", () => {
  const make = (over: Partial<ConstructorParameters<typeof Heartbeat>[0]> = {}) => {
    const records: RecordInput[] = [];
    let t = 0;
    let reviews: Array<{ timestamp?: string }> = [];
    let now = Date.parse("2026-11-25T04:00:00.000Z");
    const hb = new Heartbeat({
      hostId: "h1",
      gate: new GateStats(),
      sample: () => {
        t += 1000;
        return sample(t, 4);
      },
      facts: async () => ({
        model: "m",
        chip: "c",
        cores: 1,
        memory_bytes: 1,
        os: "o",
        arch: "x",
        node: "v",
        version: null,
      }),
      evidence: () => ({ backlog: 3, lastSeq: 9 }),
      policy: () => ({ id: "p", version: 2, sha256: "s", source: "file" }),
      models: () => [{ backend: "llama", model: null }],
      reviews: () => reviews,
      append: async (r) => void records.push(r),
      logger: { warn() {}, info() {} },
      now: () => now,
      ...over,
    });
    return {
      hb,
      records,
      setReviews: (r: typeof reviews) => {
        reviews = r;
      },
      advance: (ms: number) => {
        now += ms;
      },
    };
  };

  it("reads the platform between ticks: CPU %, watts per rail, temperature, memory", () => {
    const { hb } = make();
    const p = hb.tick();
    expect(p.reading).toMatchObject({
      cpu_percent: 50,
      temperature_c: 55,
      memory_used_percent: 40,
      interval_ms: 1000,
    });
    expect(p.reading!.watts.cpu).toBeCloseTo(4, 6);
    expect(p.evidence).toEqual({ backlog: 3, last_seq: 9 });
    expect(p.policy.version).toBe(2);
  });

  it("a sampler that throws is reported in the heartbeat, not fatal", () => {
    const { hb } = make({
      sample: () => {
        throw new Error("no /proc here");
      },
    });
    const p = hb.tick();
    expect(p.reading).toBeNull();
    expect(p.reading_error).toBe("no /proc here");
  });

  it("writes one alert record per breach and per recovery of a tolerance, not one per tick", async () => {
    const { hb, records, setReviews, advance } = make({
      tolerances: {
        hysteresis: 0,
        indicators: { escalation_queue_age_s: { max: 60 }, power_cpu_w: { max: 10 } },
      },
    });
    setReviews([{ timestamp: "2026-11-25T04:00:00.000Z" }]);
    hb.tick();
    advance(61_000);
    expect(hb.tick().tolerances.breached).toEqual(["escalation_queue_age_s"]);
    advance(1000);
    hb.tick();
    setReviews([]);
    expect(hb.tick().tolerances.breached).toEqual([]);
    await hb.stop();
    expect(records.map((r) => [r.kind, (r.proposed_action as { kind: string }).kind])).toEqual([
      ["alert", "tolerance.breach"],
      ["alert", "tolerance.recovery"],
    ]);
    expect(records[0]!.session_id).toBe("agent:h1");
    expect(records[0]!.execution_result).toEqual({
      message: expect.stringMatching(/escalation_queue_age_s = 61 breaches its ceiling 60/),
    });
  });

  it("works against the real native sampler on this host", () => {
    const { hb } = make({ sample: () => sampleMetrics() });
    const p = hb.tick();
    expect(p.reading_error).toBeNull();
    expect(p.reading!.cpu_percent === null || p.reading!.cpu_percent >= 0).toBe(true);
    expect(p.reading!.memory_used_percent).toBeGreaterThan(0);
  });
});

describe("snapshotOf / breachedOf", () => {
  it("maps a heartbeat onto the tolerance snapshot; unknowns stay unknown", () => {
    expect(
      snapshotOf({
        gate: { counts: { ALLOW: 5, DENY: 2, ESCALATE: 1 }, p99_ms: 0.02 },
        evidence: { backlog: 7 },
        inference: { tokens_per_second: null },
        reading: { temperature_c: 61, watts: { cpu: 3, ane: 0.5 } },
        review_queue: { pending: 0, oldest_age_ms: null },
      }),
    ).toEqual({
      gate_p99_ms: 0.02,
      gate_counts: { allow: 5, deny: 2, escalate: 1 },
      escalation_queue_age_s: 0,
      evidence_backlog: 7,
      inference_tokens_per_s: undefined,
      temperature_c: 61,
      power_w: { cpu: 3, gpu: undefined, ane: 0.5 },
    });
    expect(snapshotOf(null).evidence_backlog).toBeUndefined();
    expect(snapshotOf({ review_queue: { pending: 2, oldest_age_ms: 5000 } }).escalation_queue_age_s).toBe(5);
    expect(
      breachedOf({
        a: { status: "breached", value: 1, since_ms: 0, breached_at_ms: 0 },
        b: { status: "pending-breach", value: 1, since_ms: 0, breached_at_ms: null },
        c: { status: "pending-recovery", value: 1, since_ms: 0, breached_at_ms: 0 },
      } as never),
    ).toEqual(["a", "c"]);
  });
});
