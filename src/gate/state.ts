/**
 * Composition state: what a session (and, across its sessions, a principal) has done so far.
 * Bounded: sessions and principals live in LRU maps; an entry that comes back after eviction is
 * marked `evicted` so a reader knows its history is incomplete.
 */
import { z } from "zod";
import { fixCanonical } from "../protocol/canonical.js";
import type { CodeLanguage } from "./capabilities.js";
import type { CompositionSnapshot, Evaluation } from "./decision.js";
import { canonicalPath } from "./protect.js";

/** Timestamps kept per counter key for windowed counts; a window count saturates here. */
export const WINDOW_SAMPLES = 64;

export interface RecentEntry {
  action_id: string | null;
  kind: string;
  summary: string;
  evaluation: Evaluation;
  at_ms: number;
}

/** Artefacts kept per session or principal. */
export const MAX_ARTEFACTS = 256;

/**
 * Directories kept per session or principal for what a full artefact index forgot (Track.forgotten):
 * past this, the oldest is widened to its parent directory, up to `/`.
 */
export const MAX_FORGOTTEN = 64;
/** Session-made links remembered per track (gate61). */
export const MAX_LINKS = 1024;

/** The step that made a file: what it was, which action, when. */
export interface Artefact {
  summary: string;
  action_id: string | null;
  at_ms: number;
  /** Its bytes came from the network (a download, or a program fed one). */
  net?: boolean;
  /** A directory a program wrote files into from its input (`curl … | git apply`, `tar x`). */
  tree?: boolean;
  /** A code file (by name or `#!` line) a project runner in or below its directory would load. */
  code?: boolean;
  /**
   * gate59: the language the gate read it as (its name, or its `#!` line), when it is code. An
   * interpreter that runs it as another language (`node x.py`, `python3 notes.js`) runs code the
   * gate has not read: `read` holds only for this language.
   */
  lang?: CodeLanguage;
  /**
   * What the gate read in its content when it was written (a file.write's or a write tool's text,
   * an edit's inserted text): the verdict running or loading it gets at least, and why. Absent:
   * the gate did not read it (a program wrote it, or no content came with the write).
   */
  read?: { floor: "ALLOW" | "ESCALATE" | "DENY"; why: string };
  /**
   * A patch or mailbox whose text the gate read: the files it names (relative to the tree it is
   * applied in) and whether it makes a symlink; `git apply`/`git am`/`patch` of it writes those.
   */
  patch?: { files: string[]; link: boolean };
  /**
   * A file named `config` whose whole text the gate read, as a git config: "" when every key is
   * inert (gitConfigCode), else the first key that runs code or points git elsewhere.
   */
  gitConfig?: string;
  /**
   * A code file whose text shows it writes files (capabilities.ts writesFiles): running it writes
   * names the gate cannot know, so the run marks its workspace `blind`.
   */
  writes?: true;
  /**
   * A workspace a program wrote into under names the gate cannot know (a run of session code that
   * writes files, gate57): every file in it may be that program's, so what runs or loads one is judged
   * as a session artefact (read: ESCALATE, naming the run).
   */
  blind?: true;
}

/** A code artefact a project runner must not load unreviewed: its content was not read, or showed a capability. */
export function unbounded(a: Artefact): boolean {
  return a.code === true && a.read?.floor !== "ALLOW";
}

/**
 * An artefact whose loss from a full index changes no decision: code whose whole text the gate read
 * and cleared, and nothing else about it matters (no network bytes, patch, git config that points
 * elsewhere, file writes). Forgotten, it is judged as a workspace file the session did not make,
 * which is what its text earned. Anything else a full index forgets is remembered by its directory.
 */
function cleared(a: Artefact): boolean {
  return (
    a.read?.floor === "ALLOW" &&
    a.net !== true &&
    a.tree !== true &&
    a.patch === undefined &&
    (a.gitConfig === undefined || a.gitConfig === "") &&
    a.writes !== true &&
    a.blind !== true
  );
}

/** Who set a label: the session, the action and the time (issue 19 §8: reasons name it). */
export interface LabelOrigin {
  session_id: string;
  action_id: string | null;
  /** The action's summary (truncated command or structured subject). */
  summary: string;
  at_ms: number;
}

/** A workspace root and its canonical spelling (case, `/private`), as workspace containment compares it. */
export interface WorkspaceRoot {
  readonly path: string;
  readonly canonical: string;
}

/** A directory of the artefact index: the artefacts directly in it (each with its order) and its subdirectories. */
interface ArtefactDir {
  readonly files: Map<string, number>;
  readonly dirs: Set<string>;
}

/** The directory a key lies directly in, ending in `/` (`/a/b/` for `/a/b/c` and for `/a/b/`); "" for a key without one. */
function dirKey(key: string): string {
  return key.slice(0, key.lastIndexOf("/") + 1);
}

/** The directory `dir` (ending in `/`) lies in, or "" for `/` (and for a relative top). */
function parentDir(dir: string): string {
  return dir.length < 2 ? "" : dir.slice(0, dir.lastIndexOf("/", dir.length - 2) + 1);
}

const NO_KEYS: readonly string[] = [];

/** The state of one session or one principal. */
export class Track {
  readonly labels = new Set<string>();
  /** The first step that set each label (kept while the label is). */
  readonly origins = new Map<string, LabelOrigin>();
  /** Totals per `rule:<id>` and `kind:<kind>`. */
  readonly counts = new Map<string, number>();
  /** The last WINDOW_SAMPLES timestamps per key, oldest first. */
  readonly times = new Map<string, number[]>();
  recent: RecentEntry[] = [];
  evicted = false;
  /**
   * Files this session (or principal) wrote, downloaded or made executable, by absolute path: code
   * the gate has not read (issue 19 §3). Bounded (MAX_ARTEFACTS): when full, the oldest the gate
   * read and cleared is forgotten first (nothing is lost), else the oldest, whose directory goes
   * to `forgotten`.
   */
  readonly artefacts = new Map<string, Artefact>();
  /**
   * What a full index forgot, fail closed: directories (canonical, as canonicalPath spells them)
   * in which the session made files the gate no longer remembers one by one. `artefact()` answers
   * for any file in or below one with its entry: a blind workspace (Artefact.blind), code the gate
   * has not read. Bounded (MAX_FORGOTTEN): the oldest widens to its parent, up to `/`.
   */
  readonly forgotten = new Map<string, Artefact>();
  /**
   * The symbolic links the session made (gate61): the link's absolute path → its target, absolute,
   * or null when only known at run time. Paths are resolved through them (paths.ts
   * setSessionLinks). Bounded (MAX_LINKS): the oldest is forgotten first.
   */
  readonly links = new Map<string, string | null>();
  /** More links were made than `links` keeps (link). */
  linksLost = false;
  /** The artefacts `cleared` says may be forgotten without loss, oldest first. */
  private readonly clearedKeys = new Set<string>();
  /** The artefacts whose bytes came from the network (`net`): what a project run is checked against. */
  readonly netArtefacts = new Set<string>();
  /** The code artefacts a project run is checked against (`unbounded`): derived, kept in step by `made`. */
  readonly codeArtefacts = new Set<string>();
  /**
   * Each artefact's key by its canonical spelling (canonicalPath: case and Unicode folded, `/private`
   * taken out): APFS makes `Run.sh` and `run.sh` one file, so a session path has one key.
   */
  private readonly spelled = new Map<string, string>();
  /**
   * The artefacts by directory (issue 18): every prefix of a key that ends in `/`, so the keys
   * below a directory are found without a scan of them all. Kept by made and forget, so a loaded
   * state (trackOf) has it too.
   */
  private readonly dirs = new Map<string, ArtefactDir>();
  /** Bumped by each made: an artefact's place in `artefacts`' order, for `below`. */
  private order = 0;
  private declaredPaths: readonly string[] | null = null;
  private declaredRoots: readonly WorkspaceRoot[] | null = null;

  /**
   * The workspace roots the caller registered for this session (issue 19 §3), each inside a
   * configured root: `$CWD` for its actions is one of these. Null: the configured roots.
   */
  get workspaces(): readonly string[] | null {
    return this.declaredPaths;
  }

  /** The same roots, each with its canonical spelling (computed once, when they are set). */
  get workspaceRoots(): readonly WorkspaceRoot[] | null {
    return this.declaredRoots;
  }

  /** Sets the declared roots (absolute, normalised), or null; their canonical forms are computed here. */
  setWorkspaces(paths: readonly string[] | null): void {
    this.declaredPaths = paths === null ? null : [...paths];
    this.declaredRoots =
      paths === null ? null : paths.map((path) => ({ path, canonical: canonicalPath(path) }));
  }

  /** Adds `label`, remembering `by` if it is new; true when the label was new. */
  label(label: string, by: LabelOrigin): boolean {
    if (this.labels.has(label)) return false;
    this.labels.add(label);
    this.origins.set(label, by);
    return true;
  }

  /**
   * The artefact at `path`, under any spelling of it that names the same file (case, Unicode form);
   * for a file the index no longer holds one by one, the `forgotten` directory it lies in.
   */
  artefact(path: string): Artefact | undefined {
    const a = this.artefacts.get(path);
    if (a !== undefined || (this.artefacts.size === 0 && this.forgotten.size === 0)) return a;
    const key = this.spelled.get(canonicalPath(path));
    if (key !== undefined) return this.artefacts.get(key);
    return this.forgotten.size === 0 ? undefined : this.forgottenAt(canonicalPath(path))?.[1];
  }

  /** The `forgotten` directory (canonical) that holds `canonical` or is it, with its entry; undefined when none. */
  forgottenAt(canonical: string): [string, Artefact] | undefined {
    for (let d = canonical; ; ) {
      const a = this.forgotten.get(d === "" ? "/" : d);
      if (a !== undefined) return [d === "" ? "/" : d, a];
      if (d === "" || d === "/") return undefined;
      const i = d.lastIndexOf("/");
      d = i <= 0 ? "" : d.slice(0, i);
    }
  }

  /** Remembers that `path` was made by `by` (the step's summary); another spelling of it is replaced. */
  made(path: string, by: Artefact): void {
    const canonical = canonicalPath(path);
    const old = this.spelled.get(canonical);
    if (old !== undefined && old !== path) this.forget(old);
    this.spelled.set(canonical, path);
    this.artefacts.delete(path);
    this.artefacts.set(path, by);
    const d = dirKey(path);
    if (d !== "") this.dir(d).files.set(path, ++this.order);
    if (by.net) this.netArtefacts.add(path);
    else this.netArtefacts.delete(path);
    if (unbounded(by)) this.codeArtefacts.add(path);
    else this.codeArtefacts.delete(path);
    this.clearedKeys.delete(path);
    if (cleared(by)) this.clearedKeys.add(path);
    if (this.artefacts.size > MAX_ARTEFACTS) this.evict();
  }

  /**
   * `ln -s TARGET NAME` ran: NAME leads to TARGET (null: unknown), newest last. Past MAX_LINKS the
   * oldest is forgotten and `linksLost` set: from then on any segment followed by `..` may be one
   * of the forgotten links (fail closed, paths.ts).
   */
  link(name: string, target: string | null): void {
    this.links.delete(name);
    this.links.set(name, target);
    if (this.links.size > MAX_LINKS) {
      this.links.delete(this.links.keys().next().value!);
      this.linksLost = true;
    }
  }

  /**
   * Makes room: forgets the oldest artefact whose loss changes nothing, else the oldest, and then
   * remembers its directory (fail closed: a flood of files never makes a payload written before it
   * a workspace file again).
   */
  private evict(): void {
    const free = this.clearedKeys.values().next();
    if (free.done !== true) {
      this.forget(free.value);
      return;
    }
    const key = this.artefacts.keys().next().value as string;
    const a = this.artefacts.get(key)!;
    this.forget(key);
    const c = canonicalPath(key);
    this.forgetIn(c.slice(0, Math.max(c.lastIndexOf("/"), 0)) || "/", a);
  }

  /** Adds `dir` (canonical) to `forgotten`, for `a` (the first artefact forgotten in it); widens the oldest past the bound. */
  forgetIn(dir: string, a: Artefact): void {
    if (this.forgottenAt(dir) !== undefined) return;
    // What it covers leaves the map (one entry per covered tree).
    for (const d of this.forgotten.keys())
      if (d.startsWith(dir === "/" ? "/" : `${dir}/`)) this.forgotten.delete(d);
    this.forgotten.set(dir, {
      summary: a.summary,
      action_id: a.action_id,
      at_ms: a.at_ms,
      code: true,
      blind: true,
      read: {
        floor: "ESCALATE",
        why: `the session made more files than the gate keeps (${MAX_ARTEFACTS}), and it no longer knows which of those in '${dir}' it made: any file there may be one`,
      },
    });
    if (this.forgotten.size > MAX_FORGOTTEN) {
      const [oldest, o] = this.forgotten.entries().next().value as [string, Artefact];
      this.forgotten.delete(oldest);
      this.forgetIn(oldest.slice(0, Math.max(oldest.lastIndexOf("/"), 0)) || "/", o);
    }
  }

  private forget(key: string): void {
    this.clearedKeys.delete(key);
    this.artefacts.delete(key);
    this.netArtefacts.delete(key);
    this.codeArtefacts.delete(key);
    this.spelled.delete(canonicalPath(key));
    let d = dirKey(key);
    let n = this.dirs.get(d);
    n?.files.delete(key);
    // An empty directory leaves the index, and its parent with it when that is left empty.
    while (n !== undefined && n.files.size === 0 && n.dirs.size === 0) {
      this.dirs.delete(d);
      const up = parentDir(d);
      n = this.dirs.get(up);
      n?.dirs.delete(d);
      d = up;
    }
  }

  /** The index's entry for `dir` (ending in `/`), made (with its parents') when absent. */
  private dir(dir: string): ArtefactDir {
    let n = this.dirs.get(dir);
    if (n !== undefined) return n;
    n = { files: new Map(), dirs: new Set() };
    this.dirs.set(dir, n);
    const up = parentDir(dir);
    if (up !== "") this.dir(up).dirs.add(dir);
    return n;
  }

  /**
   * The artefacts' keys that start with `head` (a directory, ending in `/`), in `artefacts`' order:
   * what a scan of every key for `k.startsWith(head)` finds, from the directory index.
   */
  below(head: string): readonly string[] {
    const top = this.dirs.get(head);
    if (top === undefined) return NO_KEYS;
    const found: [number, string][] = [];
    const todo = [top];
    for (let n = todo.pop(); n !== undefined; n = todo.pop()) {
      for (const [k, at] of n.files) found.push([at, k]);
      for (const sub of n.dirs) todo.push(this.dirs.get(sub)!);
    }
    if (found.length > 1) found.sort((a, b) => a[0] - b[0]);
    return found.map((f) => f[1]);
  }

  /** Matches of `key` at or after `sinceMs` (null: all time), before the current action. */
  count(key: string, sinceMs: number | null): number {
    if (sinceMs === null) return this.counts.get(key) ?? 0;
    const t = this.times.get(key);
    if (!t) return 0;
    let n = 0;
    for (let i = t.length - 1; i >= 0 && t[i]! >= sinceMs; i--) n++;
    return n;
  }

  bump(key: string, atMs: number): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    let t = this.times.get(key);
    if (!t) {
      t = [];
      this.times.set(key, t);
    }
    t.push(atMs);
    if (t.length > WINDOW_SAMPLES) t.shift();
  }

  remember(entry: RecentEntry, keep: number): void {
    this.recent.push(entry);
    if (this.recent.length > keep) this.recent.shift();
  }
}

/** An LRU map of Tracks with a bound, remembering (boundedly) which keys it evicted. */
export class TrackTable {
  private readonly map = new Map<string, Track>();
  private readonly gone = new Map<string, true>();
  evictions = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.map.size;
  }

  /** Entries in LRU order, least recently used first. */
  entries(): [string, Track][] {
    return [...this.map];
  }

  /** How many tracks may hold a declared workspace: half the bound, so eviction always finds another. */
  get maxDeclared(): number {
    return Math.floor(this.max / 2);
  }

  /** How many tracks hold a declared workspace. */
  declared(): number {
    let n = 0;
    for (const t of this.map.values()) if (t.workspaces) n++;
    return n;
  }

  /**
   * Replaces the contents with `entries` (LRU order), keeping only the newest `max`, and every
   * one that holds a declared workspace (up to maxDeclared) whatever its age.
   */
  replace(entries: [string, Track][]): void {
    this.map.clear();
    this.gone.clear();
    const pinned = entries.filter(([, t]) => t.workspaces).slice(-this.maxDeclared);
    const rest = entries.filter(([, t]) => !t.workspaces).slice(-(this.max - pinned.length));
    const keep = new Set([...pinned, ...rest]);
    for (const [k, t] of entries.filter((e) => keep.has(e))) {
      this.map.delete(k);
      this.map.set(k, t);
    }
  }

  /** Forgets `key` (not counted as an eviction); true when it was there. */
  delete(key: string): boolean {
    return this.map.delete(key);
  }

  /** The Track for `key` without creating or touching it. */
  peek(key: string): Track | undefined {
    return this.map.get(key);
  }

  /** The Track for `key`, created if absent, and marked most recently used. */
  get(key: string): Track {
    let t = this.map.get(key);
    if (t) {
      this.map.delete(key);
      this.map.set(key, t);
      return t;
    }
    t = new Track();
    if (this.gone.delete(key)) t.evicted = true;
    this.map.set(key, t);
    while (this.map.size > this.max) {
      const [oldest, ot] = this.map.entries().next().value as [string, Track];
      this.map.delete(oldest);
      if (ot.workspaces) {
        // A declared workspace is never forgotten: the session coming back empty would be judged
        // against every configured root again (wider). Moved to the newest end; the gate bounds
        // how many are declared (maxDeclared), so the loop always reaches an evictable track.
        this.map.set(oldest, ot);
        continue;
      }
      this.evictions++;
      this.gone.set(oldest, true);
      if (this.gone.size > this.max * 4) this.gone.delete(this.gone.keys().next().value as string);
    }
    return t;
  }
}

const ArtefactDump = z.object({
  summary: z.string(),
  action_id: z.string().nullable(),
  at_ms: z.number(),
  net: z.boolean().optional(),
  tree: z.boolean().optional(),
  code: z.boolean().optional(),
  lang: z
    .enum([
      "python",
      "js",
      "go",
      "rust",
      "ruby",
      "shell",
      "package.json",
      "make",
      "dockerfile",
      "jinja",
      "unknown",
    ])
    .optional(),
  read: z.object({ floor: z.enum(["ALLOW", "ESCALATE", "DENY"]), why: z.string() }).optional(),
  patch: z.object({ files: z.array(z.string()).max(256), link: z.boolean() }).optional(),
  gitConfig: z.string().optional(),
  writes: z.literal(true).optional(),
  blind: z.literal(true).optional(),
});

const TrackDump = z.object({
  key: z.string().min(1),
  labels: z.array(z.string()),
  counts: z.record(z.string(), z.number().int().nonnegative()),
  times: z.record(z.string(), z.array(z.number()).max(WINDOW_SAMPLES)),
  recent: z.array(
    z.object({
      action_id: z.string().nullable(),
      kind: z.string(),
      summary: z.string(),
      evaluation: z.enum(["ALLOW", "ESCALATE", "DENY"]),
      at_ms: z.number(),
    }),
  ),
  evicted: z.boolean(),
  principal: z.string().nullable().optional(),
  artefacts: z.record(z.string(), ArtefactDump).optional(),
  forgotten: z.record(z.string(), ArtefactDump).optional(),
  links: z.record(z.string().startsWith("/"), z.string().startsWith("/").nullable()).optional(),
  links_lost: z.literal(true).optional(),
  origins: z
    .record(
      z.string(),
      z.object({
        session_id: z.string(),
        action_id: z.string().nullable(),
        summary: z.string(),
        at_ms: z.number(),
      }),
    )
    .optional(),
  workspaces: z.array(z.string().startsWith("/")).min(1).max(64).optional(),
});
export type TrackDump = z.infer<typeof TrackDump>;

/** JSON-able dump of the gate's composition state; tracks in LRU order, oldest first. */
export const GateState = z.object({
  version: z.literal(1),
  sessions: z.array(TrackDump),
  principals: z.array(TrackDump),
});
export type GateState = z.infer<typeof GateState>;

export function dumpTrack(key: string, t: Track): TrackDump {
  return {
    key,
    labels: [...t.labels],
    counts: Object.fromEntries(t.counts),
    times: Object.fromEntries([...t.times].map(([k, v]) => [k, v.slice()])),
    // Frozen entries (fixCanonical: the gate's, and the loaded ones): shared, not copied, so a save
    // writes each from the canonical text it was given once.
    recent: t.recent.slice(),
    evicted: t.evicted,
    ...(t.artefacts.size > 0
      ? { artefacts: Object.fromEntries([...t.artefacts].map(([k, a]) => [k, { ...a }])) }
      : {}),
    ...(t.forgotten.size > 0
      ? { forgotten: Object.fromEntries([...t.forgotten].map(([k, a]) => [k, { ...a }])) }
      : {}),
    ...(t.links.size > 0 ? { links: Object.fromEntries(t.links) } : {}),
    ...(t.linksLost ? { links_lost: true as const } : {}),
    ...(t.origins.size > 0
      ? { origins: Object.fromEntries([...t.origins].map(([k, o]) => [k, { ...o }])) }
      : {}),
    ...(t.workspaces ? { workspaces: [...t.workspaces] } : {}),
  };
}

export function trackOf(d: TrackDump, keep: number): Track {
  const t = new Track();
  for (const l of d.labels) {
    t.labels.add(l);
    const o = d.origins?.[l];
    if (o) t.origins.set(l, { ...o });
  }
  for (const [k, v] of Object.entries(d.counts)) t.counts.set(k, v);
  for (const [k, v] of Object.entries(d.times)) t.times.set(k, v.slice());
  t.recent = d.recent.slice(-keep).map((r) => fixCanonical(r));
  t.evicted = d.evicted;
  for (const [k, a] of Object.entries(d.artefacts ?? {})) t.made(k, { ...a });
  for (const [k, a] of Object.entries(d.forgotten ?? {})) t.forgetIn(k, { ...a });
  for (const [k, v] of Object.entries(d.links ?? {})) t.link(k, v);
  if (d.links_lost) t.linksLost = true;
  if (d.workspaces) t.setWorkspaces(d.workspaces);
  return t;
}

export function snapshotOf(
  sessionId: string,
  principal: string | null,
  s: Track | undefined,
  p: Track | undefined,
): CompositionSnapshot {
  const counts: Record<string, number> = {};
  if (s) for (const [k, v] of s.counts) counts[k] = v;
  return {
    session_id: sessionId,
    principal,
    labels: s ? [...s.labels].sort() : [],
    principal_labels: p ? [...p.labels].sort() : [],
    counts,
    recent: s ? s.recent.slice() : [],
    evicted: s?.evicted === true || p?.evicted === true,
  };
}
