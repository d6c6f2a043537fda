/**
 * The bounded memory of one signal: a reservoir for the reference (Algorithm R, seeded), a ring
 * for the sliding current window, and a capped category dictionary. Every structure is allocated
 * once at its declared cap; nothing grows with the length of the stream.
 */
import type { Rng } from "./random.js";

/** Uniform sample of at most `cap` values of a stream of any length (Vitter's Algorithm R). */
export class Reservoir {
  readonly values: Float64Array;
  /** Values offered (the reference's true row count), not just those kept. */
  seen = 0;

  constructor(readonly cap: number) {
    this.values = new Float64Array(cap);
  }

  add(v: number, rng: Rng): void {
    if (this.seen < this.cap) this.values[this.seen] = v;
    else {
      const k = Math.floor(rng.next() * (this.seen + 1));
      if (k < this.cap) this.values[k] = v;
    }
    this.seen++;
  }

  /** The kept values (a view, in arrival order until the cap is reached). */
  sample(): Float64Array {
    return this.values.subarray(0, Math.min(this.seen, this.cap));
  }

  clear(): void {
    this.seen = 0;
  }
}

/** The last `cap` values, with the session each came from (for example sessions). */
export class Ring {
  readonly values: Float64Array;
  readonly sessions: (string | null)[];
  private head = 0;
  length = 0;

  constructor(readonly cap: number) {
    this.values = new Float64Array(cap);
    this.sessions = new Array(cap).fill(null);
  }

  /** Pushes a value; returns the evicted one (or undefined while filling). */
  push(v: number, session: string | null): number | undefined {
    const evicted = this.length === this.cap ? this.values[this.head] : undefined;
    this.values[this.head] = v;
    this.sessions[this.head] = session;
    this.head = (this.head + 1) % this.cap;
    if (this.length < this.cap) this.length++;
    return evicted;
  }

  /** The last `n` values (all by default), oldest first. */
  last(n = this.length): Float64Array {
    const k = Math.min(n, this.length);
    const out = new Float64Array(k);
    for (let i = 0; i < k; i++) out[i] = this.values[(this.head - k + i + this.cap) % this.cap]!;
    return out;
  }

  /** Sessions of the last `n` values, newest first, with their values. */
  recent(n = this.length): { value: number; session: string | null }[] {
    const k = Math.min(n, this.length);
    const out: { value: number; session: string | null }[] = [];
    for (let i = 1; i <= k; i++) {
      const at = (this.head - i + this.cap) % this.cap;
      out.push({ value: this.values[at]!, session: this.sessions[at]! });
    }
    return out;
  }

  clear(): void {
    this.head = 0;
    this.length = 0;
    this.sessions.fill(null);
  }
}

export const OTHER = "(other)";

/** Category name ↔ small integer id; past `max` names, new ones map to "(other)". */
export class Categories {
  readonly names: string[] = [];
  private readonly ids = new Map<string, number>();

  constructor(private readonly max: number) {}

  id(name: string): number {
    const known = this.ids.get(name);
    if (known !== undefined) return known;
    const key = this.names.length >= this.max - 1 && name !== OTHER ? OTHER : name;
    const again = this.ids.get(key);
    if (again !== undefined) return again;
    this.ids.set(key, this.names.length);
    this.names.push(key);
    return this.names.length - 1;
  }

  get size(): number {
    return this.names.length;
  }
}
