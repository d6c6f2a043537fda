/**
 * The decision path: action → subjects (one per simple command, or the action itself) → rules →
 * ALLOW | DENY | ESCALATE. Synchronous, no I/O, never throws: any error is DENY `gate-error`.
 */
import { homedir } from "node:os";
import { Codes, ForgeError, hasForgeCode } from "../errors.js";
import { type Action, parseAction } from "./actions.js";
import type { BundleRef, CompositionSnapshot, Decision, Effect, Evaluation, RuleMatch } from "./decision.js";
import { matchPathGlob, normalisePath, type PathGlob } from "./paths.js";
import type { CompiledRule, PolicyBundle } from "./policy.js";
import { DEFAULT_LIMITS, parseShell, type ShellLimits, type SimpleCommand } from "./shell.js";
import {
  dumpTrack,
  GateState,
  type RecentEntry,
  snapshotOf,
  type Track,
  TrackTable,
  trackOf,
} from "./state.js";

export interface GateOptions {
  /** Most sessions kept in memory (LRU), default 10000. */
  maxSessions?: number;
  /** Most principals kept in memory (LRU), default 1000. */
  maxPrincipals?: number;
  /** Actions kept per session in `recent`, default 16. */
  recentActions?: number;
  /** ALLOW with risk above this becomes ESCALATE; default: the bundle's `defaults.risk_threshold`. */
  riskThreshold?: number;
  /** Home directory for `~` and `$HOME` (default: os.homedir()). */
  home?: string;
  /** Working directory for actions that give none (default: home). */
  cwd?: string;
  /** Shell parsing bounds. */
  limits?: Partial<ShellLimits>;
  /** Clock in ms (tests pass a fake one). */
  now?: () => number;
}

export interface EvaluateRequest {
  session_id: string;
  principal?: string | null;
  /** Validated inside with parseAction. */
  action: unknown;
  action_id?: string;
}

/** What the rules look at: one simple command of a shell line, or a whole structured action. */
interface Subject {
  kind: string;
  cmd: SimpleCommand | null;
  program: string;
  paths: string[];
  writes: string[];
  hosts: string[];
  cwd: string;
  dynamic: boolean;
  dynamicWrites: boolean;
  method: string | null;
  scheme: string | null;
  domains: string[];
  tool: string | null;
  args: Record<string, unknown> | null;
  training: TrainingSubject | null;
  text: string;
}

/** What training rules look at: the dataset's source and pin, the base model, the budgets. */
interface TrainingSubject {
  datasetSource: string;
  datasetPinned: boolean;
  baseModel: string | null;
  budgets: Record<string, number | null>;
}

/** `oci://HOST/REPO@sha256:…` → `oci://HOST/REPO`; a path → `file:PATH`; `generated:NAME` as is. */
function datasetSource(ref: string, cwd: string, home: string): string {
  if (ref.startsWith("oci://")) return ref.replace(/[@:][^/]*$/, "");
  if (/^[a-z]+:/.test(ref)) return ref;
  return `file:${normalisePath(ref, cwd, home)}`;
}

/** Tool argument names that hold file paths. */
const PATH_ARG = /path|file|dir|folder|dest|src|source|target|cwd/i;

const NO = 0;
const MAYBE = 1;
const YES = 2;
type Tri = 0 | 1 | 2;

const RANK: Record<Effect, number> = { allow: 0, escalate: 1, deny: 2 };
const EVAL: Evaluation[] = ["ALLOW", "ESCALATE", "DENY"];

/** Gate: one policy bundle plus the composition state of every live session and principal. */
export class Gate {
  private current: PolicyBundle;
  private readonly sessions: TrackTable;
  private readonly principals: TrackTable;
  private readonly keep: number;
  private readonly home: string;
  private readonly cwd: string;
  private readonly limits: ShellLimits;
  private readonly now: () => number;
  private readonly thresholdOverride: number | undefined;
  /** Last principal seen per session (pruned of evicted sessions as it grows). */
  private readonly principalOf = new Map<string, string>();

  constructor(bundle: PolicyBundle, opts: GateOptions = {}) {
    this.current = bundle;
    this.sessions = new TrackTable(opts.maxSessions ?? 10_000);
    this.principals = new TrackTable(opts.maxPrincipals ?? 1_000);
    this.keep = opts.recentActions ?? 16;
    this.home = stripSlash(opts.home ?? homedir());
    this.cwd = stripSlash(opts.cwd ?? this.home);
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.now = opts.now ?? Date.now;
    this.thresholdOverride = opts.riskThreshold;
  }

  get bundle(): BundleRef {
    return this.current.ref;
  }

  /** Swaps the policy atomically (the next evaluate uses it); composition state is kept. */
  setPolicy(bundle: PolicyBundle): void {
    this.current = bundle;
  }

  /** A JSON-able dump of the session and principal tracks, in LRU order (oldest first). */
  exportState(): GateState {
    return {
      version: 1,
      sessions: this.sessions.entries().map(([k, t]) => ({
        ...dumpTrack(k, t),
        principal: this.principalOf.get(k) ?? null,
      })),
      principals: this.principals.entries().map(([k, t]) => dumpTrack(k, t)),
    };
  }

  /** Replaces the composition state with `dump`; an invalid dump throws GATE_STATE_INVALID and changes nothing. */
  importState(dump: unknown): void {
    const r = GateState.safeParse(dump);
    if (!r.success) {
      const i = r.error.issues[0];
      throw new ForgeError(
        Codes.GATE_STATE_INVALID,
        `invalid gate state: ${i ? `${i.path.join(".")}: ${i.message}` : "unparseable"}`,
      );
    }
    const sessions = r.data.sessions.map((d): [string, Track] => [d.key, trackOf(d, this.keep)]);
    const principals = r.data.principals.map((d): [string, Track] => [d.key, trackOf(d, this.keep)]);
    this.sessions.replace(sessions);
    this.principals.replace(principals);
    this.principalOf.clear();
    for (const d of r.data.sessions) {
      if (d.principal && this.sessions.peek(d.key)) this.principalOf.set(d.key, d.principal);
    }
  }

  snapshot(session_id: string): CompositionSnapshot {
    const s = this.sessions.peek(session_id);
    const principal = s ? (this.principalOf.get(session_id) ?? null) : null;
    return snapshotOf(session_id, principal, s, principal ? this.principals.peek(principal) : undefined);
  }

  stats(): { sessions: number; principals: number; evicted: number } {
    return {
      sessions: this.sessions.size,
      principals: this.principals.size,
      evicted: this.sessions.evictions + this.principals.evictions,
    };
  }

  /** Decides one action. Synchronous; never throws; an error is DENY with reason `gate-error`. */
  evaluate(req: EvaluateRequest): Decision {
    const t0 = performance.now();
    const bundle = this.current;
    let snap: CompositionSnapshot | null = null;
    try {
      if (req === null || typeof req !== "object")
        throw new ForgeError(Codes.GATE_ERROR, "request must be an object");
      const sid = req.session_id;
      if (typeof sid !== "string" || sid.length === 0) {
        throw new ForgeError(Codes.ACTION_INVALID, "invalid request: session_id: must be a non-empty string");
      }
      const principal = typeof req.principal === "string" && req.principal.length > 0 ? req.principal : null;
      const s = this.sessions.get(sid);
      const p = principal ? this.principals.get(principal) : undefined;
      if (principal) {
        this.principalOf.set(sid, principal);
        if (this.principalOf.size > this.sessions.size * 2 + 64) this.prunePrincipalOf();
      }
      snap = snapshotOf(sid, principal, s, p);
      let action: Action;
      try {
        action = parseAction(req.action);
      } catch (err) {
        const d = this.finish(
          bundle,
          "DENY",
          [],
          0,
          [`${Codes.ACTION_INVALID}: ${(err as Error).message}`],
          snap,
          t0,
        );
        this.record(s, p, req, "invalid", summaryOfUnknown(req.action), d.evaluation, [], []);
        return d;
      }
      const d = this.decide(bundle, action, s, p, snap, t0, req);
      return d;
    } catch (err) {
      const reason =
        hasForgeCode(err) && err.code === Codes.ACTION_INVALID ? `${err.code}: ${err.message}` : null;
      const empty =
        snap ??
        snapshotOf(String((req as { session_id?: unknown })?.session_id ?? ""), null, undefined, undefined);
      return this.finish(
        bundle,
        "DENY",
        [],
        0,
        reason ? [reason] : ["gate-error", `${Codes.GATE_ERROR}: ${(err as Error)?.message ?? String(err)}`],
        empty,
        t0,
      );
    }
  }

  private prunePrincipalOf(): void {
    for (const k of this.principalOf.keys()) if (!this.sessions.peek(k)) this.principalOf.delete(k);
  }

  private decide(
    bundle: PolicyBundle,
    action: Action,
    s: Track,
    p: Track | undefined,
    snap: CompositionSnapshot,
    t0: number,
    req: EvaluateRequest,
  ): Decision {
    const nowMs = this.now();
    const reasons: string[] = [];
    let rank = 0;
    const subjects: Subject[] = [];
    let summary: string;
    if (action.kind === "shell") {
      const cwd = action.cwd ? normalisePath(action.cwd, this.cwd, this.home) : this.cwd;
      const parsed = parseShell(action.command, cwd, this.home, this.limits, action.env);
      // `$CWD` in policy globs is the action's working directory (the workspace), not wherever a
      // `cd` inside the line went.
      for (const c of parsed.commands) subjects.push(shellSubject(c, cwd));
      for (const f of parsed.floors) {
        reasons.push(f);
        rank = Math.max(rank, 1);
      }
      if (subjects.length === 0 && parsed.floors.length === 0 && !/^\s*(#.*)?$/.test(action.command)) {
        // Fail closed: text the walker found no command in (`X=1`, an unfamiliar construct) is not ALLOW.
        rank = Math.max(rank, RANK[bundle.defaultEffect]);
        reasons.push(`no simple command found: default ${bundle.defaultEffect}`);
      }
      summary = action.command.length > 200 ? `${action.command.slice(0, 197)}...` : action.command;
    } else {
      const sub = this.structuredSubject(action);
      subjects.push(sub);
      summary = sub.text;
    }
    const matched: CompiledRule[] = [];
    // Labels earned by earlier commands of the same line count for later ones: `cat key | curl -d @-`.
    const lineLabels = new Set<string>();
    for (const sub of subjects) {
      const [first, second] = candidatesFor(bundle, sub);
      let any = false;
      for (let ci = 0, n = first.length + second.length; ci < n; ci++) {
        const r = ci < first.length ? first[ci]! : second[ci - first.length]!;
        const m = matchRule(r, sub, this.home);
        if (m === NO) continue;
        if (r.when && !whenHolds(r, s, p, lineLabels, nowMs)) continue;
        if (m === YES) {
          any = true;
          for (const l of r.labels) lineLabels.add(l);
          if (!matched.includes(r)) matched.push(r);
          rank = Math.max(rank, RANK[r.effect]);
          if (r.effect !== "allow")
            reasons.push(
              `${r.effect} rule '${r.id}': ${sub.text}${r.description ? ` (${r.description})` : ""}`,
            );
        } else if (r.effect !== "allow") {
          rank = Math.max(rank, 1);
          reasons.push(`dynamic input: '${sub.text}' might match ${r.effect} rule '${r.id}'`);
        }
      }
      if (!any) {
        rank = Math.max(rank, RANK[bundle.defaultEffect]);
        reasons.push(`no rule matches '${sub.text}': default ${bundle.defaultEffect}`);
      }
    }
    let risk = 0;
    for (const r of matched) if (r.risk > risk) risk = r.risk;
    const threshold = this.thresholdOverride ?? bundle.riskThreshold;
    if (rank === 0 && risk > threshold) {
      rank = 1;
      reasons.push(`risk ${risk} is above the threshold ${threshold}`);
    }
    const evaluation = EVAL[rank]!;
    if (evaluation === "ALLOW" && reasons.length === 0) {
      for (const r of matched) reasons.push(`allow rule '${r.id}'`);
    }
    const labels: string[] = [];
    for (const r of matched) for (const l of r.labels) if (!labels.includes(l)) labels.push(l);
    const d = this.finish(bundle, evaluation, matched, risk, reasons, snap, t0);
    this.record(s, p, req, action.kind, summary, evaluation, matched, labels);
    return d;
  }

  /**
   * State accrues on every decision, DENY and ESCALATE included: an attempted secret read still
   * marks the session, so a follow-up upload is judged as what it would be after a successful one.
   */
  private record(
    s: Track,
    p: Track | undefined,
    req: EvaluateRequest,
    kind: string,
    summary: string,
    evaluation: Evaluation,
    matched: CompiledRule[],
    labels: string[],
  ): void {
    const at = this.now();
    const entry: RecentEntry = {
      action_id: typeof req.action_id === "string" ? req.action_id : null,
      kind,
      summary,
      evaluation,
      at_ms: at,
    };
    for (const t of p ? [s, p] : [s]) {
      for (const l of labels) t.labels.add(l);
      t.bump(`kind:${kind}`, at);
      for (const r of matched) t.bump(`rule:${r.id}`, at);
      t.remember(entry, this.keep);
    }
  }

  private finish(
    bundle: PolicyBundle,
    evaluation: Evaluation,
    matched: CompiledRule[],
    risk: number,
    reasons: string[],
    snap: CompositionSnapshot,
    t0: number,
  ): Decision {
    const policy_matched: RuleMatch[] = matched.map((r) => ({
      rule_id: r.id,
      effect: r.effect,
      risk: r.risk,
    }));
    return {
      evaluation,
      policy_matched,
      bundle: bundle.ref,
      risk,
      reasons,
      composition_state: snap,
      latency_ms: performance.now() - t0,
    };
  }

  private structuredSubject(a: Exclude<Action, { kind: "shell" }>): Subject {
    const sub: Subject = {
      kind: a.kind,
      cmd: null,
      program: "",
      paths: [],
      writes: [],
      hosts: [],
      cwd: this.cwd,
      dynamic: false,
      dynamicWrites: false,
      method: null,
      scheme: null,
      domains: [],
      tool: null,
      args: null,
      training: null,
      text: "",
    };
    switch (a.kind) {
      case "training.run":
        sub.training = {
          datasetSource: datasetSource(a.dataset.ref, this.cwd, this.home),
          datasetPinned: a.dataset.sha256 !== null || /@sha256:[0-9a-f]{64}$/.test(a.dataset.ref),
          baseModel: a.model.base,
          budgets: a.budgets,
        };
        sub.text = `training.run ${a.job} (${a.trainer})`;
        break;
      case "file.read":
      case "file.write":
      case "file.delete": {
        const path = normalisePath(a.path, this.cwd, this.home);
        sub.paths.push(path);
        if (a.kind !== "file.read") sub.writes.push(path);
        sub.text = `${a.kind} ${a.path}`;
        break;
      }
      case "http": {
        const u = new URL(a.url);
        sub.hosts.push(u.hostname.toLowerCase().replace(/^\[|\]$/g, ""));
        sub.method = a.method;
        sub.scheme = u.protocol.slice(0, -1).toLowerCase();
        sub.text = `${a.method} ${u.origin}${u.pathname}`;
        break;
      }
      case "email.send": {
        for (const r of [...a.to, ...a.cc]) {
          const at = r.lastIndexOf("@");
          const dom =
            at >= 0
              ? r
                  .slice(at + 1)
                  .replace(/>.*$/, "")
                  .toLowerCase()
              : "";
          // A recipient without a domain cannot be shown to be internal: treat as unknown.
          sub.domains.push(dom === "" ? "?" : dom);
        }
        sub.text = `email to ${[...a.to, ...a.cc].join(", ")}`;
        break;
      }
      case "tool":
        sub.tool = a.name;
        sub.args = a.arguments;
        sub.text = `tool ${a.name}`;
        // MCP-style tools name files in their arguments: judge those like any other path.
        for (const [k, v] of Object.entries(a.arguments)) {
          for (const s of Array.isArray(v) ? v : [v]) {
            if (typeof s !== "string" || s === "") continue;
            if (PATH_ARG.test(k) || s.startsWith("/") || s.startsWith("~")) {
              sub.paths.push(normalisePath(s, this.cwd, this.home));
            }
          }
        }
        break;
    }
    return sub;
  }
}

function stripSlash(p: string): string {
  return p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
}

function shellSubject(c: SimpleCommand, cwd: string): Subject {
  return {
    kind: "shell",
    cmd: c,
    program: c.program,
    paths: c.paths,
    writes: c.writes,
    hosts: c.hosts,
    cwd,
    dynamic: c.dynamic,
    dynamicWrites: c.dynamicWrites,
    method: null,
    scheme: null,
    domains: [],
    tool: null,
    args: null,
    training: null,
    text: c.text,
  };
}

function summaryOfUnknown(a: unknown): string {
  try {
    const s = JSON.stringify(a) ?? String(a);
    return s.length > 200 ? `${s.slice(0, 197)}...` : s;
  } catch {
    return "(unserialisable)";
  }
}

const EMPTY: readonly CompiledRule[] = [];

/** The rules to consult for a subject: those under its exact program, then those under `*`. */
function candidatesFor(
  bundle: PolicyBundle,
  sub: Subject,
): [readonly CompiledRule[], readonly CompiledRule[]] {
  const any = bundle.index.get(`${sub.kind}\0*`) ?? EMPTY;
  if (sub.kind !== "shell" || sub.program === "") return [any, EMPTY];
  return [bundle.index.get(`${sub.kind}\0${sub.program}`) ?? EMPTY, any];
}

function whenHolds(
  r: CompiledRule,
  s: Track,
  p: Track | undefined,
  line: Set<string>,
  nowMs: number,
): boolean {
  const w = r.when!;
  const has = (l: string) => line.has(l) || s.labels.has(l) || p?.labels.has(l) === true;
  if (w.labels && !w.labels.some(has)) return false;
  if (w.labelsAll && !w.labelsAll.every(has)) return false;
  if (w.labelsNone?.some(has)) return false;
  if (w.count) {
    const since = w.count.withinMs === null ? null : nowMs - w.count.withinMs;
    const n = Math.max(s.count(w.count.key, since), p ? p.count(w.count.key, since) : 0);
    if (n < w.count.gte) return false;
  }
  return true;
}

const anyRe = (res: RegExp[], v: string) => {
  for (const re of res) if (re.test(v)) return true;
  return false;
};

function anyPath(globs: PathGlob[], paths: string[], home: string, cwd: string): boolean {
  for (const p of paths) for (const g of globs) if (matchPathGlob(g, p, home, cwd)) return true;
  return false;
}

/** Tri-state AND over the rule's criteria: NO, MAYBE (dynamic input could match), YES. */
function matchRule(r: CompiledRule, sub: Subject, home: string): Tri {
  let res: Tri = YES;
  const c = sub.cmd;
  const dyn = sub.dynamic;
  const weak = (ok: boolean): Tri => (ok ? YES : dyn ? MAYBE : NO);
  const and = (t: Tri): boolean => {
    if (t < res) res = t;
    return res === NO;
  };
  if (r.program && (sub.program === "" || !anyRe(r.program, sub.program))) return NO;
  if (c) {
    if (r.subcommand) {
      const first = c.operands[0];
      const t: Tri =
        first === undefined ? NO : first.value === null ? MAYBE : anyRe(r.subcommand, first.value) ? YES : NO;
      if (and(t)) return NO;
    }
    if (r.flags && and(weak(r.flags.some((f) => c.flags.has(f))))) return NO;
    if (r.flagsNone && and(weak(!r.flagsNone.some((f) => c.flags.has(f))))) return NO;
    if (r.flagsAll && and(weak(r.flagsAll.every((f) => c.flags.has(f))))) return NO;
    if (r.args && and(weak(c.operands.some((o) => o.value !== null && anyRe(r.args!, o.value))))) return NO;
    if (r.pipedFrom && !c.feeders.some((f) => anyRe(r.pipedFrom!, f))) return NO;
    if (r.via && !c.via.some((v) => anyRe(r.via!, v))) return NO;
  } else if (
    r.program ||
    r.subcommand ||
    r.flags ||
    r.flagsAll ||
    r.flagsNone ||
    r.args ||
    r.pipedFrom ||
    r.via
  )
    return NO;
  if (r.paths && and(weak(anyPath(r.paths, sub.paths, home, sub.cwd)))) return NO;
  if (r.pathsWithin) {
    const all = sub.paths.every((p) => r.pathsWithin!.some((g) => matchPathGlob(g, p, home, sub.cwd)));
    // Dynamic words might name a path outside: not proven, so at best MAYBE.
    if (and(all ? (dyn ? MAYBE : YES) : NO)) return NO;
  }
  if (
    r.pathsOutside &&
    and(weak(sub.paths.some((p) => !r.pathsOutside!.some((g) => matchPathGlob(g, p, home, sub.cwd)))))
  ) {
    return NO;
  }
  if (r.programPath && !(c?.path && anyPath(r.programPath, [c.path], home, sub.cwd))) return NO;
  // Only a redirect target makes a write, so only a dynamic target leaves a write rule undecided.
  const weakW = (ok: boolean): Tri => (ok ? YES : sub.dynamicWrites ? MAYBE : NO);
  if (r.writes && and(weakW(anyPath(r.writes, sub.writes, home, sub.cwd)))) return NO;
  if (
    r.writesOutside &&
    and(weakW(sub.writes.some((p) => !r.writesOutside!.some((g) => matchPathGlob(g, p, home, sub.cwd)))))
  ) {
    return NO;
  }
  if (r.hosts && and(weak(sub.hosts.some((h) => anyRe(r.hosts!, h))))) return NO;
  if (r.hostsNot && and(weak(sub.hosts.some((h) => !anyRe(r.hostsNot!, h))))) return NO;
  if (r.methods && !(sub.method !== null && r.methods.includes(sub.method))) return NO;
  if (r.schemes && !(sub.scheme !== null && r.schemes.includes(sub.scheme))) return NO;
  if (r.domains && !sub.domains.some((d) => anyRe(r.domains!, d))) return NO;
  if (r.domainsNot && !sub.domains.some((d) => !anyRe(r.domainsNot!, d))) return NO;
  if (r.tool && !(sub.tool !== null && anyRe(r.tool, sub.tool))) return NO;
  if (r.datasetUnpinned || r.datasetSourcesNot || r.baseModelsNot || r.budgetOver) {
    const t = sub.training;
    if (t === null) return NO;
    if (r.datasetUnpinned && t.datasetPinned) return NO;
    if (r.datasetSourcesNot && anyRe(r.datasetSourcesNot, t.datasetSource)) return NO;
    if (r.baseModelsNot && (t.baseModel === null || anyRe(r.baseModelsNot, t.baseModel))) return NO;
    if (
      r.budgetOver &&
      !r.budgetOver.some(([k, limit]) => (t.budgets[k] ?? Number.POSITIVE_INFINITY) > limit)
    )
      return NO;
  }
  if (r.arguments) {
    const args = sub.args ?? {};
    for (const [k, re] of r.arguments) {
      const v = args[k];
      if (v === undefined) return NO;
      if (!re.test(typeof v === "string" ? v : JSON.stringify(v))) return NO;
    }
  }
  return res;
}
