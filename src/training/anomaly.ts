/**
 * Anomaly rules, decided after the forward loss is known and before any gradient exists.
 * Pure: the loop feeds losses in, gets a verdict out. Non-finite losses never enter the rolling
 * windows (OLMo-core's NaN-in-the-window bug skipped the 129 steps after one NaN).
 */
import type { JobSpec } from "./spec.js";

export type Outcome = "skip" | "halt" | "escalate";
export type RuleName = "non_finite" | "spike" | "zscore";

export interface Anomaly {
  rule: RuleName;
  action: Outcome;
  loss: number;
  /** What the loss was compared against (rolling max × factor, or mean/σ). */
  detail: Record<string, number>;
}

/** A fixed-size ring of the most recent finite losses. */
class Window {
  private readonly buf: Float64Array;
  private n = 0;
  private at = 0;
  constructor(readonly size: number) {
    this.buf = new Float64Array(size);
  }
  push(v: number): void {
    this.buf[this.at] = v;
    this.at = (this.at + 1) % this.size;
    if (this.n < this.size) this.n++;
  }
  get length(): number {
    return this.n;
  }
  max(): number {
    let m = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < this.n; i++) m = Math.max(m, this.buf[i]!);
    return m;
  }
  meanStd(): { mean: number; std: number } {
    let s = 0;
    for (let i = 0; i < this.n; i++) s += this.buf[i]!;
    const mean = s / this.n;
    let v = 0;
    for (let i = 0; i < this.n; i++) v += (this.buf[i]! - mean) ** 2;
    return { mean, std: Math.sqrt(v / Math.max(1, this.n - 1)) };
  }
  toJSON(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.n; i++) out.push(this.buf[(this.at - this.n + i + this.size * 2) % this.size]!);
    return out;
  }
}

/** The detectors for one job. `check` judges a loss; `accept` adds a committed loss to the windows. */
export class AnomalyDetector {
  private readonly spikeWin: Window | null;
  private readonly zWin: Window | null;
  /** Finite losses accepted so far (warm-up counts these, never NaN). */
  private accepted = 0;

  constructor(private readonly rules: JobSpec["anomaly"]) {
    this.spikeWin = rules.spike ? new Window(rules.spike.window) : null;
    this.zWin = rules.zscore ? new Window(rules.zscore.window) : null;
  }

  /** The first rule the loss breaks (non-finite, then spike, then z-score), or null. */
  check(loss: number): Anomaly | null {
    if (!Number.isFinite(loss))
      // With no non_finite rule declared a NaN still never trains: it halts.
      return { rule: "non_finite", action: this.rules.non_finite?.action ?? "halt", loss, detail: {} };
    const sp = this.rules.spike;
    if (sp && this.spikeWin && this.accepted >= sp.warmup) {
      const max = this.spikeWin.max();
      if (loss > sp.factor * max)
        return { rule: "spike", action: sp.action, loss, detail: { rolling_max: max, factor: sp.factor } };
    }
    const z = this.rules.zscore;
    if (z && this.zWin && this.zWin.length >= z.min_samples) {
      const { mean, std } = this.zWin.meanStd();
      const score = std > 0 ? (loss - mean) / std : loss === mean ? 0 : Number.POSITIVE_INFINITY;
      if (score > z.sigma)
        return { rule: "zscore", action: z.action, loss, detail: { mean, std, z: score, sigma: z.sigma } };
    }
    return null;
  }

  /** Adds a loss the loop trained on. Non-finite values are refused here as a second guard. */
  accept(loss: number): void {
    if (!Number.isFinite(loss)) return;
    this.accepted++;
    this.spikeWin?.push(loss);
    this.zWin?.push(loss);
  }

  /** State for a checkpoint, so a resumed job judges the same way. */
  exportState(): { accepted: number; spike: number[]; zscore: number[] } {
    return {
      accepted: this.accepted,
      spike: this.spikeWin?.toJSON() ?? [],
      zscore: this.zWin?.toJSON() ?? [],
    };
  }

  importState(s: { accepted: number; spike: number[]; zscore: number[] }): void {
    this.accepted = s.accepted;
    for (const v of s.spike) this.spikeWin?.push(v);
    for (const v of s.zscore) this.zWin?.push(v);
  }
}
