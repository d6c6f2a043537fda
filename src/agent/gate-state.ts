/**
 * The gate's composition state on disk (issue 19 §8): what sessions and principals have done
 * (labels such as `secret-read`, counts, artefacts) survives a restart, so an upload after a
 * secret read is judged the same after a crash as before it.
 *
 * - Saved atomically (src/platform/private-files.ts): a 0600 temp file in the same directory,
 *   written, fsynced, renamed over the old one.
 * - When: at once when a label or artefact is new (what a restart must not forget), in the
 *   background (the fsync off the event loop), and the decision that made the change is answered
 *   only once that save finished (`durable()`); otherwise coalesced (one save per `coalesceMs`);
 *   and at shutdown.
 * - At start: a file that does not parse or validate is refused, moved aside, an alert is
 *   recorded, and the gate starts empty and says so. Forgetting is possible; inventing an ALLOW
 *   is not (an empty state has no labels and no counts that a rule could rely on to allow).
 */
import { readFileSync, renameSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Gate, GateState } from "../gate/index.js";
import { writePrivateFileAtomic, writePrivateFileAtomicAsync } from "../platform/private-files.js";
import { canonicalJson } from "../protocol/canonical.js";

/** The largest state file loaded (bigger: refused, like a corrupt one). */
export const MAX_STATE_BYTES = 64 * 1024 * 1024;

export type LoadResult =
  | { status: "absent" }
  | { status: "loaded"; sessions: number; principals: number }
  | { status: "refused"; reason: string; movedTo: string | null };

export class GateStatePersister {
  private timer: NodeJS.Timeout | null = null;
  private dirty = false;
  /** Changes counted; `urgent` is the count at the last urgent one, `saved` what a finished save covers. */
  private changes = 0;
  private urgent = 0;
  private saved = 0;
  /** The background save running, and whether a change came in since its snapshot. */
  private saving: Promise<void> | null = null;
  private again = false;
  private waiting: { want: number; resolve: () => void }[] = [];
  private closed = false;
  /** Changes before `load` are not saved: they would overwrite the file before it is read. */
  private ready = false;
  /** What `load` found (for health). */
  loaded: LoadResult | null = null;
  /** The last save failure (null after a success), for health and logs. */
  lastError: string | null = null;
  saves = 0;

  constructor(
    private readonly gate: () => Gate,
    readonly path: string,
    private readonly o: { coalesceMs: number; onError: (message: string) => void },
  ) {}

  /** Loads the file into the gate. Never throws: a bad file is refused and moved aside. */
  load(): LoadResult {
    this.ready = true;
    this.loaded = this.read();
    return this.loaded;
  }

  private read(): LoadResult {
    let text: string;
    try {
      const st = statSync(this.path);
      if (!st.isFile()) return this.refuse("not a regular file");
      if (st.size > MAX_STATE_BYTES) return this.refuse(`${st.size} bytes is over ${MAX_STATE_BYTES}`);
      text = readFileSync(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { status: "absent" };
      return this.refuse(`unreadable: ${(err as Error).message}`);
    }
    let dump: unknown;
    try {
      dump = JSON.parse(text);
    } catch (err) {
      return this.refuse(`not JSON: ${(err as Error).message}`);
    }
    try {
      this.gate().importState(dump);
    } catch (err) {
      return this.refuse((err as Error).message);
    }
    const s = this.gate().stats();
    return { status: "loaded", sessions: s.sessions, principals: s.principals };
  }

  private refuse(reason: string): LoadResult {
    // Kept for a human to look at, out of the way of the next save.
    const aside = join(dirname(this.path), `${basename(this.path)}.refused-${Date.now()}`);
    try {
      renameSync(this.path, aside);
      return { status: "refused", reason, movedTo: aside };
    } catch {
      return { status: "refused", reason, movedTo: null };
    }
  }

  /** The gate's change hook: urgent changes are saved now, the rest within `coalesceMs`. */
  changed(urgent: boolean): void {
    if (this.closed || !this.ready) return;
    this.dirty = true;
    this.changes++;
    if (urgent) {
      this.urgent = this.changes;
      this.save();
      return;
    }
    if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.save();
      }, this.o.coalesceMs);
      this.timer.unref();
    }
  }

  /**
   * Settles once every urgent change made before the call is on disk: a save that began after it
   * finished (written, fsynced, renamed, directory fsynced). What answers a decision awaits this,
   * so the fsync runs beside the decision's own evidence commit instead of blocking the event loop
   * before it, and the verdict still leaves only once its new label would survive a kill -9. A
   * failed save settles it too, as the synchronous save never failed a decision: the failure is
   * alerted (onError) and the state stays dirty, so the next change or the close retries it.
   */
  durable(): Promise<void> {
    const want = this.urgent;
    if (this.saved >= want) return SETTLED;
    return new Promise((resolve) => this.waiting.push({ want, resolve }));
  }

  /**
   * Starts a background save of the state as it is now, unless one is running: then it runs again
   * when that one ends (its snapshot may predate the change).
   */
  private save(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.saving !== null) {
      this.again = true;
      return;
    }
    if (!this.dirty) return;
    this.dirty = false;
    const covers = this.changes;
    let text: string;
    try {
      text = stateText(this.gate().exportState());
    } catch (err) {
      this.failed(err);
      this.settle(covers);
      return;
    }
    this.saving = writePrivateFileAtomicAsync(this.path, text).then(
      () => {
        this.saves++;
        this.lastError = null;
      },
      (err) => this.failed(err),
    );
    void this.saving.then(() => {
      this.saving = null;
      this.settle(covers);
      if (this.again && !this.closed) {
        this.again = false;
        this.save();
      }
    });
  }

  private failed(err: unknown): void {
    this.dirty = true;
    const message = `could not save the gate state to ${this.path}: ${(err as Error).message}`;
    if (this.lastError !== message) this.o.onError(message);
    this.lastError = message;
  }

  /** A save that began after change `covers` ended: wake who waited for it. */
  private settle(covers: number): void {
    this.saved = Math.max(this.saved, covers);
    if (this.waiting.length === 0) return;
    const still: typeof this.waiting = [];
    for (const w of this.waiting) {
      if (w.want <= this.saved) w.resolve();
      else still.push(w);
    }
    this.waiting = still;
  }

  /** Final save (after the one running, if any); later changes are ignored. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.saving !== null) await this.saving.then(() => undefined);
    this.again = false;
    if (this.dirty) {
      this.dirty = false;
      try {
        writePrivateFileAtomic(this.path, stateText(this.gate().exportState()));
        this.saves++;
        this.lastError = null;
      } catch (err) {
        this.failed(err);
      }
    }
    this.settle(this.changes);
  }
}

const SETTLED = Promise.resolve();

/**
 * The state file's text, which a save writes on the event loop (once a second while decisions come):
 * canonical JSON, so each recent-action entry (the gate's, up to 16 a session: most of the bytes) is
 * the text the gate wrote once when it made it (fixCanonical), not written again at every save.
 * JSON.stringify if canonicalJson refuses a value (a non-finite number), as every save did before.
 * The same JSON to JSON.parse: only the order of the keys differs.
 */
export function stateText(state: GateState): string {
  try {
    return canonicalJson(state);
  } catch {
    return JSON.stringify(state);
  }
}

/** Most tracks `state show` lists without a filter (the most recently used). */
export const SHOW_LIMIT = 200;

export interface TrackView {
  key: string;
  principal?: string | null;
  labels: {
    label: string;
    set_by: { session_id: string; action_id: string | null; at: string; summary: string } | null;
  }[];
  artefacts: string[];
  /** The session's declared workspace roots (POST /v1/sessions/:id/workspace); absent: the configured roots. */
  workspaces?: string[];
  actions: number;
  evicted: boolean;
}

/** What `forge-agent state show` prints: labels with who set them, artefacts; newest first. */
export function stateView(gate: Gate, q: { session?: string; principal?: string }) {
  const dump = gate.exportState();
  const view = (d: (typeof dump.sessions)[number]): TrackView => ({
    key: d.key,
    ...(d.principal !== undefined ? { principal: d.principal } : {}),
    labels: d.labels.map((label) => {
      const o = d.origins?.[label];
      return {
        label,
        set_by: o
          ? {
              session_id: o.session_id,
              action_id: o.action_id,
              at: new Date(o.at_ms).toISOString(),
              summary: o.summary,
            }
          : null,
      };
    }),
    artefacts: Object.keys(d.artefacts ?? {}),
    ...("workspaces" in d && d.workspaces ? { workspaces: [...d.workspaces] } : {}),
    actions: Object.entries(d.counts)
      .filter(([k]) => k.startsWith("kind:"))
      .reduce((n, [, v]) => n + v, 0),
    evicted: d.evicted,
  });
  const filtered = q.session !== undefined || q.principal !== undefined;
  const sessions = dump.sessions
    .filter(
      (d) =>
        (q.session === undefined || d.key === q.session) &&
        (q.principal === undefined || d.principal === q.principal),
    )
    .reverse();
  const principals = dump.principals
    .filter((d) => q.principal === undefined || d.key === q.principal)
    .reverse();
  const cut = <T>(a: T[]) => (filtered ? a : a.slice(0, SHOW_LIMIT));
  return {
    sessions: cut(sessions).map(view),
    principals: cut(principals).map(view),
    total: { sessions: sessions.length, principals: principals.length },
  };
}

export type StateView = ReturnType<typeof stateView>;
