import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { createTolerances, notifyWebhook, type Snapshot } from "../../src/platform/tolerances.js";

describe("createTolerances: transitions", () => {
  it("a breach is reported once when it starts and a recovery once when it ends", () => {
    const t = createTolerances({ hysteresis: 0, indicators: { gate_p99_ms: { max: 10 } } });
    const feed = (v: number, now: number) => t.evaluate({ gate_p99_ms: v }, now);
    expect(feed(5, 0)).toMatchObject({ breaches: [], recoveries: [] });
    const b = feed(12, 1000);
    expect(b.breaches).toEqual([
      {
        kind: "breach",
        indicator: "gate_p99_ms",
        value: 12,
        bound: { op: "max", limit: 10 },
        since_ms: 1000,
        at_ms: 1000,
      },
    ]);
    expect(b.state.gate_p99_ms?.status).toBe("breached");
    // Still outside: no second breach.
    expect(feed(15, 2000)).toMatchObject({ breaches: [], recoveries: [] });
    expect(feed(11, 3000)).toMatchObject({ breaches: [], recoveries: [] });
    const r = feed(9, 4000);
    expect(r.breaches).toEqual([]);
    expect(r.recoveries).toEqual([
      {
        kind: "recovery",
        indicator: "gate_p99_ms",
        value: 9,
        bound: { op: "max", limit: 10 },
        since_ms: 4000,
        at_ms: 4000,
        breach_ms: 3000,
      },
    ]);
    expect(feed(8, 5000)).toMatchObject({ breaches: [], recoveries: [] });
    expect(t.state().gate_p99_ms).toMatchObject({ status: "ok", value: 8 });
  });

  it("the value at the bound is inside (max is inclusive), and floors work the other way", () => {
    const t = createTolerances({
      hysteresis: 0,
      indicators: { temperature_c: { max: 90 }, inference_tokens_per_s: { min: 20 } },
    });
    expect(t.evaluate({ temperature_c: 90, inference_tokens_per_s: 20 }, 0).breaches).toEqual([]);
    const e = t.evaluate({ temperature_c: 90.5, inference_tokens_per_s: 19.9 }, 1);
    expect(e.breaches.map((b) => [b.indicator, b.bound.op])).toEqual([
      ["inference_tokens_per_s", "min"],
      ["temperature_c", "max"],
    ]);
    expect(
      t
        .evaluate({ temperature_c: 80, inference_tokens_per_s: 25 }, 2)
        .recoveries.map((r) => r.indicator)
        .sort(),
    ).toEqual(["inference_tokens_per_s", "temperature_c"]);
  });

  it("hysteresis: hovering around the bound does not flap; recovery needs the margin", () => {
    const t = createTolerances({ hysteresis: 0.1, indicators: { power_gpu_w: { max: 20 } } });
    const transitions: string[] = [];
    for (const [i, v] of [19, 21, 19.5, 20.5, 18.5, 21, 17.9, 18.5].entries()) {
      const e = t.evaluate({ power_w: { gpu: v } }, i * 1000);
      for (const x of [...e.breaches, ...e.recoveries]) transitions.push(`${x.kind}@${v}`);
    }
    // 19.5 and 18.5 are inside the bound but not 10% inside (<= 18): still breached.
    expect(transitions).toEqual(["breach@21", "recovery@17.9"]);
  });

  it("for_ms: a breach must last, and so must the recovery; a blip resets the clock", () => {
    const t = createTolerances({
      hysteresis: 0,
      for_ms: 5000,
      indicators: { evidence_backlog: { max: 100 } },
    });
    const at = (v: number, now: number) => {
      const e = t.evaluate({ evidence_backlog: v }, now);
      return [...e.breaches, ...e.recoveries].map((x) => `${x.kind}:${x.since_ms}`);
    };
    expect(at(150, 0)).toEqual([]);
    expect(t.state().evidence_backlog?.status).toBe("pending-breach");
    expect(at(150, 4000)).toEqual([]);
    expect(at(50, 4500)).toEqual([]); // back inside before 5 s: no breach, clock reset
    expect(at(150, 6000)).toEqual([]);
    expect(at(150, 11_000)).toEqual(["breach:6000"]);
    expect(at(50, 12_000)).toEqual([]);
    expect(t.state().evidence_backlog?.status).toBe("pending-recovery");
    expect(at(150, 13_000)).toEqual([]); // relapse: stays breached, no new breach
    expect(t.state().evidence_backlog?.status).toBe("breached");
    expect(at(50, 14_000)).toEqual([]);
    expect(at(50, 19_000)).toEqual(["recovery:14000"]);
  });

  it("per-indicator settings override the defaults", () => {
    const t = createTolerances({
      hysteresis: 0.5,
      for_ms: 10_000,
      indicators: { escalation_queue_age_s: { max: 60, hysteresis: 0, for_ms: 0 }, power_ane_w: { max: 8 } },
    });
    expect(
      t.evaluate({ escalation_queue_age_s: 61, power_w: { ane: 9 } }, 0).breaches.map((b) => b.indicator),
    ).toEqual(["escalation_queue_age_s"]);
    expect(t.evaluate({ escalation_queue_age_s: 60, power_w: { ane: 9 } }, 10_000)).toMatchObject({
      breaches: [{ indicator: "power_ane_w" }],
      recoveries: [{ indicator: "escalation_queue_age_s" }],
    });
  });

  it("missing or non-finite readings are unknown: they neither breach nor recover", () => {
    const t = createTolerances({ hysteresis: 0, indicators: { power_cpu_w: { max: 30 } } });
    expect(t.evaluate({ power_w: { cpu: 40 } }, 0).breaches).toHaveLength(1);
    expect(t.evaluate({}, 1)).toMatchObject({ breaches: [], recoveries: [] });
    expect(t.evaluate({ power_w: { cpu: Number.NaN } }, 2)).toMatchObject({ breaches: [], recoveries: [] });
    expect(t.state().power_cpu_w?.status).toBe("breached");
    expect(t.evaluate({ power_w: { cpu: 10 } }, 3).recoveries).toHaveLength(1);
  });

  it("deny rate over a trailing window from cumulative counts, with a minimum of decisions", () => {
    const t = createTolerances({
      hysteresis: 0,
      indicators: { deny_rate: { max: 0.25, window_s: 60, min_decisions: 20 } },
    });
    const at = (allow: number, deny: number, now: number) => {
      const e = t.evaluate({ gate_counts: { allow, deny, escalate: 0 } }, now);
      return [...e.breaches, ...e.recoveries].map((x) => `${x.kind}:${x.value.toFixed(2)}`);
    };
    expect(at(0, 0, 0)).toEqual([]);
    expect(at(1, 5, 10_000)).toEqual([]); // 5 of 6 denied, but only 6 decisions: not judged
    expect(at(20, 10, 30_000)).toEqual(["breach:0.33"]); // 10 of 30
    // 60 s later the window starts after t=30 s: 100 allows, 0 denies since then.
    expect(at(120, 10, 90_000)).toEqual(["recovery:0.00"]);
    // A restart (counts drop) starts the history over instead of producing a negative rate.
    expect(at(0, 0, 100_000)).toEqual([]);
    expect(at(10, 30, 110_000)).toEqual(["breach:0.75"]);
  });

  it("only configured indicators appear in the state; bad config is FORGE_CONFIG_INVALID naming the field", () => {
    const t = createTolerances({ indicators: { temperature_c: { max: 95 } } });
    expect(Object.keys(t.evaluate({ gate_p99_ms: 1e9, temperature_c: 50 }, 0).state)).toEqual([
      "temperature_c",
    ]);
    expect(() => createTolerances({ indicators: { temperature_c: { min: 95 } } } as never)).toThrow(
      expect.objectContaining({
        code: "FORGE_CONFIG_INVALID",
        message: expect.stringContaining("temperature_c"),
      }),
    );
    expect(() => createTolerances({ indicators: { deny_rate: { max: 2 } } })).toThrow(
      expect.objectContaining({
        code: "FORGE_CONFIG_INVALID",
        message: expect.stringContaining("deny_rate.max"),
      }),
    );
    expect(() => createTolerances({ indicators: { gpu_temp: { max: 1 } } } as never)).toThrow(
      expect.objectContaining({ code: "FORGE_CONFIG_INVALID" }),
    );
    expect(() => createTolerances({ webhook: { url: "not a url" } })).toThrow(
      expect.objectContaining({ code: "FORGE_CONFIG_INVALID" }),
    );
  });

  it("property: transitions alternate breach/recovery, and the state agrees with the last one", () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.double({ min: 0, max: 200, noNaN: true }), { nil: undefined }), {
          maxLength: 80,
        }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.integer({ min: 0, max: 3000 }),
        (values, hysteresis, forMs) => {
          const t = createTolerances({
            hysteresis,
            for_ms: forMs,
            indicators: { gate_p99_ms: { max: 100 } },
          });
          const kinds: string[] = [];
          values.forEach((v, i) => {
            const snap: Snapshot = v === undefined ? {} : { gate_p99_ms: v };
            const e = t.evaluate(snap, i * 1000);
            expect(e.breaches.length + e.recoveries.length).toBeLessThanOrEqual(1);
            for (const x of [...e.breaches, ...e.recoveries]) {
              kinds.push(x.kind);
              if (x.kind === "breach") expect(x.value).toBeGreaterThan(100);
              else expect(x.value).toBeLessThanOrEqual(100 - 100 * hysteresis);
            }
          });
          expect(kinds).toEqual(kinds.map((_, i) => (i % 2 === 0 ? "breach" : "recovery")));
          const status = t.state().gate_p99_ms!.status;
          const inBreach = status === "breached" || status === "pending-recovery";
          expect(inBreach).toBe(kinds.length % 2 === 1);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("notifyWebhook against a real local HTTP server", () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  /** A server answering with `statuses` in turn (the last one repeats); records each body. */
  async function serve(statuses: number[]) {
    const bodies: unknown[] = [];
    let i = 0;
    server = createServer((req, res) => {
      let data = "";
      req.on("data", (c) => {
        data += c;
      });
      req.on("end", () => {
        bodies.push({ method: req.method, type: req.headers["content-type"], body: JSON.parse(data) });
        res.statusCode = statuses[Math.min(i++, statuses.length - 1)]!;
        res.end("");
      });
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
    return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/hook`, bodies };
  }

  it("fails twice, then succeeds: three attempts with exponential backoff", async () => {
    const { url, bodies } = await serve([503, 500, 204]);
    const delays: number[] = [];
    const payload = { kind: "breach", indicator: "temperature_c", value: 99 };
    const r = await notifyWebhook(url, payload, {
      retries: 3,
      backoffMs: 5,
      sleep: (ms) => {
        delays.push(ms);
        return new Promise((res) => setTimeout(res, ms));
      },
    });
    expect(r).toEqual({ attempts: 3, status: 204 });
    expect(delays).toEqual([5, 10]);
    expect(bodies).toHaveLength(3);
    for (const b of bodies) expect(b).toEqual({ method: "POST", type: "application/json", body: payload });
  });

  it("gives up after retries+1 attempts with FORGE_WEBHOOK_FAILED", async () => {
    const { url, bodies } = await serve([500]);
    const delays: number[] = [];
    const err = await notifyWebhook(
      url,
      { x: 1 },
      { retries: 2, backoffMs: 1, sleep: async (ms) => void delays.push(ms) },
    ).catch((e) => e);
    expect(err).toMatchObject({ code: "FORGE_WEBHOOK_FAILED", details: { attempts: 3 } });
    expect(bodies).toHaveLength(3);
    expect(delays).toEqual([1, 2]);
  });

  it("a 4xx other than 408/429 is final; 429 is retried", async () => {
    const a = await serve([400, 204]);
    await expect(notifyWebhook(a.url, {}, { retries: 3, backoffMs: 1 })).rejects.toMatchObject({
      code: "FORGE_WEBHOOK_FAILED",
    });
    expect(a.bodies).toHaveLength(1);
    await new Promise<void>((r) => server!.close(() => r()));
    const b = await serve([429, 200]);
    expect(await notifyWebhook(b.url, {}, { retries: 3, backoffMs: 1 })).toEqual({
      attempts: 2,
      status: 200,
    });
  });

  it("connection refused is retried and then reported", async () => {
    const { url } = await serve([200]);
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    const err = await notifyWebhook(url, {}, { retries: 1, backoffMs: 1 }).catch((e) => e);
    expect(err).toMatchObject({ code: "FORGE_WEBHOOK_FAILED", details: { attempts: 2 } });
  });
});
