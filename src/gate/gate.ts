/**
 * The decision path: action → subjects (one per simple command, or the action itself) → rules →
 * ALLOW | DENY | ESCALATE. Synchronous, no I/O, never throws: any error is DENY `gate-error`.
 */
import { Codes, ForgeError, hasForgeCode } from "../errors.js";
import { fixCanonical } from "../protocol/canonical.js";
import { type Action, parseAction } from "./actions.js";
import {
  type CodeLanguage,
  codeLanguage,
  dockerfileRuns,
  unboundCapability,
  writesFiles,
} from "./capabilities.js";
import { carriedCandidates, knownPrograms } from "./carried.js";
import type { BundleRef, CompositionSnapshot, Decision, Effect, Evaluation, RuleMatch } from "./decision.js";
import { headerInjection, recipientDomains } from "./email.js";
import {
  EXT_NAME,
  type MeetSet,
  meetSet,
  meetsSet,
  meetsSetByExtension,
  nameReach,
  SOME_NAME,
  shellWord,
} from "./glob-meet.js";
import { canonicalHost, canonicalUrl, canonicalUrlOf, proxiedHost } from "./hosts.js";
import { manifestKind, manifestSource } from "./manifests.js";
import { newPathLine, type PathMatcher } from "./path-matcher.js";
import { compileWordGlobs, hostOf, isWithin, Links, normalisePath } from "./paths.js";
import type { CompiledRule, PolicyBundle } from "./policy.js";
import {
  BUILTIN_PREFIX,
  canonicalPath,
  credentialFinding,
  envFindings,
  type Finding,
  NO_PROTECTION,
  type ProtectedResources,
  protectFindings,
} from "./protect.js";
import { BUILTIN_PROFILE, BUILTIN_PROFILE_NAME, type SandboxProfile } from "./sandbox-profile.js";
import {
  CREDENTIAL_HEADER,
  DEFAULT_LIMITS,
  encodedRun,
  GIT_INERT_KEYS,
  PROJECT_RUNNERS,
  PROJECT_WRAPPERS,
  parseShell,
  patchTargets,
  runLanguage,
  type ShellLimits,
  type ShellParse,
  type SimpleCommand,
  sedScript,
  urlData,
  type Word,
} from "./shell/index.js";
import { SHELL_BUILTINS } from "./shell/programs.js";
import { DATABASE_CLIENTS } from "./shell/queries.js";
import {
  type Artefact,
  dumpTrack,
  GateState,
  type RecentEntry,
  snapshotOf,
  Track,
  TrackTable,
  trackOf,
  type WorkspaceRoot,
} from "./state.js";
import { wordTable } from "./word-table.js";

export interface GateOptions {
  /** Most sessions kept in memory (LRU), default 10000. */
  maxSessions?: number;
  /** Most principals kept in memory (LRU), default 1000. */
  maxPrincipals?: number;
  /** Actions kept per session in `recent`, default 16. */
  recentActions?: number;
  /** ALLOW with risk above this becomes ESCALATE; default: the bundle's `defaults.risk_threshold`. */
  riskThreshold?: number;
  /** Home directory for `~` and `$HOME`: the HOME the actions run with (the gate reads no environment). */
  home: string;
  /** Working directory for actions that give none (default: home). */
  cwd?: string;
  /**
   * The configured workspace roots (issue 19 §3): `$CWD` in policy globs is the root an action's
   * `cwd` lies in, never the `cwd` itself, which a model chooses. An action whose `cwd` lies outside
   * every root is judged as outside (no path of it is in the workspace). Default: `[cwd]`.
   */
  workspaces?: readonly string[];
  /** Shell parsing bounds. */
  limits?: Partial<ShellLimits>;
  /** Clock in ms (tests pass a fake one). */
  now?: () => number;
  /** The agent's own state, processes and endpoints: built-in DENY, before any policy (src/gate/protect.ts). */
  protect?: ProtectedResources;
  /**
   * The directories the executor searches for programs (its PATH, only those the agent cannot
   * write). A command named by a path outside them is code the gate cannot read: at least ESCALATE.
   * Default: the usual system directories.
   */
  programDirs?: readonly string[];
  /**
   * Called after every committed decision (and every clear) with `urgent` true when a label or
   * an artefact was added or state was cleared: what a restart must not forget (the daemon saves
   * the state synchronously then, and coalesces the rest). Must not throw.
   */
  onChange?: (urgent: boolean) => void;
}

export const DEFAULT_PROGRAM_DIRS: readonly string[] = [
  "/usr/local/sbin",
  "/usr/local/bin",
  "/usr/sbin",
  "/usr/bin",
  "/sbin",
  "/bin",
];

export interface EvaluateRequest {
  session_id: string;
  principal?: string | null;
  /** Validated inside with parseAction. */
  action: unknown;
  action_id?: string;
}

/** What the rules look at: one simple command of a shell line, or a whole structured action. */
export interface Subject {
  kind: string;
  cmd: SimpleCommand | null;
  program: string;
  paths: string[];
  writes: string[];
  hosts: string[];
  /** gate49: the URLs it requests, canonical (`/HOST/PATH`, hosts.ts canonicalUrl). */
  urls: string[];
  cwd: string;
  dynamic: boolean;
  dynamicWrites: boolean;
  method: string | null;
  scheme: string | null;
  domains: string[];
  tool: string | null;
  args: Record<string, unknown> | null;
  /** model.pull/push: the artifact's facts. */
  artifact: { repository: string; pinned: boolean; signed: boolean; purpose: string } | null;
  training: TrainingSubject | null;
  text: string;
  /** An `http` action's host:port (canonical host, default ports filled in). */
  endpoint: { host: string; port: number } | null;
}

/** A word that starts with a URL scheme (`postgres://…`). */
const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** The workspace of an action outside every configured root: `$CWD` globs match no path. */
const OUTSIDE = "/\0outside-the-workspaces";

/** How much of an action's free text is split into path tokens (the rest: substring search only). */
const TOKEN_SCAN_CHARS = 64 * 1024;

/** The characters of a path-shaped run in free text (quotes, code, heredoc bodies): `[~A-Za-z0-9._@%+=,/-]`. */
const PATH_CHARS = new Uint8Array(128);
for (const c of "~._@%+=,/-") PATH_CHARS[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) PATH_CHARS[c] = 1;
for (let c = 65; c <= 90; c++) PATH_CHARS[c] = PATH_CHARS[c + 32] = 1;

function pathChar(c: number): boolean {
  return c < 128 && PATH_CHARS[c] === 1;
}

/**
 * The runs of path characters in the first TOKEN_SCAN_CHARS of `text` (the first 512 runs) that
 * look like a path or a file name: longer than one character, with a `/` or a `.`. One scan; only
 * the runs kept are cut out of the text.
 */
export function pathShapedRuns(text: string): string[] {
  const out: string[] = [];
  const end = Math.min(text.length, TOKEN_SCAN_CHARS);
  let runs = 0;
  for (let i = 0; i < end && runs < 512; ) {
    if (!pathChar(text.charCodeAt(i))) {
      i++;
      continue;
    }
    let j = i;
    let shaped = false;
    for (; j < end; j++) {
      const c = text.charCodeAt(j);
      if (!pathChar(c)) break;
      if (c === 47 || c === 46) shaped = true;
    }
    runs++;
    if (j - i > 1 && shaped) out.push(text.slice(i, j));
    i = j;
  }
  return out;
}
/** What training rules look at: the dataset's source and pin, the base model, the budgets. */
interface TrainingSubject {
  datasetSource: string;
  datasetPinned: boolean;
  baseModel: string | null;
  budgets: Record<string, number | null>;
}

/** `oci://HOST/REPO@sha256:…` → `oci://HOST/REPO`; a path → `file:PATH`; `generated:NAME` as is. */
function datasetSource(ref: string, cwd: string, home: string, links: Links): string {
  if (ref.startsWith("oci://")) return ref.replace(/[@:][^/]*$/, "");
  if (/^[a-z]+:/.test(ref)) return ref;
  return `file:${normalisePath(ref, cwd, home, links)}`;
}

/** Tool argument names that hold file paths. */
const PATH_ARG = /path|file|dir|folder|dest|src|source|target|cwd/i;

const NO = 0;
const MAYBE = 1;
const YES = 2;
export type Tri = 0 | 1 | 2;

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
  /** The configured workspace roots, each with its canonical spelling (compared per action). */
  private readonly workspaces: readonly WorkspaceRoot[];
  private readonly limits: ShellLimits;
  private readonly now: () => number;
  private readonly thresholdOverride: number | undefined;
  private readonly protect: ProtectedResources;
  private readonly protectPaths: string[];
  private readonly protectReadOnly: string[];
  private readonly programDirs: Set<string>;
  /** Last principal seen per session (pruned of evicted sessions as it grows). */
  private readonly principalOf = new Map<string, string>();
  private readonly onChange: ((urgent: boolean) => void) | undefined;
  /** Set while deciding when a label or artefact was new. */
  private urgent = false;
  /** Nesting of carriedFindings' own judgements: a carried command's carried text is not read again. */
  private carrying = 0;
  /** carriedFindings' verdicts per bundle: `workspaces, cwd, command` → "" (no serious effect) or the verdict. */
  private readonly carriedMemo = new WeakMap<PolicyBundle, Map<string, string>>();

  constructor(bundle: PolicyBundle, opts: GateOptions) {
    this.current = bundle;
    this.sessions = new TrackTable(opts.maxSessions ?? 10_000);
    this.principals = new TrackTable(opts.maxPrincipals ?? 1_000);
    this.keep = opts.recentActions ?? 16;
    this.home = stripSlash(opts.home);
    this.cwd = stripSlash(opts.cwd ?? this.home);
    this.workspaces = (opts.workspaces ?? [this.cwd]).map((w) => {
      const path = normalisePath(w, this.cwd, this.home, Links.NONE);
      return { path, canonical: canonicalPath(path) };
    });
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.now = opts.now ?? Date.now;
    this.thresholdOverride = opts.riskThreshold;
    this.protect = opts.protect ?? NO_PROTECTION;
    this.protectPaths = [...new Set(this.protect.paths.map(canonicalStar))];
    for (const pid of this.protect.pids) this.protectPaths.push(`/proc/${pid}`);
    this.protectReadOnly = [...new Set(this.protect.readOnly.map(canonicalStar))];
    this.programDirs = new Set((opts.programDirs ?? DEFAULT_PROGRAM_DIRS).map((d) => canonicalPath(d)));
    this.onChange = opts.onChange;
  }

  /** What the built-in rules protect (for docs and `check`). */
  get protectedResources(): ProtectedResources {
    return this.protect;
  }

  get bundle(): BundleRef {
    return this.current.ref;
  }

  /**
   * The sandbox profile an allowed action runs under: the first allowing rule (of `ruleIds`, in
   * match order) that names one, else the policy's `sandbox.default`, else the built-in profile.
   */
  sandboxFor(ruleIds: readonly string[]): { name: string; profile: SandboxProfile } {
    const p = this.current;
    for (const id of ruleIds) {
      const r = p.rules.find((x) => x.id === id);
      if (r?.effect === "allow" && r.sandbox !== null) {
        const prof = p.sandbox.profiles[r.sandbox];
        if (prof !== undefined) return { name: r.sandbox, profile: prof };
      }
    }
    const d = p.sandbox.default;
    const prof = d === null ? undefined : p.sandbox.profiles[d];
    if (d !== null && prof !== undefined) return { name: d, profile: prof };
    return { name: BUILTIN_PROFILE_NAME, profile: BUILTIN_PROFILE };
  }

  /** The compiled policy in use (for comparing a reload with it). */
  get policy(): PolicyBundle {
    return this.current;
  }

  /** Swaps the policy atomically (the next evaluate uses it); composition state is kept. */
  setPolicy(bundle: PolicyBundle): void {
    this.current = bundle;
  }

  /**
   * Registers the workspace roots of one session (issue 19 §3: the caller, at session start, not
   * the model): its actions' `$CWD` is one of these, and a cwd outside them is judged as outside,
   * even inside another configured root. Each root must lie inside a configured root (a session
   * narrows its workspace, never widens it): otherwise WORKSPACE_OUTSIDE and nothing changes.
   * Kept with the session's state (exportState), replaced by a later registration, and never
   * evicted by the session bound (it would widen the session); at most half the bound may hold one.
   */
  setSessionWorkspaces(session_id: string, roots: readonly string[]): void {
    if (typeof session_id !== "string" || session_id === "")
      throw new ForgeError(Codes.ACTION_INVALID, "session_id must be a non-empty string");
    if (roots.length === 0 || roots.length > 64)
      throw new ForgeError(Codes.WORKSPACE_OUTSIDE, "a session needs between 1 and 64 workspace roots");
    const abs = roots.map((r) => normalisePath(r, this.cwd, this.home, Links.NONE));
    for (const [k, a] of abs.entries())
      if (this.workspaceOf(a) === OUTSIDE)
        throw new ForgeError(
          Codes.WORKSPACE_OUTSIDE,
          `workspace root '${roots[k]}' (${a}) lies outside every configured workspace`,
        );
    if (!this.sessions.peek(session_id)?.workspaces && this.sessions.declared() >= this.sessions.maxDeclared)
      throw new ForgeError(
        Codes.RATE_LIMITED,
        `${this.sessions.maxDeclared} sessions already hold a declared workspace (half the gate's session bound): refused, nothing registered`,
      );
    this.sessions.get(session_id).setWorkspaces(abs);
    this.changed(true);
  }

  /** The workspace roots registered for `session_id` (setSessionWorkspaces), or null: the configured roots. */
  sessionWorkspaces(session_id: string): readonly string[] | null {
    return this.sessions.peek(session_id)?.workspaces ?? null;
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
    this.urgent = false;
    const d = this.judge(req, true);
    this.changed(this.urgent);
    return d;
  }

  private changed(urgent: boolean): void {
    try {
      this.onChange?.(urgent);
    } catch {
      // the saver reports its own failures; a decision is never changed by them
    }
  }

  /** The principal last seen for `session_id` (null: none, or evicted). */
  principalOfSession(session_id: string): string | null {
    return this.sessions.peek(session_id) ? (this.principalOf.get(session_id) ?? null) : null;
  }

  /**
   * Forgets the composition state of one session and/or one principal (labels, counts, recent,
   * artefacts). Only the daemon calls this, after a `gate.state.clear` action was approved.
   */
  clearState(target: { session_id?: string | null; principal?: string | null }): {
    sessions: number;
    principals: number;
  } {
    let sessions = 0;
    let principals = 0;
    if (target.session_id) {
      // The labels, counts and artefacts go; the caller's workspace registration stays (clearing
      // must not widen what the session may touch).
      const ws = this.sessions.peek(target.session_id)?.workspaces ?? null;
      if (this.sessions.delete(target.session_id)) {
        this.principalOf.delete(target.session_id);
        sessions++;
        if (ws) this.sessions.get(target.session_id).setWorkspaces(ws);
      }
    }
    if (target.principal && this.principals.delete(target.principal)) principals++;
    if (sessions + principals > 0) this.changed(true);
    return { sessions, principals };
  }

  /**
   * What evaluate would decide now, changing nothing: no session or principal track is created,
   * touched or counted (a dry run). A preview is advice, never authority: nothing accepts it later.
   */
  preview(req: EvaluateRequest): Decision {
    return this.judge(req, false);
  }

  /**
   * True when the decision is DENY by a pack rule that looks at nothing but the action's kind and
   * tool name (no arguments, paths, hosts or session conditions): no call of that tool could be
   * allowed while the policy stands. Built-in rules and the default effect never count.
   */
  deniesOutright(d: Decision): boolean {
    if (d.evaluation !== "DENY") return false;
    for (const m of d.policy_matched) {
      if (m.effect !== "deny") continue;
      const r = this.current.rules.find((x) => x.id === m.rule_id);
      if (r !== undefined && namesOnly(r)) return true;
    }
    return false;
  }

  private judge(req: EvaluateRequest, commit: boolean): Decision {
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
      const s = commit ? this.sessions.get(sid) : (this.sessions.peek(sid) ?? new Track());
      const p = principal
        ? commit
          ? this.principals.get(principal)
          : (this.principals.peek(principal) ?? new Track())
        : undefined;
      if (principal && commit) {
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
          [],
          snap,
          t0,
        );
        if (commit) this.record(s, p, req, "invalid", summaryOfUnknown(req.action), d.evaluation, [], []);
        return d;
      }
      return this.decide(bundle, action, s, p, snap, t0, req, commit);
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
        [],
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
    commit: boolean,
  ): Decision {
    // The session's links (gate61) resolve this decision's paths, and no other's (nested ones included):
    // they travel with it as an argument. None (the usual session) costs no copy.
    const links = Links.of(p?.links, s.linksLost || p?.linksLost === true, s.links);
    newPathLine();
    const nowMs = this.now();
    const reasons: string[] = [];
    let rank = 0;
    const subjects: Subject[] = [];
    const found: Finding[] = [];
    let summary: string;
    let netWrites: NetWrites | undefined;
    let written: StructuredWrite | null = null;
    let texts: Map<string, WriteText> | undefined;
    if (action.kind === "shell") {
      for (const f of envFindings(action.env)) found.push(f);
      const base = s.workspaces?.[0] ?? this.cwd;
      const cwd = action.cwd ? normalisePath(action.cwd, base, this.home, links) : base;
      const ws = this.workspaceOf(cwd, s.workspaceRoots);
      if (ws === OUTSIDE)
        reasons.push(`cwd '${cwd}' lies outside the configured workspaces: judged as outside`);
      const parsed = parseShell(action.command, cwd, this.home, this.limits, action.env, ws, links);
      // `$CWD` in policy globs is the configured workspace the action's cwd lies in, not the cwd
      // (a model's choice) nor wherever a `cd` inside the line went.
      for (const c of parsed.commands) subjects.push(shellSubject(c, ws));
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
      const cred = credentialFinding(action.command);
      if (cred) found.push(cred);
      this.lineFindings(found, action.command, cwd, links);
      pathFindings(found, parsed, s, cwd, ws === OUTSIDE ? null : ws, this.home, links);
      netWrites = taintFindings(found, parsed.commands, s, p, links);
      if (s.netArtefacts.size > 0 || (p !== undefined && p.netArtefacts.size > 0)) {
        arrivedTreeFindings(found, subjects, s, p, ws);
        this.arrivedLinks(found, bundle, subjects, s, p, nowMs);
      }
      texts = shellTexts(parsed.commands, action.command, ws === OUTSIDE ? null : ws);
      if (
        s.artefacts.size + s.forgotten.size > 0 ||
        (p !== undefined && p.artefacts.size + p.forgotten.size > 0)
      )
        for (const sub of subjects) if (sub.cmd?.copy) copiedWrites(sub, s, p);
    } else {
      const sub = this.structuredSubject(action, s.workspaces?.[0] ?? this.cwd, links);
      subjects.push(sub);
      written = structuredWrite(action, sub.cwd, this.home, links);
      if (written) texts = new Map([[written.path, written]]);
      if (s.netArtefacts.size > 0 || (p !== undefined && p.netArtefacts.size > 0))
        arrivedTreeFindings(found, subjects, s, p, s.workspaces?.[0] ?? this.cwd);
      if (action.kind === "email.send") {
        const why = headerInjection([...action.to, ...action.cc, action.subject]);
        if (why) found.push({ rule: "header-injection", effect: "deny", reason: why });
      }
      if (action.kind === "gate.state.clear") {
        const why = selfClear(action, req, sub.args?.session_principal as string);
        if (why) found.push({ rule: "self-clear", effect: "deny", reason: why });
      }
      summary = sub.text;
      if (action.kind === "http" || action.kind === "tool") {
        const cred = credentialFinding(
          action.kind === "http"
            ? [action.url, ...Object.values(action.headers ?? {}), action.body ?? ""].join("\n")
            : textOf(action),
        );
        if (cred) found.push(cred);
      }
      if (action.kind === "http") {
        const why = typedCredentialWrite(action);
        if (why) found.push({ rule: "network-upload", effect: "escalate", reason: why });
        const data = urlData(action.url);
        if (data)
          found.push({
            rule: "network-data",
            effect: "escalate",
            reason: `network-data: the request sends data in ${data}`,
          });
      }
      // file.read/delete and http name one path or URL, judged with the subject below.
      if (action.kind === "file.write" || action.kind === "tool") {
        const text = textOf(action);
        if (text !== "") this.lineFindings(found, text, this.cwd, links);
      }
    }
    manifestFindings(found, subjects, texts, netWrites, s, p);
    reviewControlFindings(found, subjects, texts, s, p);
    unignoreFindings(found, subjects, texts);
    if (texts !== undefined && this.carrying === 0)
      this.carriedFindings(found, bundle, subjects, texts, s, snap, req);
    const matched: CompiledRule[] = [];
    // Built-in rules first: what they deny, no pack rule can allow (deny outranks every allow).
    for (const sub of subjects) this.subjectFindings(found, sub, links);
    for (const f of found) {
      const r = builtinRule(f);
      if (!matched.includes(r)) matched.push(r);
      rank = Math.max(rank, RANK[f.effect]);
      if (!reasons.includes(f.reason)) reasons.push(f.reason);
    }
    // Labels earned by earlier commands of the same line count for later ones: `cat key | curl -d @-`.
    const lineLabels = new Set<string>();
    for (const f of found) if (f.labels) for (const l of f.labels) lineLabels.add(l);
    for (const sub of subjects) {
      const c = sub.cmd;
      const writesNothing =
        sub.writes.length === 0 && !sub.dynamicWrites && !c?.globWrites?.length && !c?.trees?.length;
      const byProgram = (writesNothing ? readIndex(bundle) : splitIndex(bundle)).get(sub.kind);
      const forAny = byProgram?.get("*") ?? EMPTY;
      // A shell command: the rules naming its program, then those for any; otherwise those for any.
      const named = sub.kind === "shell" && sub.program !== "";
      const first = named ? (byProgram?.get(sub.program) ?? EMPTY) : forAny;
      const second = named ? forAny : EMPTY;
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
              `${r.effect} rule '${r.id}': ${sub.text}${r.description ? ` (${r.description})` : ""}${labelProvenance(r, s, p, lineLabels)}`,
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
      for (const r of matched) reasons.push(keysOf(r).allow);
    }
    const labels: string[] = [];
    for (const r of matched) for (const l of r.labels) if (!labels.includes(l)) labels.push(l);
    const d = this.finish(bundle, evaluation, matched, risk, reasons, labels, snap, t0);
    if (commit) {
      this.record(s, p, req, action.kind, summary, evaluation, matched, labels);
      // A denied action never runs, so it writes nothing: only what may run makes artefacts.
      if (evaluation !== "DENY") this.recordArtefacts(s, p, req, subjects, netWrites, texts, bundle, snap);
    }
    return d;
  }

  /**
   * What this action wrote (redirects, -o outputs, copies, chmod +x, file.write) becomes the
   * session's and principal's artefacts: running one later is ESCALATE, naming this step.
   */
  private recordArtefacts(
    s: Track,
    p: Track | undefined,
    req: EvaluateRequest,
    subjects: Subject[],
    net: NetWrites | undefined,
    texts: Map<string, WriteText> | undefined,
    bundle: PolicyBundle,
    snap: CompositionSnapshot,
  ): void {
    const at = this.now();
    const id = typeof req.action_id === "string" ? req.action_id : null;
    const made = (w: string, summary: string) => {
      if (s.artefact(w) === undefined) this.urgent = true;
      const n = net?.get(w);
      // Bytes from the network are never read, whatever program wrote them.
      const t = n ? undefined : texts?.get(w);
      const text = t !== undefined && "path" in t ? t : null;
      const lang = codeLanguage(w, text?.whole && text.text !== null ? firstLine(text.text) : null);
      let read: Artefact["read"];
      let readAs = lang;
      if (lang !== null && t !== undefined && "keep" in t) {
        const prev = s.artefact(w) ?? p?.artefact(w);
        read = prev ? prev.read : t.fresh ? { floor: t.fresh, why: "" } : undefined;
        if (prev?.lang !== undefined) readAs = prev.lang;
      } else if (lang !== null && t !== undefined) {
        if (text === null) read = this.copiedRead(t as { from: readonly string[] }, lang, s, p);
        else if (text.text !== null) read = this.readCode(bundle, snap, req, s, p, lang, text, dirOf(w));
        // An edit, an append or a copy keeps what the file was: it cannot make unread code read.
        const prev = s.artefact(w) ?? p?.artefact(w);
        if (read !== undefined && (text === null || !text.whole) && prev?.code === true)
          read =
            prev.read === undefined || EVAL.indexOf(prev.read.floor) > EVAL.indexOf(read.floor)
              ? prev.read
              : read;
      }
      // A patch or mailbox whose text the gate read: what applying it writes (gate40).
      const patch = text?.text != null && PATCH_TEXT.test(text.text) ? patchTargets(text.text) : undefined;
      const gitConfig =
        text?.text != null && text.whole && w.endsWith("/config") ? gitConfigCode(text.text) : undefined;
      // Code that writes files (an edit keeps what the file did): its run marks the workspace blind.
      const writes =
        lang !== null &&
        ((text?.text != null && writesFiles(lang, text.text) !== null) ||
          (text?.whole !== true && (s.artefact(w) ?? p?.artefact(w))?.writes === true));
      const by: Artefact = {
        summary,
        action_id: id,
        at_ms: at,
        ...(n ? { net: true } : {}),
        ...(n?.tree ? { tree: true } : {}),
        ...(lang !== null ? { code: true } : {}),
        ...(readAs !== null ? { lang: readAs } : {}),
        ...(read ? { read } : {}),
        ...(patch && (patch.files.length > 0 || patch.link)
          ? { patch: { files: patch.files.slice(0, 256), link: patch.link } }
          : {}),
        ...(gitConfig !== undefined ? { gitConfig } : {}),
        ...(writes ? { writes: true as const } : {}),
      };
      s.made(w, by);
      p?.made(w, by);
    };
    // One path for every write: shell redirects and outputs, file.write, write and edit tools.
    for (const sub of subjects) {
      if (sub.kind !== "shell" && sub.kind !== "file.write" && sub.kind !== "tool") continue;
      // A move's sources are gone, not made: their bytes are the destination's.
      for (const w of sub.writes) if (sub.cmd?.moved?.includes(w) !== true) made(w, sub.text);
      if (sub.cmd?.links)
        for (const [name, target] of sub.cmd.links) {
          s.link(name, target);
          p?.link(name, target);
        }
      if (sub.cmd?.copy) this.copiedTree(s, p, sub.cmd);
    }
    // A run of session code that writes files wrote names the gate cannot know: its workspace is blind.
    for (const sub of subjects) {
      const c = sub.cmd;
      if (c === undefined || c === null) continue;
      const writer = blindWriter(c, s, p);
      if (writer === undefined) continue;
      const ws = this.workspaceOf(c.cwd, s.workspaceRoots);
      const root = ws === OUTSIDE ? c.cwd : ws;
      if (s.artefact(root)?.blind) continue;
      this.urgent = true;
      const by: Artefact = {
        summary: c.text,
        action_id: id,
        at_ms: at,
        code: true,
        blind: true,
        read: {
          floor: "ESCALATE",
          why: `'${c.text}' ran '${writer}', which writes files the gate cannot name, so any file here may be its`,
        },
      };
      s.made(root, by);
      p?.made(root, by);
    }
    // Trees the network wrote into that no word names (`curl … | git apply`).
    if (net) for (const [w, n] of net) if (n.tree) made(w, n.text);
  }

  /**
   * A copy or move of a directory (`mv a.d b.d`, `cp -R gen/ src/`, `rsync -a x/ y/`) takes the
   * artefacts below it along: each lands below every path the command writes, as it was.
   */
  private copiedTree(s: Track, p: Track | undefined, c: SimpleCommand): void {
    const landed = copiedBelow(s, p, c);
    if (landed.length === 0) return;
    this.urgent = true;
    for (const [w, a] of landed) {
      const by = { ...a, summary: `${a.summary}, then '${c.text}'` };
      s.made(w, by);
      p?.made(w, by);
    }
  }

  /**
   * A tree that arrived from the network (a clone, a checkout of fetched commits, a downloaded
   * patch or archive) may hold symlinks the gate never saw: a path under it may resolve anywhere.
   * Each path under one is judged again as if a component of it were a link to the home directory
   * (`lk/home/.aws/credentials` as `~/.aws/credentials`); a secret or persistence rule
   * (one naming paths or writes) that is not ALLOW there makes the command ESCALATE (gate40).
   */
  private arrivedLinks(
    out: Finding[],
    bundle: PolicyBundle,
    subjects: readonly Subject[],
    s: Track,
    p: Track | undefined,
    nowMs: number,
  ): void {
    for (const sub of subjects) {
      const c = sub.cmd;
      if (c === null) continue;
      let tree: string | undefined;
      const alt = (list: readonly string[]): string[] => {
        const res: string[] = [];
        for (const path of list) {
          const t = arrivedTree(path, s, p);
          if (t === undefined) continue;
          tree ??= t;
          const rel = path.length > t.length ? path.slice(t.length + 1).split("/") : [];
          for (let i = 0; i < rel.length; i++) {
            const a = `${this.home}/${rel.slice(i).join("/")}`;
            if (a !== path && !res.includes(a)) res.push(a);
          }
        }
        return res;
      };
      const paths = alt(c.paths);
      const writes = alt(c.writes);
      if (tree === undefined) continue;
      const all = [...paths, ...writes.filter((w) => !paths.includes(w))];
      const cmd: SimpleCommand = {
        ...c,
        paths: all,
        writes,
        globs: undefined,
        globWrites: undefined,
        trees: undefined,
      };
      const as: Subject = { ...sub, cmd, paths: all, writes, dynamic: false, dynamicWrites: false };
      let probe: Subject | undefined;
      const byProgram = splitIndex(bundle).get(sub.kind);
      const lists = [
        byProgram?.get(sub.program) ?? EMPTY,
        sub.program !== "" ? (byProgram?.get("*") ?? EMPTY) : EMPTY,
      ];
      for (const list of lists)
        for (const r of list) {
          if (r.effect === "allow" || (r.paths === null && r.writes === null)) continue;
          if (r.pathsOutside !== null || r.writesOutside !== null) continue;
          if (r.when && !whenHolds(r, s, p, EMPTY_LABELS, nowMs)) continue;
          if (matchRule(r, as, this.home) !== YES) continue;
          // A catch-all (anywhere in home but …) that an arbitrary home path meets says nothing of
          // secrets or persistence.
          probe ??= this.probeSubject(as);
          if (matchRule(r, probe, this.home) === YES) continue;
          out.push({
            rule: "session-artefact",
            effect: "escalate",
            reason: `workspace-escape: '${c.text}' reaches a path under '${tree}', which arrived from the network: a symlink there may lead it to what ${r.effect} rule '${r.id}' judges`,
          });
          return;
        }
    }
  }

  /** `sub` with every path and write an arbitrary file in home that no list names. */
  private probeSubject(sub: Subject): Subject {
    const at = [`${this.home}/gate-probe-xxx/probe`];
    const cmd: SimpleCommand = { ...sub.cmd!, paths: at, writes: sub.writes.length > 0 ? at : [] };
    return { ...sub, cmd, paths: at, writes: cmd.writes };
  }

  /**
   * A copy of project files (`cp src/a.ts src/b.ts`) holds what they hold: a file the session did
   * not write is the project's own code (ALLOW); one it wrote passes on its verdict, unread or not.
   * The verdict is of a reading in one language: a file the session wrote under a name that is not
   * code (`notes.txt`), or code of another language (`a.py`), copied or moved to a `lang` name was
   * never read as that language: unread.
   */
  private copiedRead(
    t: { from: readonly string[] },
    lang: CodeLanguage,
    s: Track,
    p: Track | undefined,
  ): Artefact["read"] {
    let read: Artefact["read"] = { floor: "ALLOW", why: "" };
    for (const f of t.from) {
      const a = s.artefact(f) ?? p?.artefact(f);
      if (a === undefined) continue;
      if (a.net || a.read === undefined || a.code !== true || codeLanguage(f, null) !== lang)
        return undefined;
      if (a.read && EVAL.indexOf(a.read.floor) > EVAL.indexOf(read.floor)) read = a.read;
    }
    return read;
  }

  /**
   * A write is at least as dangerous as the commands its text carries (gate53, carried.ts): each
   * candidate of a text the gate knows a write puts in a file (a heredoc, echo/printf words, a
   * sed -i script, tee, file.write and write/edit tools' content, appends and edits included) is
   * judged as a shell line in the file's directory with a scratch session (the session's
   * workspaces, none of its state: nothing is recorded). One whose verdict is DENY, or ESCALATE by
   * a rule of risk 60 or more that judges an effect (not a program's identity: CARRIED_NOT_EFFECTS),
   * makes the write ESCALATE (builtin:carried-command), quoting it; a scan over its budget too.
   */
  private carriedFindings(
    out: Finding[],
    bundle: PolicyBundle,
    subjects: readonly Subject[],
    texts: Map<string, WriteText>,
    s: Track,
    snap: CompositionSnapshot,
    req: EvaluateRequest,
  ): void {
    for (const sub of subjects) {
      if (sub.kind !== "shell" && sub.kind !== "file.write" && sub.kind !== "tool") continue;
      for (const w of sub.writes) {
        const t = texts.get(w);
        if (t === undefined || !("path" in t)) continue;
        const sed = (sub.program === "sed" || sub.program === "gsed") && sub.cmd !== null;
        const text = sed ? sedInserted(sub.cmd!.words) : (t.text ?? t.printed);
        if (text === undefined || text === null || text === "") continue;
        const scan = carriedCandidates(text, knownPrograms(splitIndex(bundle).get("shell")));
        let why: string | null =
          scan.over === null ? null : `its text has ${scan.over}: the gate cannot judge them all`;
        if (why === null && scan.candidates.length > 0) {
          let scratch: Track | undefined;
          const cwd = dirOf(w);
          // The judgement uses no session state: the same command in the same directory under the
          // same bundle and workspaces is judged once (a bounded memo; full, it starts again).
          let memo = this.carriedMemo.get(bundle);
          if (memo === undefined || memo.size >= CARRIED_MEMO) {
            memo = new Map();
            this.carriedMemo.set(bundle, memo);
          }
          const scope = `${s.workspaces?.join("\0") ?? ""}\u0001${cwd}\u0001`;
          this.carrying++;
          try {
            for (const c of scan.candidates) {
              const key = scope + c;
              let verdict = memo.get(key);
              if (verdict === undefined) {
                if (scratch === undefined) {
                  scratch = new Track();
                  scratch.setWorkspaces(s.workspaces);
                }
                const action: Action = { kind: "shell", command: c, cwd };
                const d = this.decide(
                  bundle,
                  action,
                  scratch,
                  undefined,
                  snap,
                  performance.now(),
                  { session_id: req.session_id, action },
                  false,
                );
                const serious = carriedEffect(d);
                verdict = serious === null ? "" : `${d.evaluation}: ${serious}`;
                memo.set(key, verdict);
              }
              if (verdict === "") continue;
              why = `it carries the command '${c.length > 160 ? `${c.slice(0, 157)}...` : c}', which the gate judges ${verdict}`;
              break;
            }
          } finally {
            this.carrying--;
          }
        }
        if (why === null) continue;
        out.push({
          rule: "carried-command",
          effect: "escalate",
          reason: `carried-command: '${sub.text}' writes '${w}': ${why}`,
        });
        return;
      }
    }
  }

  /**
   * What a written code file's text shows (issue 19 §3): shell text, a package.json's scripts and a
   * Makefile's recipes are judged by this gate as shell lines run in `cwd`; Python, JS/TS, Go, Rust
   * and Ruby are scanned for capabilities (capabilities.ts). The verdict is the floor of a later run.
   * An edit's inserted text (not the whole file) of a file judged as shell is at best ESCALATE.
   */
  private readCode(
    bundle: PolicyBundle,
    snap: CompositionSnapshot,
    req: EvaluateRequest,
    s: Track,
    p: Track | undefined,
    lang: CodeLanguage,
    w: StructuredWrite,
    cwd: string,
  ): { floor: Evaluation; why: string } {
    const text = w.text!;
    let lines: string[] | null = null;
    const runner = RUNNER_FILES[lang];
    if (lang === "shell") lines = [text];
    else if (runner !== undefined) {
      if (!w.whole)
        return { floor: "ESCALATE", why: `an edit of a ${runner.file} the gate cannot read whole` };
      const read = runner.lines(text);
      if (typeof read === "string") return { floor: "ESCALATE", why: read };
      lines = read;
    }
    if (lines === null) {
      if (lang === "shell" || runner !== undefined)
        return { floor: "ESCALATE", why: "the gate cannot read it" };
      const cap = unboundCapability(lang, text, w.whole);
      return cap === null ? { floor: "ALLOW", why: "" } : { floor: "ESCALATE", why: cap };
    }
    let rank = 0;
    let why = "";
    for (const line of lines) {
      const d = this.decide(
        bundle,
        { kind: "shell", command: line, cwd },
        s,
        p,
        snap,
        performance.now(),
        { session_id: req.session_id, action: { kind: "shell", command: line } },
        false,
      );
      const r = EVAL.indexOf(d.evaluation);
      if (r > rank || (r === rank && why === "" && r > 0)) {
        rank = r;
        why = `the gate judges its ${runner?.line ?? "text"} ${d.evaluation}: ${d.reasons[0] ?? ""}`;
      }
    }
    if (rank === 0 && lang === "shell" && !w.whole)
      return { floor: "ESCALATE", why: "an edit of a script the gate did not read whole" };
    return { floor: EVAL[rank]!, why };
  }

  /**
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
    // Frozen, and written to canonical JSON once: every later record's composition_state repeats it.
    const entry: RecentEntry = fixCanonical({
      action_id: typeof req.action_id === "string" ? req.action_id : null,
      kind,
      summary,
      evaluation,
      at_ms: at,
    });
    const origin = { session_id: req.session_id, action_id: entry.action_id, summary, at_ms: at };
    const kindKey = kindKeyOf(kind);
    for (let i = 0; i < (p ? 2 : 1); i++) {
      const t = i === 0 ? s : p!;
      for (const l of labels) if (t.label(l, origin)) this.urgent = true;
      t.bump(kindKey, at);
      for (const r of matched) t.bump(keysOf(r).count, at);
      t.remember(entry, this.keep);
    }
  }

  private finish(
    bundle: PolicyBundle,
    evaluation: Evaluation,
    matched: CompiledRule[],
    risk: number,
    reasons: string[],
    labels: string[],
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
      labels,
      composition_state: snap,
      latency_ms: performance.now() - t0,
    };
  }

  /**
   * The configured root `cwd` lies in (the longest; compared canonically: case, `/private`), in
   * the cwd's own spelling where it has the same length; or OUTSIDE.
   */
  private workspaceOf(cwd: string, session: readonly WorkspaceRoot[] | null = null): string {
    const c = canonicalPath(cwd);
    let best: WorkspaceRoot | null = null;
    for (const r of session ?? this.workspaces) {
      const cr = r.canonical;
      if (isWithin(c, cr) && (best === null || r.path.length > best.path.length)) best = r;
    }
    if (best === null) return OUTSIDE;
    const own = cwd.slice(0, best.path.length);
    return canonicalPath(own) === best.canonical ? own : best.path;
  }

  /** Protected names and absolute paths anywhere in the action's text (a script, a heredoc, an argument). */
  private lineFindings(out: Finding[], text: string, cwd: string, links: Links): void {
    if (text.length === 0 || (this.protectPaths.length === 0 && this.protect.names.length === 0)) return;
    // Path-shaped tokens anywhere in the text (inside quotes, code, heredocs), in canonical form:
    // `open("/x//var/../var/agent.sock")` names the socket as surely as the plain path does.
    const paths: string[] = [];
    // Bounded: a written file can be megabytes; past the head only the plain substrings are searched.
    for (const tok of pathShapedRuns(text)) paths.push(normalisePath(tok, cwd, this.home, links));
    for (const f of protectFindings(
      { paths, writes: [], hosts: [], text, words: [], cmd: null, kind: "", cwd },
      this.protect,
      this.protectPaths,
      this.protectReadOnly,
    ))
      out.push(f);
  }

  private subjectFindings(out: Finding[], sub: Subject, links: Links): void {
    // Only the words protectFindings reads: those that can name an endpoint (they hold a `:`).
    const words: string[] = [];
    if (sub.cmd) {
      for (const w of sub.cmd.words) {
        // A program's own script is no endpoint or path it opens (`sed 's|http://a|b|'`: `//a`).
        // gate60: a database client's connection URL is its language too, but an endpoint still.
        if (w.expr && w.value !== null && DATABASE_CLIENTS.has(sub.cmd.program) && URL_SCHEME.test(w.value))
          words.push(w.value);
        if (w.value === null || w.expr) continue;
        if (w.value.includes(":")) words.push(w.value);
        // `socat - UNIX-CONNECT:/x/agent.sock`, `--unix-socket=/x`: judge each piece as a path too.
        if (/[:=,]/.test(w.value)) {
          for (const piece of w.value.split(/[:=,]/)) {
            if (piece.length > 0 && piece !== "-")
              sub.paths.push(normalisePath(piece, sub.cmd.cwd, this.home, links));
          }
        }
      }
      const c = sub.cmd;
      if (c.path !== null) {
        const p = canonicalPath(c.path);
        const dir = p.slice(0, p.lastIndexOf("/")) || "/";
        if (!this.programDirs.has(dir) && !projectWrapper(c.path, sub.cwd)) {
          out.push({
            rule: "untrusted-program",
            effect: "escalate",
            reason: `untrusted-program: '${c.path}' is not in a system program directory (${[...this.programDirs].join(":")}): the gate cannot read what it runs`,
          });
        }
      }
    }
    for (const f of protectFindings(
      {
        paths: sub.paths,
        writes: sub.writes,
        hosts: sub.hosts,
        text: "",
        words,
        cmd: sub.cmd,
        kind: sub.kind,
        cwd: sub.cmd?.cwd ?? sub.cwd,
        endpoints: sub.endpoint === null ? undefined : [sub.endpoint],
      },
      this.protect,
      this.protectPaths,
      this.protectReadOnly,
    ))
      out.push(f);
  }

  private structuredSubject(a: Exclude<Action, { kind: "shell" }>, cwd: string, links: Links): Subject {
    const sub: Subject = {
      kind: a.kind,
      cmd: null,
      program: "",
      paths: [],
      writes: [],
      hosts: [],
      urls: [],
      cwd,
      dynamic: false,
      dynamicWrites: false,
      method: null,
      scheme: null,
      domains: [],
      tool: null,
      args: null,
      artifact: null,
      training: null,
      text: "",
      endpoint: null,
    };
    switch (a.kind) {
      case "training.run":
        sub.training = {
          datasetSource: datasetSource(a.dataset.ref, this.cwd, this.home, links),
          datasetPinned: a.dataset.sha256 !== null || /@sha256:[0-9a-f]{64}$/.test(a.dataset.ref),
          baseModel: a.model.base,
          budgets: a.budgets,
        };
        sub.text = `training.run ${a.job} (${a.trainer})`;
        // A local dataset is a file the run reads: the path rules judge it (`file:~/.ssh/id_rsa`).
        if (sub.training.datasetSource.startsWith("file:")) {
          const raw = fileUriPath(sub.training.datasetSource);
          if (raw === null) sub.dynamic = true;
          else sub.paths.push(normalisePath(raw, cwd, this.home, links));
        }
        break;
      case "file.read":
      case "file.write":
      case "file.delete": {
        // `file:///Users/dev/.ssh/id_rsa` names that file; any other scheme is no path the gate knows.
        const raw = /^file:/i.test(a.path) ? fileUriPath(a.path) : a.path;
        if (raw === null || /^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) sub.dynamic = true;
        const path = normalisePath(raw ?? a.path, cwd, this.home, links);
        sub.paths.push(path);
        if (a.kind !== "file.read") sub.writes.push(path);
        sub.text = `${a.kind} ${a.path}`;
        break;
      }
      case "http": {
        const u = new URL(a.url);
        const named = canonicalHost(u.hostname);
        const host = proxiedHost(named, a.url);
        sub.hosts.push(host);
        // canonicalUrl's parse is this one when the URL has a scheme (one parse per request).
        const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(a.url) ? canonicalUrlOf(u, named) : canonicalUrl(a.url);
        if (url !== null) sub.urls.push(url);
        const port = u.port === "" ? (u.protocol === "https:" ? 443 : 80) : Number(u.port);
        sub.endpoint = { host, port };
        // A request that carries data (a body, or headers beyond the inert ones) sends it, whatever
        // its verb: a GET with a body or an `X-Key:` header is judged as an upload.
        const data =
          a.body !== undefined ||
          a.body_sha256 !== undefined ||
          Object.entries(a.headers ?? {}).some(
            ([h, v]) => !INERT_HEADERS.test(h) || inertHeaderCarries(h, v),
          );
        sub.method = data && READ_METHODS.has(a.method.toUpperCase()) ? "POST" : a.method;
        sub.scheme = u.protocol.slice(0, -1).toLowerCase();
        sub.text = `${a.method} ${u.origin}${u.pathname}${sub.method !== a.method ? " (carries data: judged as POST)" : ""}`;
        break;
      }
      case "email.send": {
        // Each entry is an RFC 5322 address list; what is not plain is an unknown domain.
        for (const r of [...a.to, ...a.cc]) for (const d of recipientDomains(r)) sub.domains.push(d);
        sub.text = `email to ${[...a.to, ...a.cc].join(", ")}`;
        break;
      }
      case "tool":
        sub.tool = a.name;
        sub.args = a.arguments;
        sub.text = `tool ${a.name}`;
        // MCP-style tools name files in their arguments, nested at any depth (`options.paths[0]`,
        // `file://` URIs): judge those like any other path. Too deep or too many: not ALLOW.
        if (
          !toolPaths(a.arguments, false, 0, { left: TOOL_ARG_BUDGET }, (s, url) => {
            if (!url) sub.paths.push(normalisePath(s, cwd, this.home, links));
            else {
              // A URL in the arguments (`get_url`, `fetch`): its host meets the metadata and
              // internal-address checks; one whose host cannot be read is unknown.
              const h = hostOf(s);
              if (h === null) sub.dynamic = true;
              else sub.hosts.push(h);
            }
          })
        )
          sub.dynamic = true;
        {
          // A tool that writes or edits a file (`mcp__fs__write_file`, `edit_file`, `Write`): the
          // file is written, judged and remembered as a file.write's is.
          const w = structuredWrite(a, cwd, this.home, links);
          if (w) sub.writes.push(w.path);
        }
        break;
      case "model.pull":
      case "model.push": {
        // The registry host without its port, like an http action's hostname.
        const h = a.registry.toLowerCase();
        const bracket = /^\[([^\]]+)\]/.exec(h);
        sub.hosts.push(bracket ? bracket[1]! : h.replace(/:\d+$/, ""));
        sub.artifact = {
          repository: a.repository,
          pinned: a.pinned,
          signed: a.signed,
          purpose: a.kind === "model.pull" ? a.purpose : "push",
        };
        sub.text = `${a.kind} ${a.ref}`;
        break;
      }
      case "gate.state.clear":
        sub.args = {
          session: a.session ?? "",
          principal: a.principal ?? "",
          session_principal: a.session ? (this.principalOfSession(a.session) ?? "") : "",
        };
        sub.text = `gate.state.clear${a.session ? ` session ${a.session}` : ""}${a.principal ? ` principal ${a.principal}` : ""}`;
        break;
      case "model.promote":
      case "model.serve": {
        // Registry host as for a pull; stage and the agent-established facts as match `arguments`.
        sub.hosts.push(a.registry.toLowerCase().replace(/:\d+$/, ""));
        const args: Record<string, unknown> = { stage: a.stage ?? "", repository: a.repository };
        for (const [k, v] of Object.entries(a.facts)) args[k] = String(v);
        sub.args = args;
        sub.text = `${a.kind} ${a.ref}${a.stage ? ` → ${a.stage}` : ""}`;
        break;
      }
    }
    return sub;
  }
}

/** A protected path in canonical form, keeping a trailing `*` (prefix protection). */
function canonicalStar(p: string): string {
  return p.endsWith("*") ? `${canonicalPath(p.slice(0, -1))}*` : canonicalPath(p);
}

/** The text of a structured action searched for protected names: a written file's content, argument strings. */
/**
 * An http write (or a request with a body) authorised by a credential header (gate43): the action's
 * headers are text the model wrote, so the token is one it typed, and the data lands in that
 * token's account whatever the host (api.github.com under an attacker's token is the attacker's
 * gist). Null when the request carries none.
 */
function typedCredentialWrite(a: Extract<Action, { kind: "http" }>): string | null {
  if (a.method === "GET" || a.method === "HEAD" || a.method === "OPTIONS") {
    if (a.body === undefined || a.body === "") return null;
  }
  for (const [k, v] of Object.entries(a.headers ?? {}))
    if (v.trim() !== "" && CREDENTIAL_HEADER.test(`${k}:`))
      return `network-upload: the ${a.method} request sends data under the credential in its '${k}' header, typed by the model (its account, not the user's)`;
  return null;
}

function textOf(a: Exclude<Action, { kind: "shell" }>): string {
  switch (a.kind) {
    case "file.write":
      // The path itself is judged with the subject; here only what the file will say.
      return a.content ?? "";
    case "file.read":
    case "file.delete":
      return a.path;
    case "http":
      return a.url;
    case "tool": {
      const parts: string[] = [];
      collectStrings(a.arguments, parts, 0);
      return parts.join("\n");
    }
    default:
      return "";
  }
}

/** Methods that only read, unless the request carries data. */
const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** Request headers that carry no data of the caller's. */
const INERT_HEADERS =
  /^(accept|accept-language|accept-encoding|user-agent|if-none-match|if-modified-since|if-match|cache-control|pragma|range|connection)$/i;

/**
 * gate49: what an inert header's value may be and still carry nothing (RFC 9110/9111 grammars,
 * narrowed to what clients send): a value outside it is data the model chose, as a body is
 * (`Accept-Language: LS0tLS1CRUdJTi`, `Range: bytes=0-1;<secret>`).
 */
const Q = String.raw`(\s*;\s*q=[01](\.\d{0,3})?)?`;
const INERT_VALUE: Record<string, RegExp> = wordTable({
  accept:
    /^\s*[\w.+*-]+\/[\w.+*-]+(\s*;\s*[\w.-]+=("[\w .+/-]*"|[\w.+-]+))*(\s*,\s*[\w.+*-]+\/[\w.+*-]+(\s*;\s*[\w.-]+=("[\w .+/-]*"|[\w.+-]+))*)*\s*$/,
  "accept-language": new RegExp(
    String.raw`^\s*(\*|[A-Za-z]{1,3}(-[A-Za-z0-9]{2,8}){0,3})${Q}(\s*,\s*(\*|[A-Za-z]{1,3}(-[A-Za-z0-9]{2,8}){0,3})${Q})*\s*$`,
  ),
  "accept-encoding": new RegExp(
    String.raw`^\s*(gzip|deflate|br|zstd|compress|identity|x-gzip|\*)${Q}(\s*,\s*(gzip|deflate|br|zstd|compress|identity|x-gzip|\*)${Q})*\s*$`,
    "i",
  ),
  "cache-control":
    /^\s*(no-cache|no-store|no-transform|only-if-cached|must-revalidate|max-age=\d{1,10}|max-stale(=\d{1,10})?|min-fresh=\d{1,10}|stale-if-error=\d{1,10}|stale-while-revalidate=\d{1,10})(\s*,\s*(no-cache|no-store|no-transform|only-if-cached|must-revalidate|max-age=\d{1,10}|max-stale(=\d{1,10})?|min-fresh=\d{1,10}|stale-if-error=\d{1,10}|stale-while-revalidate=\d{1,10}))*\s*$/i,
  pragma: /^\s*no-cache\s*$/i,
  range: /^\s*bytes=(\d{0,19}-\d{0,19})(\s*,\s*\d{0,19}-\d{0,19})*\s*$/,
  connection: /^\s*(keep-alive|close|upgrade)(\s*,\s*(keep-alive|close|upgrade))*\s*$/i,
  "if-modified-since": /^\s*[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT\s*$/,
  "if-none-match": /^\s*(\*|(W\/)?"[\x21\x23-\x7e]*"(\s*,\s*(W\/)?"[\x21\x23-\x7e]*")*)\s*$/,
  "if-match": /^\s*(\*|(W\/)?"[\x21\x23-\x7e]*"(\s*,\s*(W\/)?"[\x21\x23-\x7e]*")*)\s*$/,
});
/** An md5, sha1 or sha256 in hex: an ETag or digest a server made, not letters the model chose. */
const HEX_DIGEST = /^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$/i;

/**
 * An inert-named header that carries data all the same: its value is outside the header's
 * grammar, or a free-text part of it (User-Agent, an ETag's opaque text) reads as encoded data
 * (effects.ts encodedRun, the test a URL's path segments meet).
 */
function inertHeaderCarries(name: string, value: unknown): boolean {
  if (typeof value !== "string") return true;
  const g = INERT_VALUE[name.toLowerCase()];
  if (g !== undefined && !g.test(value)) return true;
  for (const t of value.split(/[^A-Za-z0-9+=_-]+/)) if (encodedRun(t) && !HEX_DIGEST.test(t)) return true;
  return false;
}

/** Most strings and nesting of a tool's arguments the gate walks; beyond, the action is dynamic. */
const TOOL_ARG_BUDGET = 4096;
const TOOL_ARG_DEPTH = 32;

/**
 * Every path a tool's arguments name: a string under a path-like key (at any depth), an absolute
 * or `~` string, a `file://` URI (decoded). False when the walk ran out of budget or depth.
 */
function toolPaths(
  v: unknown,
  pathKey: boolean,
  depth: number,
  budget: { left: number },
  out: (p: string, url: boolean) => void,
): boolean {
  if (--budget.left < 0 || depth > TOOL_ARG_DEPTH) return false;
  if (typeof v === "string") {
    if (v === "") return true;
    if (/^file:/i.test(v)) {
      const p = fileUriPath(v);
      if (p === null) return false;
      out(p, false);
    } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) out(v, true);
    else if (pathKey || v.startsWith("/") || v.startsWith("~")) out(v, false);
    return true;
  }
  if (Array.isArray(v)) {
    for (const x of v) if (!toolPaths(x, pathKey, depth + 1, budget, out)) return false;
    return true;
  }
  if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v))
      if (!toolPaths(x, pathKey || PATH_ARG.test(k), depth + 1, budget, out)) return false;
  }
  return true;
}

/** The path a `file:` URI names (percent-decoded, host dropped); null when it cannot be decoded. */
function fileUriPath(v: string): string | null {
  try {
    const p = decodeURIComponent(v.replace(/^file:(\/\/[^/]*)?/i, ""));
    return p.startsWith("/") ? p : `/${p}`;
  } catch {
    return null;
  }
}

function collectStrings(v: unknown, out: string[], depth: number): void {
  if (depth > 64) return;
  if (typeof v === "string") out.push(v);
  else if (Array.isArray(v)) for (const x of v) collectStrings(x, out, depth + 1);
  else if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      out.push(k);
      collectStrings(x, out, depth + 1);
    }
  }
}

const BUILTIN_RULES = new Map<string, CompiledRule>();

/** The CompiledRule a built-in finding shows as in `policy_matched` (one object per rule and effect). */
function builtinRule(f: Finding): CompiledRule {
  const key =
    f.labels === undefined ? `${f.rule}\0${f.effect}` : `${f.rule}\0${f.effect}\0${f.labels.join(",")}`;
  let r = BUILTIN_RULES.get(key);
  if (r === undefined) {
    r = {
      id: `${BUILTIN_PREFIX}${f.rule}`,
      description: "built-in self-protection rule (src/gate/protect.ts)",
      effect: f.effect,
      risk: f.effect === "deny" ? 100 : f.effect === "escalate" ? 80 : 0,
      labels: f.labels ?? [],
      when: null,
      kinds: [],
      program: null,
      programNames: null,
      programNot: null,
      subcommand: null,
      flags: null,
      flagsAll: null,
      flagsNone: null,
      args: null,
      argv: null,
      paths: null,
      pathsExcept: null,
      pathsWithin: null,
      pathsOutside: null,
      programPath: null,
      writes: null,
      writesOutside: null,
      hosts: null,
      hostsNot: null,
      urls: null,
      methods: null,
      schemes: null,
      domains: null,
      domainsNot: null,
      tool: null,
      arguments: null,
      pipedFrom: null,
      via: null,
      modeSetid: false,
      repositories: null,
      pinned: null,
      signed: null,
      purpose: null,
      sandbox: null,
      datasetUnpinned: false,
      datasetSourcesNot: null,
      baseModelsNot: null,
      budgetOver: null,
      file: "(built-in)",
      line: 0,
    };
    BUILTIN_RULES.set(key, r);
  }
  return r;
}

function stripSlash(p: string): string {
  return p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
}

const NO_URLS: string[] = [];

export function shellSubject(c: SimpleCommand, cwd: string): Subject {
  return {
    kind: "shell",
    cmd: c,
    program: c.program,
    paths: c.paths,
    writes: c.writes,
    hosts: c.hosts,
    urls: c.urls ?? NO_URLS,
    cwd,
    dynamic: c.dynamic,
    dynamicWrites: c.dynamicWrites,
    method: null,
    scheme: null,
    domains: [],
    tool: null,
    args: null,
    artifact: null,
    training: null,
    text: c.text,
    endpoint: null,
  };
}

const EMPTY_LABELS = new Set<string>();

/** The nearest directory at or above `path` that the network wrote (a clone, an arrived tree); not .git's. */
function arrivedTree(path: string, s: Track, p: Track | undefined): string | undefined {
  for (let f = path, up = 0; up < 64 && f.length > 1; up++, f = f.slice(0, f.lastIndexOf("/"))) {
    if (!s.netArtefacts.has(f) && !p?.netArtefacts.has(f)) continue;
    if (f.includes("/.git/")) return undefined;
    // A downloaded file is not a directory: only a path strictly below a tree or a written dir counts.
    if (f !== path || (s.artefact(f) ?? p?.artefact(f))?.tree) return f;
    return undefined;
  }
  return undefined;
}

/** Programs that write a manifest from the local environment or lock (`pip freeze`, `pip-compile`) or the project's history (`git checkout`), or delete one. */
const MANIFEST_WRITERS = new Set([
  "pip",
  "pip3",
  "uv",
  "pip-compile",
  "poetry",
  "pipenv",
  "pdm",
  "rye",
  "hatch",
  "conda",
  "mamba",
  "micromamba",
  "pixi",
  "pnpm",
  "mint",
  "carthage",
  "dbt",
  "tflint",
  "dart",
  "flutter",
  "git",
  "rm",
  "unlink",
  "trash",
]);

/**
 * A dependency manifest written this step (requirements.txt, environment.yml: manifests.ts) is
 * obeyed by a later install: text the gate sees is judged by manifestSource; bytes from the
 * network, a copy of a file this session wrote, or text it did not see is ESCALATE (gate47).
 */
function manifestFindings(
  out: Finding[],
  subjects: readonly Subject[],
  texts: Map<string, WriteText> | undefined,
  net: NetWrites | undefined,
  s: Track,
  p: Track | undefined,
): void {
  for (const sub of subjects) {
    if (sub.kind !== "shell" && sub.kind !== "file.write" && sub.kind !== "tool") continue;
    for (const w of sub.writes) {
      const kind = manifestKind(w);
      if (kind === null) continue;
      const t = texts?.get(w);
      let why: string | null = null;
      if (net?.has(w)) why = "its bytes come from the network, unread";
      else if (t === undefined) {
        if (sub.kind !== "shell" || !MANIFEST_WRITERS.has(sub.program))
          why = "the gate does not see its text";
      } else if ("from" in t) {
        if (t.from.some((f) => s.artefacts.has(f) || p?.artefacts.has(f) === true))
          why = "it is a copy of a file this session wrote";
      } else if (!("keep" in t)) {
        // sed's text is its words: judge its script and file names, not its flags (`-i`).
        const text =
          (sub.program === "sed" || sub.program === "gsed") && sub.cmd !== null
            ? sub.cmd.words
                .map((x) => x.value ?? "")
                .filter((v) => !v.startsWith("-"))
                .join("\n")
            : t.text;
        why = text === null ? "the gate does not see its text" : manifestSource(kind, text);
      }
      if (why === null) continue;
      out.push({
        rule: "dependency-source",
        effect: "escalate",
        reason: `code-source: '${sub.text}' writes '${w}', a dependency manifest a later install obeys: ${why}`,
      });
      return;
    }
  }
}

/**
 * Ignore files a reviewer's tools obey: git's (.gitignore, .git/info/exclude: status, diff and
 * `git add -A` never show what they hide) and the search tools' (.ignore, .rgignore, .fdignore:
 * ripgrep, fd, ag). Their patterns are judged by what they hide (gate55).
 */
const IGNORE_FILE = /(?:^|\/)(?:\.gitignore|\.ignore|\.rgignore|\.fdignore|\.agignore|\.git\/info\/exclude)$/;
/** A file a shell or interpreter runs, by its name: a script a pattern that names it hides. */
const SCRIPT_NAME =
  /\.(?:sh|bash|zsh|ksh|fish|command|py|rb|pl|php|js|mjs|cjs|ts|mts|cts|lua|ps1|psm1|bat|cmd|vbs|applescript|scpt|jar|so|dylib)$/i;
/** The most lines of an ignore file's new text read (beyond it: a review). */
const IGNORE_LINES = 256;

/** A gitignore pattern (no leading `!`, trimmed) as a regex over a path relative to its file's directory. */
function ignorePattern(pat: string): RegExp {
  let body = pat.endsWith("/") ? pat.slice(0, -1) : pat;
  const anchored = body.startsWith("/") || body.includes("/");
  if (body.startsWith("/")) body = body.slice(1);
  let re = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === "*" && body[i + 1] === "*") {
      re += body[i + 2] === "/" ? "(?:.*/)?" : ".*";
      i += body[i + 2] === "/" ? 2 : 1;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = body.indexOf("]", i + 2);
      if (end < 0) re += "\\[";
      else {
        re += `[${body
          .slice(i + 1, end)
          .replace(/^!/, "^")
          .replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  // A pattern hides what it names and everything below it.
  return new RegExp(`^${anchored ? "" : "(?:.*/)?"}${re}(?:/.*)?$`);
}

/**
 * Why a new ignore text hides what a reviewer should see: a pattern that covers a file this
 * session (or this line) wrote, or that names a script by its full name (`tools/.helper.sh`);
 * null for build output, caches and editor files (`node_modules/`, `dist/`, `*.log`, `.env`).
 */
function ignoreHides(text: string, dir: string, written: readonly string[]): string | null {
  const lines = text.split(/\r?\n/);
  if (lines.length > IGNORE_LINES) return `it adds more than ${IGNORE_LINES} patterns`;
  for (const raw of lines) {
    const pat = raw.trim();
    if (pat === "" || pat.startsWith("#") || pat.startsWith("!")) continue;
    const base = pat.replace(/\/+$/, "").slice(pat.replace(/\/+$/, "").lastIndexOf("/") + 1);
    if (!/[*?[]/.test(base) && SCRIPT_NAME.test(base)) return `'${pat}' hides a script by name`;
    let re: RegExp;
    try {
      re = ignorePattern(pat);
    } catch {
      return `'${pat}' is a pattern the gate cannot read`;
    }
    for (const w of written)
      if (w.startsWith(`${dir}/`) && re.test(w.slice(dir.length + 1)))
        return `'${pat}' hides '${w}', which this session wrote`;
  }
  return null;
}

/**
 * A write to an ignore file (IGNORE_FILE) whose text the gate sees is judged by what its new
 * patterns hide (ignoreHides): hiding a file the session made, or a script by name, blinds the
 * review of git status, diffs and searches (builtin:review-control, gate55).
 */
function reviewControlFindings(
  out: Finding[],
  subjects: readonly Subject[],
  texts: Map<string, WriteText> | undefined,
  s: Track,
  p: Track | undefined,
): void {
  for (const sub of subjects) {
    for (const w of sub.writes) {
      if (!IGNORE_FILE.test(w)) continue;
      const t = texts?.get(w);
      if (t === undefined || !("text" in t) || typeof t.text !== "string") continue;
      const dir = w.endsWith("/.git/info/exclude")
        ? w.slice(0, -"/.git/info/exclude".length)
        : w.slice(0, w.lastIndexOf("/"));
      const written: string[] = [];
      for (const o of subjects) if (o !== sub) for (const x of o.writes) written.push(x);
      // ignoreHides looks only below the file's directory: the index's keys there, in order.
      for (const t of p ? [s, p] : [s]) for (const x of t.below(`${dir}/`)) written.push(x);
      const why = ignoreHides(t.text, dir, written);
      if (why === null) continue;
      out.push({
        rule: "review-control",
        effect: "escalate",
        reason: `history-evasion: '${sub.text}' writes '${w}', which tells git status, diffs and searches what not to show: ${why}`,
      });
      return;
    }
  }
}

/** The session label a PATH that puts a writable directory first leaves (pathFindings). */
const PATH_SHADOWED = "path-shadowed";
/** Temporary directories anyone may write: a PATH entry there is as writable as the workspace. */
const TEMP_DIR = /^\/(?:private\/)?(?:tmp|var\/tmp|var\/folders|dev\/shm)(?:\/|$)/;

/**
 * gate63: the session's PATH is state. A step that leaves PATH (`export PATH=bin:$PATH`, kept by a
 * persistent shell) with a directory the session may write before the system's (the workspace, a
 * temporary directory, a relative or run-time entry, a directory holding the session's artefacts)
 * labels the session; from then on every program named without a slash may be a file the session
 * wrote, so it is ESCALATE naming that step, as `export PATH=…; git status` in one line is.
 */
function pathFindings(
  out: Finding[],
  parsed: ShellParse,
  s: Track,
  cwd: string,
  ws: string | null,
  home: string,
  links: Links,
): void {
  const set = s.labels.has(PATH_SHADOWED) ? s.origins.get(PATH_SHADOWED) : undefined;
  if (set !== undefined)
    for (const c of parsed.commands) {
      if (c.program === "" || c.path !== null || SHELL_BUILTINS.has(c.program)) continue;
      out.push({
        rule: "session-artefact",
        effect: "escalate",
        reason: `program-lookup: '${c.program}' is looked up through the PATH '${set.summary}' set, which puts a directory the session may write first: the gate cannot tell which program runs`,
      });
      break;
    }
  const kept = parsed.keeps?.path;
  if (kept === undefined) return;
  for (const e of kept.replace(/["']/g, "").split(":")) {
    if (e === "$PATH" || e === "${PATH}") break;
    const dir = e
      .replace(/^\$(?:PWD|\{PWD\})(?=\/|$)/, cwd)
      .replace(/^(?:\$HOME|\$\{HOME\}|~)(?=\/|$)/, home);
    const abs = dir.startsWith("/") && !dir.includes("$") ? normalisePath(dir, cwd, home, links) : null;
    const writable =
      abs === null ||
      TEMP_DIR.test(abs) ||
      (ws !== null && isWithin(abs, ws)) ||
      s.below(`${abs}/`).length > 0;
    if (!writable) continue;
    out.push({
      rule: "session-artefact",
      effect: "allow",
      reason: `path-shadowed: PATH now starts with '${e}', which the session may write: later programs named without a slash are judged as the session's files`,
      labels: [PATH_SHADOWED],
    });
    return;
  }
}

/** The ignore files git itself reads (not ripgrep's or fd's). */
const GIT_IGNORE_FILE = /(?:^|\/)(?:\.gitignore|\.git\/info\/exclude)$/;
/** Negations of templates and keep-files (`!.env.example`, `!.gitkeep`): what a project means to commit. */
const UNIGNORED_TEMPLATE = /(?:\.(?:example|sample|template|tmpl|dist|md)|(?:^|\/)\.(?:git)?keep)$/;

/**
 * gate63: a write to .gitignore or .git/info/exclude that un-ignores a pattern (`!.env`, a line the
 * gate cannot read, or text it does not know: `sed -i '/.env/d'`) lets `git add -A` stage files the
 * project kept out of git, which the gate cannot list: it labels the session `secret-staged`, as
 * `git add -f` does (the pack's git-add-force), and a push after it is reviewed.
 */
function unignoreFindings(
  out: Finding[],
  subjects: readonly Subject[],
  texts: Map<string, WriteText> | undefined,
): void {
  for (const sub of subjects) {
    for (const w of sub.writes) {
      if (!GIT_IGNORE_FILE.test(w)) continue;
      const t = texts?.get(w);
      if (t !== undefined && "keep" in t) continue;
      // sed's text is its script, not the file it leaves (`sed -i '/.env/d'` deletes the ignore line).
      const sed = sub.program === "sed" || sub.program === "gsed";
      const text = t !== undefined && "text" in t && !sed ? (t.text ?? t.printed ?? null) : null;
      let why: string | null = null;
      if (text === null) why = "text the gate does not know";
      else
        for (const raw of text.split(/\r?\n/)) {
          const pat = raw.trim();
          if (!pat.startsWith("!") || UNIGNORED_TEMPLATE.test(pat)) continue;
          why = `'${pat}', which un-ignores what it names`;
          break;
        }
      if (why === null) continue;
      out.push({
        rule: "review-control",
        effect: "allow",
        reason: `secret-staged: '${sub.text}' writes ${why} to '${w}': git may now stage files the project kept out of it, so the session is marked as having staged what may be a secret`,
        labels: ["secret-staged"],
      });
      return;
    }
  }
}

/** Most carried-command verdicts a gate remembers per bundle. */
const CARRIED_MEMO = 4096;

/**
 * Built-in rules that judge who a program is or what this session did, not what a command does:
 * a carried command that only meets these carries no effect (gate53). Loopback is the
 * developer's own machine (`open http://localhost:3000` in a README).
 */
const CARRIED_NOT_EFFECTS = new Set(
  [
    "untrusted-program",
    "session-artefact",
    "arrived-tree",
    "dependency-source",
    "carried-command",
    "internal-address",
  ].map((r) => `${BUILTIN_PREFIX}${r}`),
);

/**
 * The serious effect a carried command's verdict shows, or null: DENY, or a non-allow rule of
 * risk 60 or more (the pack's scale: a secret read, an upload, a write or delete outside the
 * workspace, privilege, persistence, agent tamper) that judges an effect. A default ESCALATE (an
 * unknown program: a word of prose) or a dynamic word is not an effect.
 */
function carriedEffect(d: Decision): string | null {
  if (d.evaluation === "ALLOW") return null;
  for (const m of d.policy_matched) {
    if (m.effect === "allow" || CARRIED_NOT_EFFECTS.has(m.rule_id)) continue;
    if (m.effect === "deny" || m.risk >= 60) return d.reasons[0] ?? m.rule_id;
  }
  return null;
}

/**
 * The text sed writes into the file, for carried-command (gate53): what sedScript (the one sed
 * reader) says each script word inserts (every `s` replacement, `;`-separated ones included, and
 * `a`/`i`/`c` text), and each word itself (a file name, a classic `a\` text on its next line).
 * Flag words are left out.
 */
function sedInserted(words: readonly Word[]): string {
  const out: string[] = [];
  for (const w of words) {
    const v = w.value;
    if (v === null || v.startsWith("-")) continue;
    out.push(...sedScript(v).inserted, v);
  }
  return out.join("\n");
}

/** Programs whose write does not follow a symlink at the path's last component: it removes, makes or stamps it. */
const LINK_SAFE_WRITERS = new Set(["rm", "rmdir", "unlink", "trash", "mkdir", "touch"]);

/**
 * Content that arrived this session (a clone, an extracted archive, a checkout of fetched
 * commits) is of a kind the gate cannot know: it does not read the disk, and any path there may
 * be a symlink to ~/.zshrc, ~/.aws or ~/Library/LaunchAgents (gate47). A write, append or copy
 * whose destination lies in an arrived tree can land anywhere: ESCALATE. rm, rmdir, mkdir and
 * touch act on the last component itself, so only a path with a component between the tree and
 * its last one can lead elsewhere; git never writes through a symlink in its work tree. A read
 * there may be a secret's: it stays ALLOW (reading a fresh clone is everyday work) but labels the
 * session secret-content, so what would carry a secret off the machine afterwards is reviewed.
 * A clone into the workspace root itself (`git clone URL .`) is the project being set up: it is
 * judged as the checkout the session started on would be.
 */
function arrivedTreeFindings(
  out: Finding[],
  subjects: readonly Subject[],
  s: Track,
  p: Track | undefined,
  root: string,
): void {
  let read: string | undefined;
  for (const sub of subjects) {
    if (sub.kind === "shell" && sub.program === "git") continue;
    for (const w of sub.writes) {
      const t = arrivedTree(w, s, p);
      if (t === undefined || t === root) continue;
      if (LINK_SAFE_WRITERS.has(sub.program) && sub.kind === "shell" && w.indexOf("/", t.length + 1) < 0)
        continue;
      out.push({
        rule: "arrived-tree",
        effect: "escalate",
        reason: `workspace-escape: '${sub.text}' writes '${w}' in '${t}', which arrived from the network: a symlink there may send the write anywhere (the gate does not see the disk)`,
      });
      return;
    }
    if (read === undefined)
      for (const r of sub.paths) {
        if (sub.writes.includes(r)) continue;
        const t = arrivedTree(r, s, p);
        if (t === undefined || r === t || t === root) continue;
        read = `'${sub.text}' reads '${r}' in '${t}', which arrived from the network: a symlink there may lead to a secret, so the session is marked as having read secret content`;
        break;
      }
  }
  if (read !== undefined)
    out.push({ rule: "arrived-tree", effect: "allow", reason: read, labels: ["secret-content"] });
}

/** Text that is a patch or a mailbox carrying one (`diff --git`, `+++ b/F`). */
const PATCH_TEXT = /^(?:diff --git |\+\+\+ )/m;

/**
 * A tree writer (`git apply`, `git am`, `patch`, a checkout of FETCH_HEAD) fed what the gate did not
 * read writes an unknown set of files under its tree: the write rules judge it as TREE/** (the
 * persistence lists: .husky, .github/workflows, Makefile, package.json). Fed a patch the session
 * wrote with a text the gate read, it writes the files that patch names; one that makes a symlink
 * is at least ESCALATE (later paths through it may lead anywhere).
 */
function arrivedWrites(
  out: Finding[],
  c: SimpleCommand,
  fromNet: boolean,
  s: Track,
  p: Track | undefined,
  links: Links,
): void {
  const tree = c.tree!;
  if (fromNet) {
    // `git fetch URL` stores its commits as .git/FETCH_HEAD: no work-tree file until a checkout.
    if (tree.endsWith("/.git/FETCH_HEAD")) return;
    if (c.trees === undefined) c.trees = [tree];
    else if (!c.trees.includes(tree)) c.trees.push(tree);
    return;
  }
  for (let i = 0, n = c.paths.length; i < n; i++) {
    const x = c.paths[i]!;
    if (c.writes.includes(x)) continue;
    const patch = (s.artefact(x) ?? p?.artefact(x))?.patch;
    if (patch === undefined) continue;
    for (const f of patch.files) {
      const w = normalisePath(f, tree, "/", links);
      if (!c.writes.includes(w)) c.writes.push(w);
      if (!c.paths.includes(w)) c.paths.push(w);
    }
    if (patch.link)
      out.push({
        rule: "session-artefact",
        effect: "escalate",
        reason: `workspace-escape: '${c.text}' applies '${x}', which creates a symlink (mode 120000): later paths through it may lead anywhere`,
      });
  }
}

/** git config keys that only describe the repository (its format, remotes, branches): no code, no other place. */
const GIT_REPO_KEYS =
  /^(core\.(repositoryformatversion|bare|logallrefupdates|symlinks)|remote\..+\.(url|pushurl|fetch|push|tagopt|prune|mirror)|branch\..+\.(remote|merge|rebase)|extensions\.(objectformat|worktreeconfig))=/i;

/**
 * The first key of a git config text that is not inert (GIT_INERT_KEYS, GIT_REPO_KEYS): a command
 * (core.fsmonitor, core.sshCommand, remote.X.uploadpack), a hook or work-tree path, an include; ""
 * when there is none. A line the reader does not follow is "?" (fail closed).
 */
export function gitConfigCode(text: string): string {
  let section = "";
  for (const raw of text.split("\n")) {
    const l = raw.trim();
    if (l === "" || l[0] === "#" || l[0] === ";") continue;
    const head = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]\s*([#;].*)?$/.exec(l);
    if (head) {
      section = head[2] === undefined ? head[1]!.toLowerCase() : `${head[1]!.toLowerCase()}.${head[2]}`;
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$/.exec(l);
    if (!kv || section === "" || l.endsWith("\\")) return "?";
    const key = `${section}.${kv[1]!.toLowerCase()}`;
    const value = (kv[2] ?? "true").replace(/^"|"$/g, "");
    const pair = `${key}=${value}`;
    if (/^(ext|fd)::/i.test(value) || !(GIT_INERT_KEYS.test(pair) || GIT_REPO_KEYS.test(pair))) return key;
  }
  return "";
}

/**
 * git opening a repository that is not the workspace's own `.git` (`--git-dir D`, `-C D` or a cd
 * into a bare repo `x.git`, or a directory this session wrote a repository's config or HEAD into)
 * runs that repository's config (core.fsmonitor, core.sshCommand, uploadpack …) and hooks: not
 * ALLOW unless the gate read its config whole, found only inert keys, and no hook was written there.
 */
function gitRepoFindings(out: Finding[], c: SimpleCommand, s: Track, p: Track | undefined): void {
  const { dir, explicit } = c.repo!;
  const art = (f: string) => s.artefact(f) ?? p?.artefact(f);
  let repo: string | undefined;
  if (explicit) repo = dir;
  // Discovery: the directory or one above it that is a bare repository by name (`m.git`) or by
  // what this session wrote into it; a work tree's own `.git` is not one.
  else
    for (let d = dir; d !== "" && d !== "/"; d = d.slice(0, d.lastIndexOf("/")) || "/") {
      const base = d.slice(d.lastIndexOf("/") + 1);
      if (base === ".git") return;
      if (base.endsWith(".git") || art(`${d}/config`) !== undefined || art(`${d}/HEAD`) !== undefined) {
        repo = d;
        break;
      }
    }
  if (repo === undefined || repo.endsWith("/.git")) return;
  const config = art(`${repo}/config`);
  let why: string;
  if (config?.gitConfig === undefined || config.net)
    why =
      config === undefined
        ? "a config the gate has not read"
        : `a config the gate has not read (made by '${config.summary}')`;
  else if (config.gitConfig !== "") why = `its config sets '${config.gitConfig}'`;
  else {
    const hooks = `${repo}/hooks/`;
    let hook: string | undefined;
    for (const t of p ? [s, p] : [s]) hook ??= t.below(hooks)[0];
    if (hook === undefined) return;
    why = `'${hook}' was written in this session`;
  }
  out.push({
    rule: "git-repo",
    effect: "escalate",
    reason: `code-runner: '${c.text}' opens the git repository '${repo}', not the workspace's .git; git runs its config and hooks as code: ${why}`,
  });
}

/** What a line wrote from the network: path → the step, and whether it is a tree (`curl … | git apply`). */
type NetWrites = Map<string, { text: string; tree: boolean }>;

/**
 * A command that runs a file made earlier (in this line, this session or by this principal) runs
 * code the gate has not read: ESCALATE, and the reason names the step that made it. A program that
 * runs its project's code (npm test, make, pytest …) runs every file of a tree the network wrote
 * into (`curl … | git apply`, `wget -O- … | tar x`, a clone), in the tree or above it. Returns what
 * this line wrote from the network, for the session's artefacts.
 */
function taintFindings(
  out: Finding[],
  cmds: readonly SimpleCommand[],
  s: Track,
  p: Track | undefined,
  links: Links,
): NetWrites {
  const line = new Map<string, string>();
  const net: NetWrites = new Map();
  // Programs of this line that fetched from the network: what they print feeds later stages.
  const fetchers = new Map<string, string>();
  for (const c of cmds) {
    if (c.repo !== undefined) gitRepoFindings(out, c, s, p);
    // git runs its config, hooks and filters as code: in a blind workspace any of them may be new.
    if (c.program === "git") {
      const b = blindAbove(c.cwd, s, p);
      if (b !== undefined)
        out.push({
          rule: "session-artefact",
          effect: "escalate",
          reason: `session-artefact: '${c.text}' runs git's config and hooks in '${b[0]}': ${b[1].read?.why ?? ""}`,
        });
    }
    for (const run of c.runs) {
      // The file itself, or a directory it lies in (`git clone URL tool` then `bash tool/install.sh`).
      let f = run;
      let earlier: string | undefined;
      let a: Artefact | undefined;
      for (let up = 0; up < 64 && f !== ""; up++) {
        earlier = line.get(f);
        a = earlier === undefined ? (s.artefact(f) ?? p?.artefact(f)) : undefined;
        if (earlier !== undefined || a !== undefined) break;
        f = f.slice(0, f.lastIndexOf("/"));
      }
      if (earlier === undefined && a === undefined) {
        // A directory it loads code from (`eslint --rulesdir rules`, `gradle -Dorg.gradle.java.home=jdk`)
        // that holds a code artefact the gate did not clear.
        const held = heldArtefact(run, s, p);
        if (held !== undefined)
          out.push({
            rule: "session-artefact",
            effect: "escalate",
            reason: `session-artefact: '${c.text}' loads code from '${run}', which holds '${held}', made by ${madeBy(undefined, (s.artefact(held) ?? p?.artefact(held))!, held, s)}: ${(s.artefact(held) ?? p?.artefact(held))!.read?.why ?? "code the gate has not read"}`,
          });
        continue;
      }
      // The file itself, written with a text the gate read: its verdict is the run's floor, when
      // it runs as the language it was read as (gate59: `node x.py` runs JavaScript).
      const runAs = runLanguage(c.program);
      // A blind workspace's entry (gate57, Track.forgotten) is unread code whatever runs it: its reason stands.
      const other =
        f === run && a?.read !== undefined && a.blind !== true && runAs !== null && a.lang !== runAs;
      const read = f === run && !other ? a?.read : undefined;
      if (read?.floor === "ALLOW") continue;
      out.push({
        rule: "session-artefact",
        effect: read?.floor === "DENY" ? "deny" : "escalate",
        reason: `session-artefact: '${c.text}' runs '${run}'${f !== run ? ` (in '${f}')` : ""}, made by ${madeBy(earlier, a, f, s)}: ${read ? read.why : other ? `${c.program} runs it as ${runAs} code, and the gate read it as ${a!.lang ?? "text"}: code the gate has not read` : "code the gate has not read"}`,
      });
    }
    if (PROJECT_RUNNERS.has(c.program))
      for (const P of c.projects ?? [c.cwd]) {
        projectTaint(out, c, P, net, s, p);
        projectCode(out, c, P, line, s, p);
      }
    // Network data reaches this command: it fetches, an earlier stage that fetched feeds it, or it
    // reads a file downloaded earlier (`git apply < p.patch`, `tar xf x.tgz`).
    let step: string | undefined;
    // A copy or move of a tree the network wrote (`mv clone vendor/clone`) is that tree.
    let tree = false;
    if (c.hosts.length > 0) step = c.text;
    else {
      const f = c.feeders.find((x) => fetchers.has(x));
      if (f !== undefined) step = `${fetchers.get(f)} | ${c.text}`;
      else {
        const x = c.paths.find(
          (x) => !c.writes.includes(x) && (net.has(x) || (s.artefact(x) ?? p?.artefact(x))?.net),
        );
        if (x !== undefined) {
          step = `${c.text} (from '${x}', downloaded)`;
          tree = c.copy === true && (net.get(x)?.tree ?? (s.artefact(x) ?? p?.artefact(x))?.tree) === true;
        }
      }
    }
    if (c.tree !== undefined) arrivedWrites(out, c, step !== undefined, s, p, links);
    if (c.expands !== undefined)
      expandedDownload(
        out,
        c,
        c.feeders.find((x) => fetchers.has(x)),
        net,
        s,
        p,
      );
    if (step !== undefined) {
      for (const w of c.writes) if (!net.has(w)) net.set(w, { text: step, tree });
      if (c.tree !== undefined) net.set(c.tree, { text: step, tree: true });
      if (c.hosts.length > 0 && c.program !== "" && !fetchers.has(c.program)) fetchers.set(c.program, c.text);
    }
    for (const w of c.writes) if (!line.has(w)) line.set(w, c.text);
    if (step !== undefined && c.tree !== undefined && !line.has(c.tree)) line.set(c.tree, step);
    // Session code that writes files: what later stages run under its directory may be its.
    if (!line.has(c.cwd) && blindWriter(c, s, p) !== undefined) line.set(c.cwd, c.text);
  }
  return net;
}

/**
 * An expander (gunzip, xz -d, zstd -d, zcat, unzip, tar x) of what the network wrote this session
 * or feeds it now: a few kilobytes downloaded can expand to fill the disk or memory (a
 * decompression bomb). A project's own archive is not judged here.
 */
function expandedDownload(
  out: Finding[],
  c: SimpleCommand,
  piped: string | undefined,
  net: NetWrites,
  s: Track,
  p: Track | undefined,
): void {
  let from = piped === undefined ? undefined : `what '${piped}' fetches`;
  for (const f of c.expands!) {
    if (from !== undefined) break;
    const w = net.get(f);
    const a = w === undefined ? (s.artefacts.get(f) ?? p?.artefacts.get(f)) : undefined;
    const t = w === undefined && !a?.net ? arrivedTree(f, s, p) : undefined;
    if (w !== undefined) from = `'${f}', written from the network by '${w.text}' earlier in this line`;
    else if (a?.net) from = `'${f}', downloaded by ${madeBy(undefined, a, f, s)}`;
    else if (t !== undefined) from = `'${f}', in '${t}', which the network wrote`;
  }
  if (from === undefined) return;
  out.push({
    rule: "decompress-download",
    effect: "escalate",
    reason: `resources: '${c.text}' expands ${from}: a small download can expand to fill the disk or memory (a decompression bomb)`,
  });
}

/**
 * An artefact of the session (or principal) strictly below `dir` whose text the gate did not clear
 * (`jdk/bin/java` written by printf, `rules/x.js` that spawns a process). A git config whose text
 * the gate read is judged by its keys (gitRepoFindings), not here.
 */
function heldArtefact(dir: string, s: Track, p: Track | undefined): string | undefined {
  // The deepest one: a file written under a directory made this session, not the directory.
  let held: string | undefined;
  for (const t of p ? [s, p] : [s])
    for (const f of dir === "/" ? t.artefacts.keys() : t.below(`${dir}/`)) {
      const a = t.artefacts.get(f)!;
      if (
        f !== dir &&
        isWithin(f, dir) &&
        a.read?.floor !== "ALLOW" &&
        a.gitConfig === undefined &&
        f.length > (held?.length ?? 0)
      )
        held = f;
    }
  // What a full index forgot (Track.forgotten) below it: any file there may be the session's.
  if (held === undefined && (s.forgotten.size > 0 || (p !== undefined && p.forgotten.size > 0))) {
    const d = canonicalPath(dir);
    for (const t of p ? [s, p] : [s])
      for (const f of t.forgotten.keys()) if (f !== d && isWithin(f, d)) return f;
  }
  return held;
}

/**
 * The session code file `c` runs or loads that writes files (Artefact.writes): a file it runs
 * (`python3 gen.py`), a file under a directory it runs (`go run ./tools/w`), or one under the
 * project a runner loads (`cargo run`, `npm test`); undefined when none.
 */
function blindWriter(c: SimpleCommand, s: Track, p: Track | undefined): string | undefined {
  if (s.artefacts.size === 0 && (p === undefined || p.artefacts.size === 0)) return undefined;
  const dirs = PROJECT_RUNNERS.has(c.program) ? [...c.runs, ...(c.projects ?? [c.cwd])] : c.runs;
  for (const d of dirs)
    for (const t of p ? [s, p] : [s]) {
      // `d` itself (a file it runs), then what lies below it: the directory index, not a scan.
      if (t.artefacts.get(d)?.writes === true) return d;
      for (const f of t.below(d.endsWith("/") ? d : `${d}/`))
        if (t.artefacts.get(f)!.writes === true) return f;
    }
  return undefined;
}

/** The blind workspace (Artefact.blind) `dir` lies in, with its artefact; undefined when none. */
function blindAbove(dir: string, s: Track, p: Track | undefined): [string, Artefact] | undefined {
  if (s.artefacts.size === 0 && (p === undefined || p.artefacts.size === 0)) return undefined;
  for (let d = dir; d !== ""; d = d.slice(0, d.lastIndexOf("/"))) {
    const a = s.artefact(d) ?? p?.artefact(d);
    if (a?.blind) return [d, a];
  }
  return undefined;
}

function madeBy(earlier: string | undefined, a: Artefact | undefined, f: string, s: Track): string {
  return earlier !== undefined
    ? `'${earlier}' earlier in this line`
    : `'${a!.summary}'${a!.action_id ? ` (action ${a!.action_id})` : ""}${s.artefact(f) !== undefined ? " earlier in this session" : " in another session of this principal"}`;
}

/**
 * `npm test` in P after the network wrote a tree T: T within P (the project holds it) or P within a
 * network-written directory (a clone, or a tree that holds P) is code the gate has not read.
 */
function projectTaint(
  out: Finding[],
  c: SimpleCommand,
  P: string,
  net: NetWrites,
  s: Track,
  p: Track | undefined,
): void {
  // Compared by canonical spelling (APFS: a clone into `Tool` is the tree `cd tool` runs in).
  const cP = canonicalPath(P);
  const hit = (path: string, tree: boolean) => {
    const c = canonicalPath(path);
    return isWithin(cP, c) || (tree && isWithin(c, cP));
  };
  let at: string | undefined;
  let by: string | undefined;
  for (const [path, w] of net)
    if (!path.includes("/.git/") && hit(path, w.tree)) {
      at = path;
      by = madeBy(w.text, undefined, path, s);
      break;
    }
  for (const t of p ? [s, p] : [s]) {
    if (at !== undefined) break;
    for (const path of t.netArtefacts) {
      const a = t.artefacts.get(path)!;
      // Fetched commits (`.git/FETCH_HEAD`) are not the tree a runner loads until a checkout writes them.
      if (path.includes("/.git/")) continue;
      if (hit(path, a.tree === true)) {
        at = path;
        by = madeBy(undefined, a, path, s);
        break;
      }
    }
  }
  if (at === undefined) return;
  out.push({
    rule: "session-artefact",
    effect: "escalate",
    reason: `session-artefact: '${c.text}' runs the project's code in '${P}', and '${at}' was written from the network by ${by}: code the gate has not read`,
  });
}

/** What a copy reads: its paths that it does not write, and a move's sources (written: removed). */
function copySources(c: SimpleCommand): string[] {
  return c.paths.filter(
    (x, i) => !c.writes.includes(x) || c.moved?.includes(x) === true || namedBefore(c, x, i),
  );
}

/**
 * gate64: `x` (the i-th path, also written) is a source named before the directory it lies in:
 * `cp -R stage/ .` writes `./stage` as GNU cp would, and copies stage's content into `.` as
 * macOS's cp does; `cp -R a b/` names `b/a` after `b`, where it lands.
 */
function namedBefore(c: SimpleCommand, x: string, i: number): boolean {
  const up = c.paths.indexOf(x.slice(0, Math.max(x.lastIndexOf("/"), 1)));
  return up > i && c.writes.includes(c.paths[up]!);
}

/**
 * A copy or move of a directory (`mv a.d b.d`, `cp -R gen/ src/`, `rsync -a x/ y/`) takes the
 * artefacts below it along: each lands below every path the command writes, as it was. The paths
 * they land at, each with the artefact it is.
 */
function copiedBelow(s: Track, p: Track | undefined, c: SimpleCommand): [string, Artefact][] {
  const out: [string, Artefact][] = [];
  for (const t of p ? [s, p] : [s]) {
    if (t.artefacts.size === 0) continue;
    for (const f of copySources(c)) {
      const head = f.endsWith("/") ? f : `${f}/`;
      for (const k of t.below(head)) {
        const a = t.artefacts.get(k)!;
        for (const w of c.writes)
          if (c.moved?.includes(w) !== true) out.push([w + k.slice(head.length - 1), a]);
      }
    }
  }
  return out;
}

/**
 * gate64: a tree copy of a directory the session wrote into (`cp -R stage/. .`, `ditto stage .`,
 * `cp -R stage/ .`) places what the session wrote there below its destination (`.husky/pre-commit`,
 * `.claude/settings.json`, `.pre-commit-config.yaml`): the copy is judged as writing those paths,
 * as copiedTree records them.
 */
function copiedWrites(sub: Subject, s: Track, p: Track | undefined): void {
  const c = sub.cmd!;
  const writes = [...sub.writes];
  for (const [w] of copiedBelow(s, p, c)) if (!writes.includes(w)) writes.push(w);
  if (writes.length > sub.writes.length) sub.writes = writes;
}

/** What a write puts in a file as far as the gate can read it: a text, or the project files it copies. */
type WriteText =
  | StructuredWrite
  | { from: readonly string[] }
  /** The bytes stay (chmod, touch): the file keeps what the gate knew of it; a new one is `fresh`. */
  | { keep: true; fresh: "ALLOW" | null };

/** echo's own options: a leading word of only these letters. */
const ECHO_FLAGS = /^-[neE]+$/;
/** The escapes read as what they print in a text without CHAR_ESCAPES: `\n`, `\t`, `\\`. */
const PLAIN_ESCAPES = /\\([nt\\])/g;
const plainEscape = (_: string, e: string) => (e === "n" ? "\n" : e === "t" ? "\t" : "\\");
/** printf/echo escapes that build characters (`\x63`, `\0143`, `\u0063`): what they print cannot be read as written. */
const CHAR_ESCAPES = /\\(?:[xuU0-7]|c.)/;
/** printf/echo -e escapes: a character named by code, `\c` (nothing after it), or one letter. */
const PRINTF_ESCAPES =
  /\\(?:x([0-9A-Fa-f]{1,2})|u([0-9A-Fa-f]{1,4})|U([0-9A-Fa-f]{1,8})|0?([0-7]{1,3})|(c)[\s\S]*|(.))/g;
const ONE_LETTER: Readonly<Record<string, string>> = wordTable({
  n: "\n",
  t: "\t",
  r: "\r",
  "\\": "\\",
  a: "\x07",
  b: "\b",
  e: "\x1b",
  f: "\f",
  v: "\v",
});

/** The text printf or `echo -e` prints for `s` (its format and words joined). */
function printed(s: string): string {
  return s.replace(PRINTF_ESCAPES, (all, x, u, U, o, cut, one) => {
    if (cut !== undefined) return "";
    const code = x ?? u ?? U;
    if (code !== undefined) return String.fromCodePoint(Math.min(Number.parseInt(code, 16), 0x10ffff));
    if (o !== undefined) return String.fromCharCode(Number.parseInt(o, 8) & 0xff);
    return ONE_LETTER[one] ?? all;
  });
}

/** Programs whose words are the text they write (echo, printf) or insert (sed -i). */
const WORD_WRITERS = new Set(["echo", "printf", "sed", "gsed"]);

/**
 * The text each shell write puts in its file, where the line says it: a heredoc to cat or tee
 * (quoted delimiter, or a body with no expansion), echo/printf words, a `sed -i` script (the text
 * it inserts), touch (nothing), or a copy of files inside the workspace. Other writes are unread.
 */
function shellTexts(
  cmds: readonly SimpleCommand[],
  line: string,
  ws: string | null,
): Map<string, WriteText> | undefined {
  let out: Map<string, WriteText> | undefined;
  let append: boolean | undefined;
  for (let i = 0; i < cmds.length; i++) {
    const c = cmds[i]!;
    if (c.writes.length === 0) continue;
    append ??= line.includes(">>");
    let t: WriteText | null = null;
    const words: string[] = [];
    let dynamic = false;
    let escapes = false;
    if (WORD_WRITERS.has(c.program)) {
      // echo prints every word after its leading -n/-e/-E (`echo --index-url x` prints it all).
      // printf has no option but `-v VAR` (it writes no file then) and `--`: `printf -p:x` prints it.
      let lead = c.program === "echo";
      const printf = c.program === "printf";
      let first = true;
      for (const w of lead || printf ? c.words : c.operands) {
        if (lead && w.value !== null && ECHO_FLAGS.test(w.value)) {
          // Only echo's own leading option turns escapes on (`echo -eval` prints `-eval`).
          if (w.value.includes("e")) escapes = true;
          continue;
        }
        if (printf && first && w.value === "--") {
          first = false;
          continue;
        }
        lead = false;
        first = false;
        if (w.value === null) dynamic = true;
        else words.push(w.value);
      }
    }
    switch (c.program) {
      case "cat":
      case "tee": {
        const h = c.heredoc;
        if (h === undefined || (c.program === "cat" && c.operands.some((w) => w.value !== "-"))) break;
        const literal = /<<-?\s*(['"])[^'"\s]+\1|<<-?\s*\\\w/.test(line) || !/[$`]/.test(h);
        if (literal) t = { path: "", text: h, whole: !append && c.program === "cat" };
        break;
      }
      case "echo":
      case "printf":
        // `echo -eval x` prints `-eval x`: its words are its text. Escapes that build characters
        // (`\x63`, `\0143`, `\c`) leave the text unread as code; carriedFindings still reads what
        // they print (`printed`), whether or not echo has -e: more text is a candidate, never less.
        if (dynamic || words.some((v) => v.includes("%b"))) break;
        if (escapes || words.some((v) => CHAR_ESCAPES.test(v)))
          t = { path: "", text: null, whole: false, printed: printed(words.join(" ")) };
        else
          t = {
            path: "",
            text: words.join(" ").replace(PLAIN_ESCAPES, plainEscape),
            whole: false,
          };
        break;
      case "sed":
      case "gsed":
        if (dynamic || c.flags.has("-f") || c.flags.has("--file") || words.some((v) => /\\[xodcuU]/.test(v)))
          break;
        // gate66: without -i sed prints its input edited (`sed 's/^#//' notes.txt > b.py`): the
        // text is the input's, which the gate has not read; only an in-place edit inserts its words.
        if (![...c.flags].some((f) => f.startsWith("-i") || f.startsWith("--in-place"))) break;
        t = { path: "", text: c.words.map((w) => w.value ?? "").join("\n"), whole: false };
        break;
      // touch makes an empty file or leaves one as it was; chmod and chown change no byte (a mode
      // change on a project file the session never wrote still makes it unread, as before).
      case "touch":
        t = { keep: true, fresh: "ALLOW" };
        break;
      case "chmod":
      case "chown":
      case "chgrp":
        t = { keep: true, fresh: null };
        break;
      default:
        if (c.copy && !c.dynamic && ws !== null) {
          // A move's sources are written (removed) and are what its destination holds.
          const from = copySources(c);
          if (from.length > 0 && from.every((x) => isWithin(x, ws))) t = { from };
        }
    }
    if (t === null) continue;
    // A pipeline's redirect is every stage's write (`echo B64 | base64 -d > f.js`): what reaches the
    // file is what the last stage prints, so an earlier stage's text is the file's only through
    // stages that pass their input on unchanged. Otherwise it is unread (still read for carried commands).
    if ("path" in t && t.text !== null && transformedDownstream(c, cmds, i))
      t = { path: "", text: null, whole: false, printed: t.text };
    out ??= new Map();
    for (const w of c.writes)
      if (!out.has(w) && c.moved?.includes(w) !== true) out.set(w, "path" in t ? { ...t, path: w } : t);
  }
  return out;
}

/**
 * Whether a later stage of `c`'s pipeline that writes the same file (`… | base64 -d > f`) reads
 * `c`'s output and changes it on the way: only `cat` (of standard input, no options) and `tee` do not.
 */
function transformedDownstream(c: SimpleCommand, cmds: readonly SimpleCommand[], i: number): boolean {
  for (let j = i + 1; j < cmds.length; j++) {
    const d = cmds[j]!;
    if (!d.feeders.includes(c.program) || !d.writes.some((w) => c.writes.includes(w))) continue;
    if (d.program === "tee" || (d.program === "cat" && d.words.every((w) => w.value === "-"))) continue;
    return true;
  }
  return false;
}

/**
 * `npm test`, `pytest`, `go test ./...` in P load the code files under P (test discovery, `-m`
 * modules, build scripts, go:generate lines) and configs above it: one this session wrote whose
 * text the gate did not read, or read and found reaching for a capability it cannot bound
 * (capabilities.ts), is ESCALATE naming the write (its judged floor, when that is DENY).
 */
function projectCode(
  out: Finding[],
  c: SimpleCommand,
  P: string,
  line: ReadonlyMap<string, string>,
  s: Track,
  p: Track | undefined,
): void {
  // In or below P, in a directory above it (a config), or in a directory the runner names
  // (`pytest /abs/tests`, `make -C sub`, `npm --prefix sub test`).
  const loads = (path: string) =>
    isWithin(path, P) || isWithin(P, dirOf(path)) || c.paths.some((x) => isWithin(path, x));
  for (const t of p ? [s, p] : [s]) {
    for (const path of t.codeArtefacts) {
      if (!loads(path)) continue;
      const a = t.artefacts.get(path)!;
      out.push({
        rule: "session-artefact",
        effect: a.read?.floor === "DENY" ? "deny" : "escalate",
        reason: `session-artefact: '${c.text}' runs the project's code in '${P}', which loads '${path}', made by ${madeBy(undefined, a, path, s)}: ${a.read ? a.read.why : "code the gate has not read"}`,
      });
      return;
    }
    // What a full index forgot (Track.forgotten): a directory the runner loads may hold any of it.
    for (const [d, a] of t.forgotten) {
      const cP = canonicalPath(P);
      const near = (x: string) => isWithin(d, x) || isWithin(x, d);
      if (!near(cP) && !c.paths.some((x) => near(canonicalPath(x)))) continue;
      out.push({
        rule: "session-artefact",
        effect: "escalate",
        reason: `session-artefact: '${c.text}' runs the project's code in '${P}', and ${a.read!.why}`,
      });
      return;
    }
  }
  // Text files it runs as doctests (`pytest --doctest-glob='*.md' docs`): the session's are code
  // the gate never read as code.
  if (c.doctests !== undefined) {
    const doc = compileWordGlobs(c.doctests, true);
    for (const t of p ? [s, p] : [s])
      for (const [path, a] of t.artefacts) {
        if (!loads(path) || !doc.test(path.slice(path.lastIndexOf("/") + 1))) continue;
        out.push({
          rule: "session-artefact",
          effect: "escalate",
          reason: `session-artefact: '${c.text}' runs the examples in '${path}' as doctests, made by ${madeBy(undefined, a, path, s)}: code the gate has not read`,
        });
        return;
      }
  }
  // Written earlier in this line by a program: not read.
  for (const [path, by] of line) {
    if (!loads(path) || codeLanguage(path, null) === null) continue;
    out.push({
      rule: "session-artefact",
      effect: "escalate",
      reason: `session-artefact: '${c.text}' runs the project's code in '${P}', which loads '${path}', made by '${by}' earlier in this line: code the gate has not read`,
    });
    return;
  }
}

/** The text a structured write puts in a file: all of it (`whole`), or the text its edits insert. */
export interface StructuredWrite {
  path: string;
  /** Null: the write gave no text the gate can read (a digest only, a move). */
  text: string | null;
  whole: boolean;
  /** With no text: what echo/printf escapes print, read only for the commands it carries (gate53). */
  printed?: string;
}

/** Tools that write or edit one file, by their name's last part (`mcp__fs__write_file`, `Write`). */
const WRITE_TOOLS =
  /(?:^|__)(write_file|write_text_file|create_file|edit_file|edit|write|multi_?edit|str_replace_editor|str_replace_based_edit_tool|notebook_edit|apply_patch|move_file|copy_file|rename_file)$/i;
const TOOL_PATH_KEYS = [
  "path",
  "file_path",
  "filePath",
  "filename",
  "notebook_path",
  "destination",
  "target",
];
const TOOL_TEXT_KEYS = ["content", "contents", "text", "file_text"];
const TOOL_EDIT_KEYS = [
  "newText",
  "new_text",
  "new_string",
  "newString",
  "new_str",
  "new_source",
  "replacement",
];

/**
 * The file a structured action writes and the text it gives: a file.write (its content when it
 * carries it), or a write/edit tool's path argument with its content or its edits' new text.
 * Null when the action writes no file the gate can name.
 */
export function structuredWrite(
  a: Action,
  cwd: string,
  home: string,
  links: Links = Links.NONE,
): StructuredWrite | null {
  if (a.kind === "file.write") {
    const raw = /^file:/i.test(a.path) ? fileUriPath(a.path) : a.path;
    if (raw === null) return null;
    const path = normalisePath(raw, cwd, home, links);
    if (a.content !== undefined) return { path, text: a.content, whole: true };
    if (a.edits !== undefined && a.edits.length > 0)
      return { path, text: a.edits.map((e) => e.new_text).join("\n"), whole: false };
    return { path, text: null, whole: true };
  }
  if (a.kind !== "tool" || !WRITE_TOOLS.test(a.name)) return null;
  const args = a.arguments;
  let raw: string | undefined;
  for (const k of TOOL_PATH_KEYS) {
    const v = args[k];
    if (typeof v === "string" && v !== "") raw = v;
    if (raw !== undefined && k !== "path" && k !== "file_path") break;
  }
  if (raw === undefined) return null;
  const file = /^file:/i.test(raw) ? fileUriPath(raw) : raw;
  if (file === null) return null;
  const path = normalisePath(file, cwd, home, links);
  if (/^(move|copy|rename)_file$/i.test(a.name.replace(/^.*__/, "")))
    return { path, text: null, whole: true };
  for (const k of TOOL_TEXT_KEYS) {
    const v = args[k];
    if (typeof v === "string") return { path, text: v, whole: true };
  }
  // Edits: the new text of each (`edits: [{oldText, newText}]`, `new_string`, `new_str`).
  const parts: string[] = [];
  const collect = (o: unknown) => {
    if (o === null || typeof o !== "object") return;
    for (const k of TOOL_EDIT_KEYS) {
      const v = (o as Record<string, unknown>)[k];
      if (typeof v === "string") parts.push(v);
    }
  };
  collect(args);
  if (Array.isArray(args.edits)) for (const e of args.edits.slice(0, 1000)) collect(e);
  return { path, text: parts.length > 0 ? parts.join("\n") : null, whole: false };
}

function firstLine(text: string): string {
  const nl = text.indexOf("\n");
  return nl < 0 ? text : text.slice(0, nl);
}

function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/**
 * The files whose lines a runner hands to a shell: what the file is called, what one of its lines
 * is, and how the gate reads them (null: unreadable; a string: why it cannot be judged).
 */
const RUNNER_FILES: Partial<
  Record<CodeLanguage, { file: string; line: string; lines: (text: string) => string[] | string | null }>
> = {
  "package.json": { file: "package.json", line: "script", lines: packageScripts },
  make: { file: "Makefile", line: "recipe", lines: makeRecipes },
  dockerfile: { file: "Dockerfile", line: "RUN line", lines: dockerfileRuns },
};

/** A package.json's scripts (the lines npm runs); null when it is not JSON or they are not strings. */
function packageScripts(text: string): string[] | null {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return null;
  }
  if (j === null || typeof j !== "object" || Array.isArray(j)) return null;
  const scripts = (j as { scripts?: unknown }).scripts;
  if (scripts === undefined) return [];
  if (scripts === null || typeof scripts !== "object" || Array.isArray(scripts)) return null;
  const out: string[] = [];
  for (const v of Object.values(scripts)) {
    if (typeof v !== "string") return null;
    if (v.trim() !== "") out.push(v);
  }
  return out;
}

/**
 * A Makefile's recipe lines (tab-led, `@`/`-`/`+` prefixes off, continuations joined). make's own
 * `$(…)` expansions read as command substitutions, so a recipe that uses variables is judged as
 * running an unknown command: not ALLOW.
 */
function makeRecipes(text: string): string[] {
  const out: string[] = [];
  const lines = text.replace(/\\\n/g, " ").split("\n");
  for (const l of lines) {
    if (!l.startsWith("\t")) continue;
    const cmd = l
      .slice(1)
      .replace(/^[@+-]+/, "")
      .trim();
    if (cmd !== "") out.push(cmd);
  }
  return out;
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
/** A rule's strings a decision uses on every match, built once per rule (not once per line). */
interface RuleKeys {
  /** Its count key in a Track (`when.count.rule`). */
  count: string;
  /** Its reason on an ALLOW. */
  allow: string;
}
const RULE_KEYS = new WeakMap<CompiledRule, RuleKeys>();

function keysOf(r: CompiledRule): RuleKeys {
  let k = RULE_KEYS.get(r);
  if (k === undefined) {
    k = { count: `rule:${r.id}`, allow: `allow rule '${r.id}'` };
    RULE_KEYS.set(r, k);
  }
  return k;
}

/** `kind:<kind>` count keys, one string per kind (the kinds are a closed set, plus "invalid"). */
const KIND_KEYS = new Map<string, string>();

function kindKeyOf(kind: string): string {
  let k = KIND_KEYS.get(kind);
  if (k === undefined) {
    k = `kind:${kind}`;
    if (KIND_KEYS.size < 256) KIND_KEYS.set(kind, k);
  }
  return k;
}

/**
 * The bundle's index split by kind, then by program (`*`: rules for any), built once per bundle:
 * a subject's candidates are found without building a `kind\0program` key for each.
 */
const SPLIT_INDEX = new WeakMap<PolicyBundle, Map<string, Map<string, readonly CompiledRule[]>>>();

function splitIndex(bundle: PolicyBundle): Map<string, Map<string, readonly CompiledRule[]>> {
  let m = SPLIT_INDEX.get(bundle);
  if (m === undefined) {
    m = new Map();
    for (const [key, rules] of bundle.index) {
      const cut = key.indexOf("\0");
      const kind = key.slice(0, cut);
      let byProgram = m.get(kind);
      if (byProgram === undefined) {
        byProgram = new Map();
        m.set(kind, byProgram);
      }
      byProgram.set(key.slice(cut + 1), rules);
    }
    SPLIT_INDEX.set(bundle, m);
  }
  return m;
}

/**
 * splitIndex without the rules that name `writes` or `writes_outside`, built once per bundle, for a
 * subject that writes nothing (no write, no dynamic one, no glob or tree written): matchRule is NO
 * for each of those rules there, so leaving them out changes no decision and keeps the order.
 */
const READ_INDEX = new WeakMap<PolicyBundle, Map<string, Map<string, readonly CompiledRule[]>>>();

function readIndex(bundle: PolicyBundle): Map<string, Map<string, readonly CompiledRule[]>> {
  let m = READ_INDEX.get(bundle);
  if (m === undefined) {
    m = new Map();
    for (const [kind, byProgram] of splitIndex(bundle)) {
      const out = new Map<string, readonly CompiledRule[]>();
      for (const [program, rules] of byProgram)
        out.set(
          program,
          rules.filter((r) => r.writes === null && r.writesOutside === null),
        );
      m.set(kind, out);
    }
    READ_INDEX.set(bundle, m);
  }
  return m;
}

/**
 * A principal never clears its own composition state (a governed model would launder its
 * `secret-read` label): the clear is DENY when it names the requesting session, the requesting
 * principal, or a session that principal was last seen in.
 */
function selfClear(
  a: { session: string | null; principal: string | null },
  req: EvaluateRequest,
  sessionPrincipal: string,
): string | null {
  const me = typeof req.principal === "string" && req.principal !== "" ? req.principal : null;
  if (a.session !== null && a.session === req.session_id)
    return `self-clear: session ${a.session} may not clear its own composition state`;
  if (me !== null && a.principal === me)
    return `self-clear: principal ${me} may not clear its own composition state`;
  if (me !== null && sessionPrincipal === me)
    return `self-clear: session ${a.session} belongs to principal ${me}, who may not clear its composition state`;
  return null;
}

/**
 * Where the labels a rule's `when` relied on came from: " (label 'secret-read' set in session S
 * by action A at T: 'cat ~/.ssh/id_rsa')". Empty for rules without label conditions.
 */
function labelProvenance(r: CompiledRule, s: Track, p: Track | undefined, line: Set<string>): string {
  const w = r.when;
  if (!w || (!w.labels && !w.labelsAll)) return "";
  const out: string[] = [];
  for (const l of [...(w.labels ?? []), ...(w.labelsAll ?? [])]) {
    const o = s.origins.get(l) ?? p?.origins.get(l);
    if (o) {
      const who = p && !s.origins.has(l) ? "principal's " : "";
      out.push(
        `${who}label '${l}' set in session ${o.session_id} by action ${o.action_id ?? "(no id)"} at ${new Date(o.at_ms).toISOString()}: '${o.summary.length > 80 ? `${o.summary.slice(0, 77)}...` : o.summary}'`,
      );
    } else if (line.has(l)) out.push(`label '${l}' set earlier on this line`);
  }
  return out.length > 0 ? ` [${out.join("; ")}]` : "";
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

function anyPath(globs: PathMatcher, paths: string[], home: string, cwd: string): boolean {
  for (const p of paths) if (globs.test(p, home, cwd)) return true;
  return false;
}

/** The pack's globs of one compiled field as a glob-meet set, for the home and cwd it was made for. */
const meetCache = new WeakMap<
  PathMatcher,
  { home: string; cwd: string; set: MeetSet; all?: MeetSet; exts?: MeetSet }
>();
/** A command's glob words, keyed once for every rule that looks at them, with what each says of a name. */
const wordCache = new WeakMap<readonly string[], { keys: ReturnType<typeof shellWord>[]; reach: number[] }>();

/**
 * True when some glob word (`/dev/[z]ero`, `~/Library/Keychain?/…`) can match a path one of `globs`
 * matches: the word names every file it could expand to (glob-meet.ts). Only glob words get here.
 * The fixed places of globs rooted at `/`, `~` or `$CWD` take part for every word; a glob at any
 * depth (`*.pem`, `$CWD/**` + `/package.json`) is a file name, which a word meets by what its last
 * segment says of a name (glob-meet.ts nameReach): `cat .env*` meets `**` + `/.env`, `cat *.pem`
 * meets `**` + `/*.pem`, and a bare `*` no name (`rm -rf *` in a scratch directory names no
 * secret, `rm dist/*.js` no build file).
 */
function anyMeet(globs: PathMatcher, words: readonly string[], home: string, cwd: string): boolean {
  let mine = wordCache.get(words);
  if (mine === undefined) {
    const keys = words.map(shellWord);
    // gate49: a word with no `*` (only `?`, `[...]`, braces) names a few names of one length, an
    // obfuscated name (`cat .en[v]`, `server.ke?`), not any name. gate56: a `*` word whose last
    // segment holds part of a name (`.env*`, `deploy_k*`, `id_*`, `*secret*`) names the files that
    // share it; one with an extension alone (`*.pem`) the files of that extension.
    const reach = keys.map((k, i) => (words[i]!.includes("*") ? nameReach(k.toks) : SOME_NAME));
    mine = { keys, reach };
    wordCache.set(words, mine);
  }
  let e = meetCache.get(globs);
  if (e === undefined || e.home !== home || e.cwd !== cwd) {
    e = { home, cwd, set: meetSet(globs.globs, home, cwd, true) };
    meetCache.set(globs, e);
  }
  const { keys, reach } = mine;
  for (let i = 0; i < keys.length; i++) {
    if (meetsSet(e.set, keys[i]!)) return true;
    // Such words meet the globs at any depth too (`**/.env`, `**/*.pem`), built on first use: a
    // part of a name every glob, an extension the globs that name files by extension alone
    // (`cat src/*.ts`, `cat docs/*.json` meet no `key.json`); `*` alone only the fixed places.
    // A `*` word meets them by name: its last segment's literals meet the glob's literals.
    const star = words[i]!.includes("*");
    if (reach[i] === SOME_NAME) {
      e.all ??= meetSet(globs.globs, home, cwd, false);
      if (meetsSet(e.all, keys[i]!, star)) return true;
    } else if (reach[i] === EXT_NAME) {
      e.exts ??= meetSet(globs.globs, home, cwd, false, true);
      if (meetsSetByExtension(e.exts, keys[i]!)) return true;
    }
  }
  return false;
}

/**
 * True when some path matches one of `globs` and none of `except` (`~/**` outside the workspace).
 * The exceptions anchored at the workspace go first: most paths a line names are in it, and that
 * test is a prefix compare, so they skip the rule's (often long) lists.
 */
function anyPathExcept(
  globs: PathMatcher,
  except: PathMatcher,
  paths: readonly string[],
  home: string,
  cwd: string,
): boolean {
  for (const p of paths) {
    if (except.testBase(p, home, cwd, "cwd", true)) continue;
    if (globs.test(p, home, cwd) && !except.testBase(p, home, cwd, "cwd", false)) return true;
  }
  return false;
}

/**
 * The glob words a rule with `paths_except` still sees: a word whose directory before its first
 * glob segment the exceptions cover (`src/*.ts` in the workspace) matches only paths below it, so
 * none outside them, unless a `..` follows a glob segment (then it could leave).
 */
function globsOutside(words: readonly string[], except: PathMatcher, home: string, cwd: string): string[] {
  const out: string[] = [];
  for (const w of words) {
    const g = w.search(/[*?[]/);
    const dir = g < 0 ? w : w.slice(0, w.lastIndexOf("/", g));
    if (dir !== "" && !w.slice(g).includes("/..") && except.test(dir, home, cwd)) continue;
    out.push(w);
  }
  return out;
}

/** True when `set` holds any of `names`. */
function hasAny(set: ReadonlySet<string>, names: readonly string[]): boolean {
  for (const n of names) if (set.has(n)) return true;
  return false;
}

/** True when `set` holds every one of `names`. */
function hasAll(set: ReadonlySet<string>, names: readonly string[]): boolean {
  for (const n of names) if (!set.has(n)) return false;
  return true;
}

/** True when some static operand matches one of `res`. */
function anyOperand(res: RegExp[], operands: readonly Word[]): boolean {
  for (const o of operands) if (o.value !== null && anyRe(res, o.value)) return true;
  return false;
}

/**
 * `subcommand`: YES when the leading operands match one sequence of word globs, MAYBE when one
 * could (a dynamic operand where a glob stands), else NO.
 */
function leadingOperands(seqs: RegExp[][], operands: readonly Word[]): Tri {
  let best: Tri = NO;
  for (const seq of seqs) {
    let t: Tri = YES;
    for (let i = 0; i < seq.length && t !== NO; i++) {
      const o = operands[i];
      if (o === undefined) t = NO;
      else if (o.value === null) t = MAYBE;
      else if (!seq[i]!.test(o.value)) t = NO;
    }
    if (t === YES) return YES;
    if (t === MAYBE) best = MAYBE;
  }
  return best;
}

/** True when some value matches one of `res`. */
function anyValue(res: RegExp[], values: readonly string[]): boolean {
  for (const v of values) if (anyRe(res, v)) return true;
  return false;
}

/** True when some value matches none of `res`. */
function anyValueNot(res: RegExp[], values: readonly string[]): boolean {
  for (const v of values) if (!anyRe(res, v)) return true;
  return false;
}

/** True when every path matches one of `globs`. */
function allPaths(globs: PathMatcher, paths: readonly string[], home: string, cwd: string): boolean {
  for (const p of paths) if (!globs.test(p, home, cwd)) return false;
  return true;
}

/** True when some path matches none of `globs`. */
function anyPathNot(globs: PathMatcher, paths: readonly string[], home: string, cwd: string): boolean {
  for (const p of paths) if (!globs.test(p, home, cwd)) return true;
  return false;
}

/** The whole argv (static words joined by a space) is one of `argv`; a dynamic word is no exact match. */
function argvIs(argv: readonly string[], words: readonly Word[]): boolean {
  let s = "";
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) return false;
    s = i === 0 ? v : `${s} ${v}`;
  }
  return argv.includes(s);
}

/**
 * Tri-state AND over the rule's criteria: NO, MAYBE (dynamic input could match), YES. Each
 * criterion either holds (YES), fails (NO: the rule does not match), or fails on a subject with
 * dynamic input (MAYBE: at best MAYBE from then on). Allocates nothing (no closures per call).
 */
/**
 * gate60: `path` (a command's own path) is a build-tool wrapper of the workspace `ws` (programs.ts
 * PROJECT_WRAPPERS: ./gradlew, ./mvnw, bin/rails, bin/rake). It is judged as the tool it wraps, as
 * if run from PATH: no builtin:untrusted-program, and no rule by its path (`workspace-scripts`
 * would allow `bin/rails console`, which `rails console` does not).
 */
export function projectWrapper(path: string, ws: string): boolean {
  if (!PROJECT_WRAPPERS.test(path)) return false;
  const p = canonicalPath(path);
  return PROJECT_WRAPPERS.test(p) && isWithin(p, canonicalPath(ws));
}

export function matchRule(r: CompiledRule, sub: Subject, home: string): Tri {
  let res: Tri = YES;
  const c = sub.cmd;
  const dyn = sub.dynamic;
  const cwd = sub.cwd;
  if (r.program && (sub.program === "" || !anyRe(r.program, sub.program))) return NO;
  if (r.programNot && sub.kind === "shell" && anyRe(r.programNot, sub.program)) return NO;
  if (c) {
    if (r.subcommand) {
      const t = leadingOperands(r.subcommand, c.operands);
      if (t === NO) return NO;
      if (t === MAYBE) res = MAYBE;
    }
    // A weak criterion that fails: NO, or MAYBE when the subject has dynamic input.
    if (r.flags && !hasAny(c.flags, r.flags)) {
      if (!dyn) return NO;
      res = MAYBE;
    }
    if (r.flagsNone && hasAny(c.flags, r.flagsNone)) {
      if (!dyn) return NO;
      res = MAYBE;
    }
    if (r.flagsAll && !hasAll(c.flags, r.flagsAll)) {
      if (!dyn) return NO;
      res = MAYBE;
    }
    if (r.args && !anyOperand(r.args, c.operands)) {
      if (!dyn) return NO;
      res = MAYBE;
    }
    if (r.argv && !argvIs(r.argv, c.words)) return NO;
    if (r.pipedFrom && !anyValue(r.pipedFrom, c.feeders)) return NO;
    if (r.via && !anyValue(r.via, c.via)) return NO;
    // gate65: a mode only known at run time may set the bit: might-match (ESCALATE), not DENY.
    if (r.modeSetid && c.setid !== true) {
      if (c.setid !== "maybe") return NO;
      res = MAYBE;
    }
  } else if (
    r.program ||
    r.subcommand ||
    r.flags ||
    r.flagsAll ||
    r.flagsNone ||
    r.args ||
    r.argv ||
    r.pipedFrom ||
    r.via ||
    r.modeSetid
  )
    return NO;
  // Outside first: a prefix test, cheaper than the path globs it usually makes unnecessary.
  if (r.pathsOutside && !anyPathNot(r.pathsOutside, sub.paths, home, cwd)) {
    if (!dyn) return NO;
    res = MAYBE;
  }
  if (
    r.paths &&
    !(r.pathsExcept
      ? anyPathExcept(r.paths, r.pathsExcept, sub.paths, home, cwd)
      : anyPath(r.paths, sub.paths, home, cwd)) &&
    !(
      c?.globs &&
      anyMeet(r.paths, r.pathsExcept ? globsOutside(c.globs, r.pathsExcept, home, cwd) : c.globs, home, cwd)
    )
  ) {
    if (!dyn) return NO;
    res = MAYBE;
  }
  if (r.pathsWithin) {
    // Dynamic words might name a path outside: not proven, so at best MAYBE.
    if (!allPaths(r.pathsWithin, sub.paths, home, cwd)) return NO;
    if (dyn) res = MAYBE;
  }
  if (r.programPath && !(c?.path && !projectWrapper(c.path, cwd) && r.programPath.test(c.path, home, cwd)))
    return NO;
  // Only a redirect target makes a write, so only a dynamic target leaves a write rule undecided.
  if (
    r.writes &&
    !anyPath(r.writes, sub.writes, home, cwd) &&
    !(c?.globWrites && anyMeet(r.writes, c.globWrites, home, cwd)) &&
    !(c?.trees && r.writes.testUnder(c.trees, home, cwd))
  ) {
    if (!sub.dynamicWrites) return NO;
    res = MAYBE;
  }
  if (r.writesOutside && !anyPathNot(r.writesOutside, sub.writes, home, cwd)) {
    if (!sub.dynamicWrites) return NO;
    res = MAYBE;
  }
  if (r.hosts && !anyValue(r.hosts, sub.hosts)) {
    if (!dyn) return NO;
    res = MAYBE;
  }
  if (r.hostsNot && !anyValueNot(r.hostsNot, sub.hosts)) {
    if (!dyn) return NO;
    res = MAYBE;
  }
  if (r.urls && !anyPath(r.urls, sub.urls, home, cwd)) {
    if (!dyn) return NO;
    res = MAYBE;
  }
  if (r.methods && !(sub.method !== null && r.methods.includes(sub.method))) return NO;
  if (r.schemes && !(sub.scheme !== null && r.schemes.includes(sub.scheme))) return NO;
  if (r.domains && !anyValue(r.domains, sub.domains)) return NO;
  if (r.domainsNot && !anyValueNot(r.domainsNot, sub.domains)) return NO;
  if (r.tool && !(sub.tool !== null && anyRe(r.tool, sub.tool))) return NO;
  if (r.repositories || r.pinned !== null || r.signed !== null || r.purpose) {
    const art = sub.artifact;
    if (!art) return NO;
    if (r.repositories && !anyRe(r.repositories, art.repository)) return NO;
    if (r.pinned !== null && art.pinned !== r.pinned) return NO;
    if (r.signed !== null && art.signed !== r.signed) return NO;
    if (r.purpose && !r.purpose.includes(art.purpose)) return NO;
  }
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

/** Rule fields that do not look at an action's content; any other field set means it does. */
const NAME_FIELDS = new Set([
  "id",
  "description",
  "effect",
  "risk",
  "labels",
  "kinds",
  "tool",
  "sandbox",
  "file",
  "line",
  "programNames",
]);

/** A rule that matches on kind and tool name alone, with no `when`: its verdict holds for every call. */
function namesOnly(r: CompiledRule): boolean {
  for (const [k, v] of Object.entries(r)) {
    if (NAME_FIELDS.has(k)) continue;
    if (v !== null && v !== false) return false;
  }
  return true;
}
