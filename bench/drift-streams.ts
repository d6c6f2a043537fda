/**
 * Synthetic evidence streams with shifts of known size, and the measurements made on them: the
 * detection delay in records, the false-alarm rate per window on stationary streams, and the
 * cost. Shared by the `drift` bench suite and test/drift/detector.test.ts.
 */
import { type DriftConfigInput, DriftMonitor } from "../src/drift/index.js";
import { Rng } from "../src/drift/random.js";
import type { RecordLike } from "../src/drift/signals.js";

export interface StreamShape {
  /** Action kinds and their weights. */
  kinds: string[];
  weights: number[];
  denyRate: number;
  /** Inference TTFT, ms: normal(mean, sd). */
  ttftMean: number;
  ttftSd: number;
  principals: string[];
}

export const BASE: StreamShape = {
  kinds: ["shell", "file.read", "http", "tool"],
  weights: [0.5, 0.3, 0.15, 0.05],
  denyRate: 0.1,
  ttftMean: 120,
  ttftSd: 15,
  principals: ["uid:501", "uid:502"],
};

const t0 = Date.parse("2026-12-01T00:00:00.000Z");
const PROGRAMS = ["git", "ls", "cat", "npm", "rg"];

/** One action record of the given shape (the i-th of its stream). */
export function actionRecord(rng: Rng, i: number, s: StreamShape): RecordLike {
  const kind = s.kinds[rng.pick(s.weights)]!;
  const r = rng.next();
  const evaluation = r < s.denyRate ? "DENY" : r < s.denyRate + 0.02 ? "ESCALATE" : "ALLOW";
  const rule = evaluation === "DENY" ? "deny-secrets" : evaluation === "ESCALATE" ? "escalate-net" : null;
  return {
    kind: "action",
    session_id: `claude-code:s${Math.floor(i / 20)}`,
    timestamp: new Date(t0 + i * 1000).toISOString(),
    proposed_action:
      kind === "shell"
        ? { kind, command: `${PROGRAMS[rng.int(PROGRAMS.length)]} status` }
        : kind === "tool"
          ? { kind, name: "search", arguments: {} }
          : { kind, path: "/tmp/x" },
    evaluation,
    policy_matched: { bundle: null, rules: rule === null ? [] : [{ rule_id: rule }] },
    execution_result: null,
    principal_review: null,
    latency_ms: Math.max(0.001, rng.normal(0.05, 0.01)),
    principal: `${s.principals[rng.int(s.principals.length)]} pid:${1000 + rng.int(50)}`,
    seq: i + 1,
  };
}

/** One inference record of the given shape. */
export function inferenceRecord(rng: Rng, i: number, s: StreamShape): RecordLike {
  return {
    kind: "inference",
    session_id: `chat:s${Math.floor(i / 10)}`,
    timestamp: new Date(t0 + i * 1000).toISOString(),
    proposed_action: { kind: "inference", model: "tiny" },
    evaluation: null,
    policy_matched: { bundle: null, rules: [] },
    execution_result: {
      model: "tiny",
      done_reason: "stop",
      timing: {
        prompt_tokens: 20 + rng.int(200),
        generated_tokens: 10 + rng.int(100),
        ttft_ms: Math.max(1, rng.normal(s.ttftMean, s.ttftSd)),
        tokens_per_s: Math.max(1, rng.normal(250, 20)),
        total_ms: 500,
      },
      tool_calls: rng.next() < 0.1 ? [{ name: "search", action_id: "a", evaluation: "ALLOW" }] : [],
    },
    principal_review: null,
    latency_ms: 500,
    principal: "uid:501",
    seq: i + 1,
  };
}

export interface Scenario {
  name: string;
  /** The signal the shift is in. */
  signal: string;
  stream: "action" | "inference";
  /** The shape after the shift. */
  after: StreamShape;
  /** The shift's size, in words. */
  size: string;
}

export const SCENARIOS: Scenario[] = [
  {
    name: "categorical mix change",
    signal: "action.kind",
    stream: "action",
    after: { ...BASE, weights: [0.35, 0.3, 0.3, 0.05] },
    size: "shell 50% → 35%, http 15% → 30%",
  },
  {
    name: "mean shift",
    signal: "inference.ttft_ms{model=tiny}",
    stream: "inference",
    after: { ...BASE, ttftMean: BASE.ttftMean + 0.5 * BASE.ttftSd },
    size: "+0.5 σ",
  },
  {
    name: "variance change",
    signal: "inference.ttft_ms{model=tiny}",
    stream: "inference",
    after: { ...BASE, ttftSd: BASE.ttftSd * 1.5 },
    size: "σ × 1.5",
  },
  {
    name: "new category",
    signal: "action.kind",
    stream: "action",
    after: { ...BASE, kinds: [...BASE.kinds, "email.send"], weights: [...BASE.weights, 0.05 / 0.95] },
    size: "email.send appears at 5%",
  },
];

/**
 * Feeds `warm` stationary records (the reference and a full current window), then shifted ones
 * until the scenario's signal raises a finding; returns the records after the shift it took
 * (null if none within `limit`).
 */
export function detectionDelay(
  sc: Scenario,
  cfg: DriftConfigInput,
  seed: number,
  warm: number,
  limit = 20_000,
): number | null {
  const mon = new DriftMonitor({ ...cfg, seed });
  const rng = new Rng(seed);
  const make = sc.stream === "action" ? actionRecord : inferenceRecord;
  for (let i = 0; i < warm; i++) mon.observe(make(rng, i, BASE));
  for (let k = 1; k <= limit; k++) {
    const events = mon.observe(make(rng, warm + k, sc.after));
    if (events.some((e) => e.event === "finding" && e.signal === sc.signal)) return k;
  }
  return null;
}

/**
 * Stationary stream, rounds on non-overlapping current windows (every = window): the share of
 * rounds with at least one signal over its threshold (the family-wise false-alarm rate per
 * window), and the per-signal-test rate. Records alternate action and inference.
 */
export function falseAlarmRate(
  cfg: DriftConfigInput,
  seed: number,
  rounds: number,
): { rounds: number; any: number; tests: number; alarms: number; signals: number } {
  const mon = new DriftMonitor({ ...cfg, seed });
  const win = mon.config.mode === "chunked" ? mon.config.chunk_size : mon.config.window;
  const rng = new Rng(seed);
  let i = 0;
  const step = () => {
    const rec = i % 2 === 0 ? actionRecord(rng, i, BASE) : inferenceRecord(rng, i, BASE);
    i++;
    return mon.observe(rec);
  };
  // Reference (the largest signal needs n values: records alternate, and action.rule is sparse).
  const refN = mon.config.reference.kind === "first" ? mon.config.reference.n : 1000;
  const warm = 2 * refN + 2 * win;
  while (i < warm) step();
  let counted = 0;
  let any = 0;
  let tests = 0;
  let alarms = 0;
  let lastRound = -1;
  let signals = 0;
  while (counted < rounds) {
    step();
    if (mon.roundCount === lastRound) continue;
    lastRound = mon.roundCount;
    const tested = mon.lastRound();
    if (tested.length === 0) continue;
    counted++;
    signals = Math.max(signals, tested.length);
    tests += tested.length;
    const bad = tested.filter((r) => r.drifted).length;
    alarms += bad;
    if (bad > 0) any++;
  }
  return { rounds: counted, any: any / counted, tests, alarms: alarms / tests, signals };
}

/** Non-overlapping windows: evaluate every `window` records (the per-window rate is then per round). */
export function perWindow(cfg: DriftConfigInput): DriftConfigInput {
  const m = new DriftMonitor(cfg);
  const win = m.config.mode === "chunked" ? m.config.chunk_size : m.config.window;
  // Records alternate, so a signal fills its window every 2·window records.
  return { ...cfg, every: 2 * win };
}
