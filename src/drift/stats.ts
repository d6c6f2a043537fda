/**
 * The drift statistics the npm libraries lack or get wrong (docs/drift.md, "Libraries"), written
 * to match scipy 1.10 on the same inputs (test/drift/stats-scipy.test.ts runs scipy live):
 *
 * - ks2samp: two-sample Kolmogorov-Smirnov, two-sided, scipy.stats.ks_2samp(method="auto")
 * - chiSquare: scipy.stats.chisquare(f_obs, f_exp), p from the regularised upper incomplete gamma
 * - zTestProportions: Evidently's two-proportion z-test, p = 2·Φ(-|z|)
 * - wasserstein1: scipy.stats.wasserstein_distance(u, v)
 * - jsDistance: scipy.spatial.distance.jensenshannon(p, q, base), empty bins contributing 0
 * - holm / benjaminiHochberg: multiple-testing corrections over one evaluation round
 *
 * Pure functions over plain arrays: no I/O, no allocation beyond the sorted copies.
 */

/** scipy's 'auto' switches from the exact null distribution to the asymptotic one above this size. */
export const KS_EXACT_MAX_N = 10_000;

export interface KsResult {
  /** sup |F1 - F2| over the pooled sample. */
  statistic: number;
  pvalue: number;
  method: "exact" | "asymp";
}

/**
 * Two-sample KS test, two-sided. Exact p-value (the lattice-path count, done in probability space
 * so nothing overflows) when both samples have at most KS_EXACT_MAX_N values, as scipy's 'auto';
 * above that, Kolmogorov's limiting distribution (scipy uses kstwo there: the two differ in the
 * third decimal for small samples, which this code never reaches). Throws on an empty sample.
 */
export function ks2samp(a: ArrayLike<number>, b: ArrayLike<number>): KsResult {
  return ks2sampSorted(Float64Array.from(a).sort(), Float64Array.from(b).sort());
}

/** ks2samp of two samples already sorted ascending (the drift monitor caches its sorted reference). */
export function ks2sampSorted(x: Float64Array, y: Float64Array): KsResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError("ks2samp: both samples must be non-empty");
  // D over the pooled values, right-continuous ECDFs (ties handled as scipy's searchsorted 'right').
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && x[i]! <= y[j]!) ? x[i]! : y[j]!;
    while (i < n1 && x[i]! <= v) i++;
    while (j < n2 && y[j]! <= v) j++;
    const diff = Math.abs(i / n1 - j / n2);
    if (diff > d) d = diff;
  }
  if (Math.max(n1, n2) <= KS_EXACT_MAX_N) {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    const h = Math.round(d * lcm);
    const dr = h / lcm;
    if (h === 0) return { statistic: dr, pvalue: 1, method: "exact" };
    return { statistic: dr, pvalue: clamp01(1 - probInside(n1, n2, h * g)), method: "exact" };
  }
  const en = (n1 * n2) / (n1 + n2);
  return { statistic: d, pvalue: clamp01(kolmogorovSf(Math.sqrt(en) * d)), method: "asymp" };
}

/**
 * P(a uniformly random monotone lattice path from (0,0) to (n1,n2) stays strictly inside
 * |i·n2 - j·n1| < bound): the null probability that D < d. Each cell holds the probability of
 * reaching it inside the band; a step right from (i, j) has probability (n1-i)/(n1-i+n2-j).
 */
function probInside(n1: number, n2: number, bound: number): number {
  // Only the band of cells inside is visited (|i·n2 - j·n1| < bound): O(n1 · band), and the band
  // is narrow exactly when there is no drift. Each array is kept zero outside its current band.
  const lo = (i: number) => Math.max(0, Math.floor((i * n2 - bound) / n1) + 1);
  const hi = (i: number) => Math.min(n2, Math.ceil((i * n2 + bound) / n1) - 1);
  let row = new Float64Array(n2 + 1);
  let next = new Float64Array(n2 + 1);
  let rowLo = 0;
  let rowHi = hi(0);
  row[0] = 1;
  for (let j = 1; j <= rowHi; j++) row[j] = row[j - 1]! * ((n2 - (j - 1)) / (n1 + n2 - (j - 1)));
  let nextLo = 0;
  let nextHi = -1;
  for (let i = 1; i <= n1; i++) {
    next.fill(0, nextLo, nextHi + 1);
    const a = lo(i);
    const b = hi(i);
    if (a > b) return 0;
    for (let j = a; j <= b; j++) {
      // From (i-1, j), a step in i; from (i, j-1), a step in j.
      let p = row[j]! * ((n1 - (i - 1)) / (n1 - (i - 1) + (n2 - j)));
      if (j > 0) p += next[j - 1]! * ((n2 - (j - 1)) / (n1 - i + (n2 - (j - 1))));
      next[j] = p;
    }
    [row, next] = [next, row];
    [nextLo, nextHi] = [rowLo, rowHi];
    rowLo = a;
    rowHi = b;
  }
  return rowHi === n2 ? row[n2]! : 0;
}

/** Kolmogorov's limiting survival function Q(t) = 2 Σ (-1)^(k-1) exp(-2k²t²). */
function kolmogorovSf(t: number): number {
  if (t <= 0) return 1;
  let s = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * t * t);
    s += (k % 2 === 1 ? 1 : -1) * term;
    if (term < 1e-18) break;
  }
  return 2 * s;
}

export interface ChiSquareResult {
  statistic: number;
  pvalue: number;
  /** Degrees of freedom: categories - 1. */
  df: number;
}

/**
 * Pearson's chi-square goodness of fit, as scipy.stats.chisquare(obs, exp): statistic
 * Σ (o-e)²/e, p = Q(df/2, stat/2). A category expected 0 but observed (a new category) makes the
 * statistic infinite and p 0, as scipy; one expected and observed 0 contributes nothing.
 */
export function chiSquare(observed: ArrayLike<number>, expected: ArrayLike<number>): ChiSquareResult {
  if (observed.length !== expected.length || observed.length === 0)
    throw new RangeError("chiSquare: observed and expected must be non-empty and the same length");
  let stat = 0;
  for (let k = 0; k < observed.length; k++) {
    const o = observed[k]!;
    const e = expected[k]!;
    if (e === 0) {
      if (o !== 0) stat = Number.POSITIVE_INFINITY;
      continue;
    }
    stat += ((o - e) * (o - e)) / e;
  }
  const df = observed.length - 1;
  if (df <= 0) return { statistic: stat, pvalue: Number.NaN, df };
  return { statistic: stat, pvalue: stat === Number.POSITIVE_INFINITY ? 0 : gammaQ(df / 2, stat / 2), df };
}

/**
 * Pearson's chi-square test of homogeneity of two count vectors (the 2×k contingency table), as
 * scipy.stats.chi2_contingency([a, b], correction=False): both windows are samples, so the
 * reference's own noise is in the expected counts. Categories empty in both are dropped.
 */
export function chiSquareHomogeneity(a: ArrayLike<number>, b: ArrayLike<number>): ChiSquareResult {
  if (a.length !== b.length) throw new RangeError("chiSquareHomogeneity: a and b must have the same length");
  let na = 0;
  let nb = 0;
  for (let k = 0; k < a.length; k++) {
    na += a[k]!;
    nb += b[k]!;
  }
  if (!(na > 0) || !(nb > 0)) throw new RangeError("chiSquareHomogeneity: both samples must be non-empty");
  const n = na + nb;
  let stat = 0;
  let cols = 0;
  for (let k = 0; k < a.length; k++) {
    const col = a[k]! + b[k]!;
    if (col === 0) continue;
    cols++;
    const ea = (na * col) / n;
    const eb = (nb * col) / n;
    stat += (a[k]! - ea) ** 2 / ea + (b[k]! - eb) ** 2 / eb;
  }
  const df = cols - 1;
  if (df <= 0) return { statistic: 0, pvalue: 1, df: 0 };
  return { statistic: stat, pvalue: gammaQ(df / 2, stat / 2), df };
}

/** Chi-square survival function for `df` degrees of freedom. */
export function chi2Sf(x: number, df: number): number {
  return x <= 0 ? 1 : gammaQ(df / 2, x / 2);
}

/** Regularised upper incomplete gamma Q(a, x) = Γ(a, x)/Γ(a): series below a+1, Lentz's continued fraction above. */
export function gammaQ(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) return Number.NaN;
  if (x === 0) return 1;
  if (x === Number.POSITIVE_INFINITY) return 0;
  const lnPre = a * Math.log(x) - x - lnGamma(a);
  if (x < a + 1) {
    // P(a, x) = x^a e^-x / Γ(a+1) · Σ x^n / ((a+1)…(a+n))
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10_000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-17) break;
    }
    return Math.max(0, 1 - sum * Math.exp(lnPre));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let n = 1; n < 10_000; n++) {
    const an = -n * (n - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(lnPre) * h;
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9: ~15 significant digits). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let s = c[0]!;
  for (let k = 1; k < 9; k++) s += c[k]! / (z + k);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

export interface ZTestResult {
  statistic: number;
  pvalue: number;
}

/**
 * Two-proportion z-test (pooled variance), two-sided, as Evidently's z_stattest: `k1` of `n1`
 * reference rows and `k2` of `n2` current rows are the first category. Both samples all one and the
 * same value: p = 1 (Evidently's special case, where the statistic is 0/0).
 */
export function zTestProportions(k1: number, n1: number, k2: number, n2: number): ZTestResult {
  if (!(n1 > 0) || !(n2 > 0)) throw new RangeError("zTestProportions: both samples must be non-empty");
  const p1 = k1 / n1;
  const p2 = k2 / n2;
  const p = (k1 + k2) / (n1 + n2);
  const se = Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
  if (se === 0) return { statistic: 0, pvalue: 1 };
  const z = (p1 - p2) / se;
  return { statistic: z, pvalue: 2 * normalSf(Math.abs(z)) };
}

/** Standard normal survival function 1 - Φ(x), accurate in the far tail (erfc, not 1 - cdf). */
export function normalSf(x: number): number {
  return 0.5 * erfc(x / Math.SQRT2);
}

/** Complementary error function: erfc(x) = Q(1/2, x²) for x >= 0 (full precision in the far tail). */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  return gammaQ(0.5, x * x);
}

/**
 * First Wasserstein distance between two empirical distributions, as
 * scipy.stats.wasserstein_distance(u, v): ∫ |U(t) - V(t)| dt over the pooled support.
 */
export function wasserstein1(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return wasserstein1Sorted(Float64Array.from(a).sort(), Float64Array.from(b).sort());
}

/** wasserstein1 of two samples already sorted ascending. */
export function wasserstein1Sorted(x: Float64Array, y: Float64Array): number {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError("wasserstein1: both samples must be non-empty");
  let i = 0;
  let j = 0;
  let prev = Math.min(x[0]!, y[0]!);
  let total = 0;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && x[i]! <= y[j]!) ? x[i]! : y[j]!;
    total += Math.abs(i / n1 - j / n2) * (v - prev);
    prev = v;
    while (i < n1 && x[i]! <= v) i++;
    while (j < n2 && y[j]! <= v) j++;
  }
  return total;
}

/** Population standard deviation (numpy's default ddof = 0). */
export function stdDev(a: ArrayLike<number>): number {
  const n = a.length;
  if (n === 0) return Number.NaN;
  let mean = 0;
  for (let k = 0; k < n; k++) mean += a[k]!;
  mean /= n;
  let ss = 0;
  for (let k = 0; k < n; k++) ss += (a[k]! - mean) ** 2;
  return Math.sqrt(ss / n);
}

/**
 * Evidently's normed Wasserstein: W1(ref, cur) / max(σ_ref, 0.001), σ the population standard
 * deviation of the reference.
 */
export function wassersteinNormed(ref: ArrayLike<number>, cur: ArrayLike<number>): number {
  return wasserstein1(ref, cur) / Math.max(stdDev(ref), 0.001);
}

/**
 * Jensen-Shannon distance between two count (or probability) vectors, as
 * scipy.spatial.distance.jensenshannon(p, q, base): each is normalised to sum 1; a bin empty in
 * one vector contributes 0·log 0 = 0 (not NaN); base 2 (default here) bounds it to [0, 1].
 * NaN when either vector sums to 0.
 */
export function jsDistance(p: ArrayLike<number>, q: ArrayLike<number>, base = 2): number {
  if (p.length !== q.length) throw new RangeError("jsDistance: p and q must have the same length");
  let sp = 0;
  let sq = 0;
  for (let k = 0; k < p.length; k++) {
    sp += p[k]!;
    sq += q[k]!;
  }
  if (!(sp > 0) || !(sq > 0)) return Number.NaN;
  let js = 0;
  for (let k = 0; k < p.length; k++) {
    const a = p[k]! / sp;
    const b = q[k]! / sq;
    const m = (a + b) / 2;
    if (a > 0) js += a * Math.log(a / m);
    if (b > 0) js += b * Math.log(b / m);
  }
  js /= Math.log(base);
  return Math.sqrt(Math.max(0, js / 2));
}

/**
 * Holm-Bonferroni step-down: which of `pvalues` are rejected with the family-wise error rate held
 * at `alpha` (the probability of any false alarm in the round). NaN p-values are never rejected.
 * Returns adjusted p-values too (monotone, capped at 1).
 */
export function holm(pvalues: readonly number[], alpha: number): { reject: boolean[]; adjusted: number[] } {
  const m = pvalues.length;
  const order = pvalues.map((p, k) => ({ p: Number.isNaN(p) ? 2 : p, k })).sort((u, v) => u.p - v.p);
  const reject = new Array<boolean>(m).fill(false);
  const adjusted = new Array<number>(m).fill(1);
  let running = 0;
  let stopped = false;
  order.forEach(({ p, k }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[k] = Math.min(1, running);
    if (!stopped && p <= alpha / (m - rank)) reject[k] = true;
    else stopped = true;
  });
  return { reject, adjusted };
}

/**
 * Benjamini-Hochberg step-up: rejections with the false discovery rate held at `q` (the expected
 * share of alarms that are false). Offered beside Holm; Holm is the default (docs/drift.md).
 */
export function benjaminiHochberg(
  pvalues: readonly number[],
  q: number,
): { reject: boolean[]; adjusted: number[] } {
  const m = pvalues.length;
  const order = pvalues.map((p, k) => ({ p: Number.isNaN(p) ? 2 : p, k })).sort((u, v) => u.p - v.p);
  const reject = new Array<boolean>(m).fill(false);
  const adjusted = new Array<number>(m).fill(1);
  let cutoff = -1;
  order.forEach(({ p }, rank) => {
    if (p <= ((rank + 1) / m) * q) cutoff = rank;
  });
  let running = 1;
  for (let rank = m - 1; rank >= 0; rank--) {
    const { p, k } = order[rank]!;
    running = Math.min(running, (m / (rank + 1)) * p);
    adjusted[k] = Math.min(1, running);
    if (rank <= cutoff) reject[k] = true;
  }
  return { reject, adjusted };
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));
