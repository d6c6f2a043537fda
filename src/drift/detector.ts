/**
 * The drift monitor: per-signal reference and current windows, a test per signal chosen as
 * Evidently chooses (or NannyML-style chunked thresholds), rounds with a multiple-testing
 * correction, findings that raise and clear with hysteresis, and resets on a promotion or a
 * policy change. Pure and synchronous: the agent and the collector feed it records and
 * heartbeats and turn its events into evidence records, alert rows, webhooks and gauges.
 */
import { type DriftConfig, type DriftConfigInput, parseDriftConfig } from "./config.js";
import { Rng } from "./random.js";
import {
  boundedPopulations,
  coveredBy,
  heartbeatObservations,
  type Observation,
  type ObservationSink,
  type Populations,
  type RecordLike,
  type SignalType,
  visitObservations,
} from "./signals.js";
import {
  benjaminiHochberg,
  chiSquare,
  chiSquareHomogeneity,
  holm,
  jsDistance,
  ks2sampSorted,
  stdDev,
  wasserstein1Sorted,
  zTestProportions,
} from "./stats.js";
import { Categories, Reservoir, Ring } from "./window.js";

export type Method =
  | "ks"
  | "chisquare"
  | "z"
  | "wasserstein"
  | "jensenshannon"
  | "chunked-wasserstein"
  | "chunked-jensenshannon";

/** One window's summary, as a finding carries it. */
export interface WindowSummary {
  n: number;
  /** Values kept for the test (the reservoir sample or the ring), ≤ n. */
  sampled: number;
  from_ms: number | null;
  to_ms: number | null;
  mean?: number;
  std?: number;
  min?: number;
  p50?: number;
  p90?: number;
  max?: number;
  /** Categorical: the most frequent categories with their shares. */
  top?: { value: string; share: number }[];
}

/** Both windows' distributions on the same bins (categories or value ranges), counts. */
export interface Distribution {
  labels: string[];
  reference: number[];
  current: number[];
}

export interface Contribution {
  category: string;
  reference_share: number;
  current_share: number;
  /** This category's (or bin's) part of the statistic. */
  contribution: number;
}

export interface TestResult {
  signal: string;
  type: SignalType;
  method: Method;
  statistic: number;
  /** p-value tests: alpha after the correction of the round (per-test bound); distances: the cut. */
  threshold: number;
  pvalue: number | null;
  pvalue_adjusted: number | null;
  correction: DriftConfig["correction"] | null;
  drifted: boolean;
  reference: WindowSummary;
  current: WindowSummary;
  distribution: Distribution;
  top: Contribution[];
  examples: string[];
  round: number;
  at_ms: number;
}

export type DriftEvent =
  | ({ event: "finding" } & TestResult)
  | ({ event: "recovery"; drifted_since_ms: number } & TestResult)
  | {
      event: "reset";
      trigger: "promotion" | "policy";
      detail: Record<string, unknown>;
      signals: string[];
      /** Findings the reset closed (their reference is gone, so they neither persist nor recover). */
      closed: string[];
      at_ms: number;
    };

export type SignalStatus = "learning" | "ok" | "drift";

export interface SignalView {
  signal: string;
  type: SignalType;
  status: SignalStatus;
  reference_n: number;
  current_n: number;
  since_ms: number | null;
  last: TestResult | null;
  memory_bytes: number;
}

interface Ctx {
  ts: number;
  session: string | null;
  fromEval: boolean;
}

/** One signal: bounded reference and current windows, and its finding state. */
class Signal {
  readonly ref: Reservoir;
  readonly cur: Ring;
  readonly cats: Categories | null;
  refCounts: Float64Array | null;
  curCounts: Float64Array | null;
  refComplete = false;
  refFrom: number | null = null;
  refTo: number | null = null;
  curFrom: number | null = null;
  curTo: number | null = null;
  status: SignalStatus = "learning";
  clean = 0;
  since: number | null = null;
  last: TestResult | null = null;
  /** Set by a reset: a range reference no longer applies, the signal learns its first values. */
  afterReset = false;
  /** The reference sample sorted (and its σ), valid while ref.seen === sortedAt. */
  sorted: Float64Array | null = null;
  sortedStd = 0;
  sortedAt = -1;

  constructor(
    readonly key: string,
    readonly type: SignalType,
    cfg: DriftConfig,
  ) {
    this.ref = new Reservoir(cfg.reservoir);
    this.cur = new Ring(cfg.mode === "chunked" ? cfg.chunk_size : cfg.window);
    this.cats = type === "categorical" ? new Categories(cfg.max_categories) : null;
    this.refCounts = type === "categorical" ? new Float64Array(cfg.max_categories) : null;
    this.curCounts = type === "categorical" ? new Float64Array(cfg.max_categories) : null;
  }

  /** Approximate bytes held (typed arrays at their caps, the ring's session slots, category names). */
  memoryBytes(): number {
    let b = this.ref.values.byteLength + this.cur.values.byteLength + this.cur.cap * 8;
    if (this.cats !== null) {
      b += (this.refCounts?.byteLength ?? 0) + (this.curCounts?.byteLength ?? 0);
      for (const n of this.cats.names) b += 48 + n.length * 2;
    }
    return b + 512;
  }

  add(v: number | string, c: Ctx, refMode: "reference" | "current" | "ignore", rng: Rng): void {
    if (refMode === "ignore") return;
    const x = this.cats === null ? (v as number) : this.cats.id(String(v));
    if (refMode === "reference") {
      this.ref.add(x, rng);
      if (this.refCounts !== null) this.refCounts[x]!++;
      this.refFrom ??= c.ts;
      this.refTo = c.ts;
      return;
    }
    const evicted = this.cur.push(x, c.session);
    if (this.curCounts !== null) {
      this.curCounts[x]!++;
      if (evicted !== undefined) this.curCounts[evicted]!--;
    }
    this.curFrom = this.cur.length === 1 || this.curFrom === null ? c.ts : this.curFrom;
    this.curTo = c.ts;
  }

  reset(keepReference: boolean): void {
    this.afterReset = true;
    this.sortedAt = -1;
    if (!keepReference) {
      this.ref.clear();
      this.refCounts?.fill(0);
      this.refComplete = false;
      this.refFrom = null;
      this.refTo = null;
    }
    this.cur.clear();
    this.curCounts?.fill(0);
    this.curFrom = null;
    this.curTo = null;
    this.status = keepReference && this.refComplete ? "ok" : "learning";
    this.clean = 0;
    this.since = null;
    this.last = null;
  }
}

/** The drift monitor of one host (or of the fleet, at the collector). */
export class DriftMonitor {
  readonly config: DriftConfig;
  private readonly signals = new Map<string, Signal>();
  private readonly rng: Rng;
  private readonly pops: Populations;
  private records = 0;
  private observations = 0;
  private rounds = 0;
  private droppedSignals = 0;
  private sinceRound = 0;
  private policySha: string | null = null;
  private latest: TestResult[] = [];
  private lastTs = 0;
  /** The record being observed (its time, session, origin), for the sink. */
  private ctx: Ctx = { ts: 0, session: null, fromEval: false };
  /** A record's observations go straight into the signals (visitObservations). */
  private readonly sink: ObservationSink = (signal, type, value) =>
    this.feedOne(signal, type, value, this.ctx);

  constructor(config: DriftConfigInput | DriftConfig = {}) {
    this.config = parseDriftConfig(config);
    this.rng = new Rng(this.config.seed);
    this.pops = boundedPopulations(this.config.max_populations);
  }

  /** Feeds one evidence record; returns the events it caused (a reset, or a round's findings). */
  observe(rec: RecordLike): DriftEvent[] {
    const ts = Date.parse(rec.timestamp);
    const at = Number.isFinite(ts) ? ts : this.lastTs;
    this.lastTs = Math.max(this.lastTs, at);
    const events: DriftEvent[] = [];
    const reset = this.resetFor(rec, at);
    if (reset !== null) events.push(reset);
    this.records++;
    const fromEval =
      this.config.reference.kind === "eval" &&
      rec.session_id.startsWith(this.config.reference.session_prefix);
    // One context object, updated per record (nothing keeps it past the record's observations).
    const c = this.ctx;
    c.ts = at;
    c.session = rec.session_id;
    c.fromEval = fromEval;
    visitObservations(rec, this.config, this.pops, this.sink);
    if (++this.sinceRound >= this.config.every) events.push(...this.evaluate(at));
    return events;
  }

  /** The policy in force before the first record fed (its bundle sha256): the next different one resets. */
  policyBaseline(sha256: string): void {
    this.policySha ??= sha256;
  }

  /** Feeds one heartbeat (host and review-queue signals); heartbeats do not start rounds. */
  observeHeartbeat(hb: unknown, atMs: number): void {
    this.lastTs = Math.max(this.lastTs, atMs);
    this.feed(heartbeatObservations(hb), { ts: atMs, session: null, fromEval: false });
  }

  /** Tests every ready signal now (one round); returns findings and recoveries. */
  evaluate(atMs: number = this.lastTs): DriftEvent[] {
    this.sinceRound = 0;
    this.rounds++;
    const results: { s: Signal; r: TestResult }[] = [];
    for (const s of this.signals.values()) {
      const r = this.test(s, atMs);
      if (r !== null) results.push({ s, r });
    }
    this.correct(results.map((x) => x.r));
    this.latest = results.map((x) => x.r);
    const events: DriftEvent[] = [];
    for (const { s, r } of results) {
      s.last = r;
      if (r.drifted || s.status === "drift") this.detail(s, r);
      if (r.drifted) {
        s.clean = 0;
        if (s.status !== "drift") {
          s.status = "drift";
          s.since = atMs;
          events.push({ event: "finding", ...r });
        }
      } else if (s.status === "drift") {
        if (++s.clean >= this.config.clear_rounds) {
          events.push({ event: "recovery", drifted_since_ms: s.since!, ...r, examples: [] });
          s.status = "ok";
          s.since = null;
          s.clean = 0;
        }
      } else s.status = "ok";
    }
    return events;
  }

  /** Rounds run so far. */
  get roundCount(): number {
    return this.rounds;
  }

  /** Every test of the latest round, after the correction (empty before the first round). */
  lastRound(): readonly TestResult[] {
    return this.latest;
  }

  /** Every signal's state (optionally one signal, or those whose name starts with `prefix`). */
  state(filter?: { signal?: string }): {
    signals: SignalView[];
    stats: {
      records: number;
      observations: number;
      rounds: number;
      signals: number;
      dropped_signals: number;
      memory_bytes: number;
    };
    config: DriftConfig;
  } {
    const views: SignalView[] = [];
    let mem = 0;
    for (const s of this.signals.values()) {
      const m = s.memoryBytes();
      mem += m;
      if (filter?.signal !== undefined && s.key !== filter.signal && !s.key.startsWith(`${filter.signal}{`))
        continue;
      views.push({
        signal: s.key,
        type: s.type,
        status: s.status,
        reference_n: s.ref.seen,
        current_n: s.cur.length,
        since_ms: s.since,
        last: s.last,
        memory_bytes: m,
      });
    }
    views.sort((a, b) => rank(a.status) - rank(b.status) || a.signal.localeCompare(b.signal));
    return {
      signals: views,
      stats: {
        records: this.records,
        observations: this.observations,
        rounds: this.rounds,
        signals: this.signals.size,
        dropped_signals: this.droppedSignals,
        memory_bytes: mem,
      },
      config: this.config,
    };
  }

  // --- internals -------------------------------------------------------------------------------

  private feed(obs: Observation[], c: Ctx): void {
    for (const o of obs) this.feedOne(o.signal, o.type, o.value, c);
  }

  private feedOne(signal: string, type: SignalType, value: number | string, c: Ctx): void {
    let s = this.signals.get(signal);
    if (s === undefined) {
      if (this.signals.size >= this.config.max_signals) {
        this.droppedSignals++;
        return;
      }
      s = new Signal(signal, type, this.config);
      this.signals.set(signal, s);
    }
    if (s.type !== type) return;
    this.observations++;
    s.add(value, c, this.placement(s, c), this.rng);
  }

  /** Whether a value joins the reference, the current window, or neither. */
  private placement(s: Signal, c: Ctx): "reference" | "current" | "ignore" {
    const ref = this.config.reference;
    if (ref.kind === "range" && !s.afterReset) {
      // By timestamp; after a reset the signal learns its first values instead (the range is past).
      if (c.ts < Date.parse(ref.since)) return "ignore";
      if (c.ts < Date.parse(ref.until)) return "reference";
      if (!s.refComplete) s.refComplete = s.ref.seen >= this.config.min_reference;
      return s.refComplete ? "current" : "ignore";
    }
    if (ref.kind === "eval" && s.key.startsWith("inference.")) {
      if (c.fromEval) {
        if (s.ref.seen + 1 >= this.config.min_reference) s.refComplete = true;
        return "reference";
      }
      return s.refComplete ? "current" : "ignore";
    }
    const n = ref.kind === "first" ? ref.n : Math.min(this.config.small_reference, this.config.reservoir);
    if (s.refComplete) return "current";
    if (s.ref.seen + 1 >= n) s.refComplete = true;
    return "reference";
  }

  /** A policy change (another bundle sha256) or a promotion resets the signals it covers. */
  private resetFor(rec: RecordLike, at: number): DriftEvent | null {
    let trigger: "policy" | "promotion";
    let model: string | undefined;
    // Most records trigger nothing: the detail is made only for one that does.
    let detail: Record<string, unknown>;
    if (rec.kind === "policy" && rec.policy_matched.bundle !== null) {
      const sha = rec.policy_matched.bundle.sha256;
      const before = this.policySha;
      this.policySha = sha;
      if (before === null || before === sha) return null;
      trigger = "policy";
      detail = { seq: rec.seq ?? null, kind: rec.kind, from_sha256: before, to: rec.policy_matched.bundle };
    } else if (rec.kind === "promotion") {
      trigger = "promotion";
      const a = rec.proposed_action as Record<string, unknown> | null;
      const m = a?.model ?? a?.ref;
      if (typeof m === "string") model = m;
      detail = { seq: rec.seq ?? null, kind: rec.kind, model: model ?? null, stage: a?.stage ?? null };
    } else return null;
    const keepRef = trigger === "promotion" && this.config.reference.kind === "eval";
    const signals: string[] = [];
    const closed: string[] = [];
    for (const s of this.signals.values()) {
      if (!coveredBy(trigger, s.key, model)) continue;
      signals.push(s.key);
      if (s.status === "drift") closed.push(s.key);
      s.reset(keepRef);
    }
    return { event: "reset", trigger, detail, signals, closed, at_ms: at };
  }

  /** The reference sample sorted, cached until the reservoir changes (a frozen reference sorts once). */
  private sortedRef(s: Signal): Float64Array {
    if (s.sortedAt !== s.ref.seen) {
      s.sorted = Float64Array.from(s.ref.sample()).sort();
      s.sortedStd = stdDev(s.sorted);
      s.sortedAt = s.ref.seen;
    }
    return s.sorted!;
  }

  /**
   * Categories (or the ≤ 5 distinct values of a numerical signal) with both windows' counts; `cur`
   * null is the whole current window (a categorical signal then reads the counts it keeps).
   */
  private categorical(s: Signal, ref: Float64Array, cur: Float64Array | null): Distribution {
    if (s.type === "numerical") {
      const values = cur ?? s.cur.last();
      const distinct = new Set<number>();
      for (const v of ref) distinct.add(v);
      for (const v of values) distinct.add(v);
      const labels = [...distinct].sort((x, y) => x - y);
      return {
        labels: labels.map(String),
        reference: labels.map((v) => count(ref, v)),
        current: labels.map((v) => count(values, v)),
      };
    }
    const d: Distribution = { labels: [], reference: [], current: [] };
    const curCounts =
      cur === null || cur.length === s.cur.length ? s.curCounts! : countsOf(cur, s.cats!.size);
    s.cats!.names.forEach((name, id) => {
      const r = s.refCounts![id]!;
      const c = curCounts[id]!;
      if (r === 0 && c === 0) return;
      d.labels.push(name);
      d.reference.push(r);
      d.current.push(c);
    });
    return d;
  }

  /**
   * One signal's test in Evidently's choice: at most `small_reference` reference rows, KS for
   * numerical signals with more than 5 distinct values, the z-test for two categories or fewer,
   * chi-square otherwise; above it, normed Wasserstein or Jensen-Shannon distance. Only the
   * figures of the decision here; detail() adds the summaries a finding carries.
   */
  private test(s: Signal, at: number): TestResult | null {
    const cfg = this.config;
    if (!s.refComplete || s.ref.seen === 0) return null;
    if (cfg.mode === "chunked") return this.testChunked(s, at);
    if (s.cur.length < cfg.window) return null;
    const small = s.ref.seen <= cfg.small_reference;
    // One object per result, its keys in the order the views have always shown (no spread copy).
    const result = (
      method: Method,
      statistic: number,
      threshold: number,
      pvalue: number | null,
      drifted: boolean,
    ): TestResult => ({
      signal: s.key,
      type: s.type,
      round: this.rounds,
      at_ms: at,
      pvalue_adjusted: null,
      correction: null,
      reference: {
        n: s.ref.seen,
        sampled: Math.min(s.ref.seen, s.ref.cap),
        from_ms: s.refFrom,
        to_ms: s.refTo,
      },
      current: { n: s.cur.length, sampled: s.cur.length, from_ms: s.curFrom, to_ms: s.curTo },
      distribution: { labels: [], reference: [], current: [] },
      top: [],
      examples: [],
      method,
      statistic,
      threshold,
      pvalue,
      drifted,
    });
    let few: Distribution | null = null;
    if (s.type === "numerical") {
      const ref = this.sortedRef(s);
      const cur = s.cur.last().sort();
      few = fewValues(ref, cur, 5);
      if (few === null) {
        if (small) {
          const r = ks2sampSorted(ref, cur);
          return result("ks", r.statistic, cfg.alpha, r.pvalue, false);
        }
        const w = wasserstein1Sorted(ref, cur) / Math.max(s.sortedStd, 0.001);
        const t = cfg.distance_threshold;
        return result("wasserstein", w, t, null, w >= t);
      }
    }
    // A numerical signal of ≤ 5 distinct values is tested as categories: its counts from the walk.
    const d = few ?? this.categorical(s, s.ref.sample(), null);
    if (!small) {
      const js = jsDistance(d.reference, d.current, 2);
      const t = cfg.distance_threshold;
      return result("jensenshannon", js, t, null, js >= t);
    }
    const nRef = sum(d.reference);
    const nCur = sum(d.current);
    if (d.labels.length <= 2) {
      // |z| is the same whichever category is counted.
      const z = zTestProportions(d.reference[0] ?? 0, nRef, d.current[0] ?? 0, nCur);
      return result("z", z.statistic, cfg.alpha, z.pvalue, false);
    }
    const chi =
      cfg.chi_square === "evidently"
        ? chiSquare(
            d.current,
            d.reference.map((v) => (v * nCur) / nRef),
          )
        : chiSquareHomogeneity(d.reference, d.current);
    return result("chisquare", chi.statistic, cfg.alpha, chi.pvalue, false);
  }

  /**
   * NannyML-style: the reference sample, in order, is cut into chunks of chunk_size; each chunk's
   * distance to the rest of the reference (leave-one-out, so a reference chunk is compared as a
   * new chunk would be) gives the threshold mean + sigmas·σ; the last chunk_size values are
   * tested against the whole reference. Needs at least 5 reference chunks.
   */
  private testChunked(s: Signal, at: number): TestResult | null {
    const cfg = this.config;
    const C = cfg.chunk_size;
    const sample = s.ref.sample();
    if (s.cur.length < C || sample.length < 5 * C) return null;
    const cur = s.cur.last(C);
    const k = Math.floor(sample.length / C);
    const values: number[] = [];
    let statistic: number;
    let method: Method;
    if (s.type === "numerical") {
      method = "chunked-wasserstein";
      for (let i = 0; i < k; i++) {
        const chunk = Float64Array.from(sample.subarray(i * C, (i + 1) * C)).sort();
        const rest = Float64Array.from([
          ...sample.subarray(0, i * C),
          ...sample.subarray((i + 1) * C),
        ]).sort();
        values.push(wasserstein1Sorted(rest, chunk) / Math.max(stdDev(rest), 0.001));
      }
      const ref = this.sortedRef(s);
      statistic = wasserstein1Sorted(ref, Float64Array.from(cur).sort()) / Math.max(s.sortedStd, 0.001);
    } else {
      method = "chunked-jensenshannon";
      const n = s.cats!.size;
      const all = countsOf(sample, n);
      for (let i = 0; i < k; i++) {
        const chunk = countsOf(sample.subarray(i * C, (i + 1) * C), n);
        const rest = all.map((v, j) => v - chunk[j]!);
        values.push(jsDistance(rest, chunk, 2));
      }
      statistic = jsDistance(all, countsOf(cur, n), 2);
    }
    const mean = values.reduce((x, y) => x + y, 0) / values.length;
    const threshold = mean + cfg.sigmas * stdDev(values);
    return {
      signal: s.key,
      type: s.type,
      method,
      statistic,
      threshold,
      pvalue: null,
      pvalue_adjusted: null,
      correction: null,
      drifted: statistic > threshold,
      reference: { n: s.ref.seen, sampled: sample.length, from_ms: s.refFrom, to_ms: s.refTo },
      current: { n: C, sampled: C, from_ms: s.curFrom, to_ms: s.curTo },
      distribution: { labels: [], reference: [], current: [] },
      top: [],
      examples: [],
      round: this.rounds,
      at_ms: at,
    };
  }

  /** Adds what a finding or a recovery carries: both windows' summaries, distributions, top categories, examples. */
  private detail(s: Signal, r: TestResult): void {
    const chunked = r.method.startsWith("chunked-");
    const cur = chunked ? s.cur.last(this.config.chunk_size) : s.cur.last();
    const ref = s.ref.sample();
    r.reference = { ...r.reference, ...this.summary(s, ref, s.ref.seen) };
    r.current = { ...r.current, ...this.summary(s, cur, cur.length) };
    if (r.method === "ks" || r.method === "wasserstein" || r.method === "chunked-wasserstein") {
      r.distribution = histogram(ref, cur);
      r.top = contributions(r.distribution, "delta");
    } else {
      r.distribution = this.categorical(s, ref, cur);
      r.top = contributions(r.distribution, r.method.endsWith("jensenshannon") ? "js" : "chi");
    }
    if (r.drifted) r.examples = this.examples(s, r);
  }

  /** Holm (default), Bonferroni or BH over the round's p-values; distance tests keep their cut. */
  private correct(results: TestResult[]): void {
    const tested = results.filter((r) => r.pvalue !== null);
    if (tested.length === 0) return;
    const p = tested.map((r) => r.pvalue!);
    const cfg = this.config;
    const m = tested.length;
    let out: { reject: boolean[]; adjusted: number[] };
    if (cfg.correction === "holm") out = holm(p, cfg.alpha);
    else if (cfg.correction === "bh") out = benjaminiHochberg(p, cfg.alpha);
    else if (cfg.correction === "bonferroni")
      out = { reject: p.map((v) => v <= cfg.alpha / m), adjusted: p.map((v) => Math.min(1, v * m)) };
    else out = { reject: p.map((v) => v <= cfg.alpha), adjusted: p.slice() };
    tested.forEach((r, k) => {
      r.pvalue_adjusted = out.adjusted[k]!;
      r.correction = cfg.correction;
      r.drifted = out.reject[k]!;
      // The per-test bound this round: Bonferroni's alpha/m, Holm's first step; BH/none: alpha.
      r.threshold = cfg.correction === "holm" || cfg.correction === "bonferroni" ? cfg.alpha / m : cfg.alpha;
    });
  }

  private summary(s: Signal, values: Float64Array, n: number): Partial<WindowSummary> {
    if (values.length === 0) return {};
    if (s.type === "numerical") {
      const sorted = Float64Array.from(values).sort();
      const q = (f: number) => sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))]!;
      let mean = 0;
      for (const v of sorted) mean += v;
      mean /= sorted.length;
      return {
        mean: round(mean),
        std: round(stdDev(sorted)),
        min: sorted[0],
        p50: q(0.5),
        p90: q(0.9),
        max: sorted[sorted.length - 1],
      };
    }
    const counts = countsOf(values, s.cats!.size);
    const total = sum(counts) || n || 1;
    return {
      top: s
        .cats!.names.map((value, id) => ({ value, share: round(counts[id]! / total) }))
        .filter((c) => c.share > 0)
        .sort((x, y) => y.share - x.share)
        .slice(0, 10),
    };
  }

  /** Up to 5 distinct sessions of the current window that show the top contributor, newest first. */
  private examples(s: Signal, r: TestResult): string[] {
    const top = r.top[0]?.category;
    const out: string[] = [];
    const recent = s.cur.recent();
    const matches = (v: number) => {
      if (top === undefined) return true;
      if (s.type === "categorical") return s.cats!.names[v] === top;
      const m = /^\[(.+), (.+)\)$/.exec(top);
      return m === null ? String(v) === top : v >= Number(m[1]) && v < Number(m[2]);
    };
    for (const pass of [true, false]) {
      for (const { value, session } of recent) {
        if (session === null || out.includes(session) || (pass && !matches(value))) continue;
        out.push(session);
        if (out.length >= 5) return out;
      }
    }
    return out;
  }
}

const rank = (s: SignalStatus) => (s === "drift" ? 0 : s === "ok" ? 1 : 2);
const round = (v: number) => Math.round(v * 1e6) / 1e6;
const sum = (a: ArrayLike<number>) => {
  let t = 0;
  for (let i = 0; i < a.length; i++) t += a[i]!;
  return t;
};
const count = (a: Float64Array, v: number) => {
  let c = 0;
  for (const x of a) if (x === v) c++;
  return c;
};
/**
 * Two windows sorted ascending with at most `k` distinct values between them: those values in
 * ascending order with each window's count (what categorical() builds for a numerical signal, in one
 * merge walk: no Set, no count pass per value); null when there are more than `k`.
 */
function fewValues(a: Float64Array, b: Float64Array, k: number): Distribution | null {
  const d: Distribution = { labels: [], reference: [], current: [] };
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (d.labels.length === k) return null;
    const v = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    let r = 0;
    let c = 0;
    while (i < a.length && a[i] === v) {
      i++;
      r++;
    }
    while (j < b.length && b[j] === v) {
      j++;
      c++;
    }
    d.labels.push(String(v));
    d.reference.push(r);
    d.current.push(c);
  }
  return d;
}
function countsOf(a: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (const x of a) out[x]!++;
  return out;
}

/** Both windows on 12 equal-width bins over their joint range; the last bin is closed. */
export function histogram(ref: Float64Array, cur: Float64Array, bins = 12): Distribution {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const a of [ref, cur])
    for (const v of a) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  if (!(hi > lo)) return { labels: [String(lo)], reference: [ref.length], current: [cur.length] };
  const width = (hi - lo) / bins;
  const edge = (k: number) => Number((lo + k * width).toPrecision(4));
  const labels = Array.from({ length: bins }, (_, k) => `[${edge(k)}, ${edge(k + 1)})`);
  const fill = (a: Float64Array) => {
    const c = new Array<number>(bins).fill(0);
    for (const v of a) c[Math.min(bins - 1, Math.floor((v - lo) / width))]!++;
    return c;
  };
  return { labels, reference: fill(ref), current: fill(cur) };
}

/** Each category's part of the statistic, largest first (top 5). */
function contributions(d: Distribution, how: "chi" | "js" | "delta"): Contribution[] {
  const nr = sum(d.reference) || 1;
  const nc = sum(d.current) || 1;
  const out = d.labels.map((category, k) => {
    const r = d.reference[k]! / nr;
    const c = d.current[k]! / nc;
    let contribution: number;
    if (how === "chi") {
      // The category's terms of the 2×k homogeneity statistic (finite for a new category too).
      const col = d.reference[k]! + d.current[k]!;
      const ea = (nr * col) / (nr + nc);
      const eb = (nc * col) / (nr + nc);
      contribution = col === 0 ? 0 : (d.reference[k]! - ea) ** 2 / ea + (d.current[k]! - eb) ** 2 / eb;
    } else if (how === "js") {
      const m = (r + c) / 2;
      contribution = ((r > 0 ? r * Math.log2(r / m) : 0) + (c > 0 ? c * Math.log2(c / m) : 0)) / 2;
    } else contribution = Math.abs(c - r);
    return {
      category,
      reference_share: round(r),
      current_share: round(c),
      contribution: round(contribution),
    };
  });
  return out
    .filter((x) => x.contribution > 0)
    .sort((a, b) => b.contribution - a.contribution)
    .slice(0, 5);
}
