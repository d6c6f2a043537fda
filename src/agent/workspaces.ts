/**
 * Per-session workspaces (issue 19 §3): the caller, not the model, says which directories a
 * session works in, and the gate judges that session's actions against them
 * (`Gate.setSessionWorkspaces`). Who may declare, and when (docs/agent.md "Session workspaces"):
 * - a proposer over the socket, never a process below an executed action (api.ts);
 * - once per session, before the session's first action: a declaration is a narrowing of the
 *   configured roots, and a later one is refused (FORGE_CONFLICT), so nobody on the session's
 *   side can widen it again.
 * Each root is resolved (symlinks followed) and must lie inside a configured root, also
 * resolved: otherwise FORGE_WORKSPACE_OUTSIDE naming the root. The declaration is a `policy`
 * record in the session (the authority its actions are judged with), and it is saved with the
 * gate state before the answer.
 */
import { randomUUID } from "node:crypto";
import { realpathSync, statSync } from "node:fs";
import { Codes, ForgeError } from "../errors.js";
import type { EvidenceStore } from "../evidence/index.js";
import type { Gate } from "../gate/index.js";
import { isWithin } from "../gate/paths.js";
import { HttpError } from "../http.js";
import { nowRfc3339 } from "../protocol/record.js";
import type { ActionService, Principal } from "./actions.js";

export interface WorkspaceDeps {
  gate: () => Gate;
  service: () => ActionService;
  store: EvidenceStore;
  /** executors.workspaces (absolute), in the spelling the gate was given. */
  configured: readonly string[];
  /** Resolves once the gate state with the declaration is on disk. */
  durable: () => Promise<void>;
}

export interface WorkspaceDeclared {
  session_id: string;
  roots: string[];
  record: { seq: number; hash: string };
}

export class SessionWorkspaces {
  /**
   * Sessions whose declaration is being recorded, each with a promise that settles (never
   * rejects) when it is done, either way. Set before the first await: a second declaration
   * meanwhile is refused, and the session's actions wait for it (ActionService `declaring`).
   */
  private readonly inflight = new Map<string, Promise<void>>();

  constructor(private readonly o: WorkspaceDeps) {}

  async declare(session_id: string, roots: readonly string[], who: Principal): Promise<WorkspaceDeclared> {
    const gate = this.o.gate();
    const mapped = roots.map((r) => this.inside(r));
    const earlier = gate.sessionWorkspaces(session_id);
    if (earlier !== null || this.inflight.has(session_id))
      throw new HttpError(
        Codes.CONFLICT,
        `session ${session_id} already has its workspace (${earlier?.join(", ") ?? "being declared"}): a workspace is declared once; use a new session id for other roots`,
      );
    const { records, pending } = this.o.service().session(session_id);
    if (
      gate.principalOfSession(session_id) !== null ||
      pending.length > 0 ||
      records.some((r) => r.kind === "action")
    )
      throw new HttpError(
        Codes.CONFLICT,
        `session ${session_id} has already proposed actions: its workspace is declared before its first action; use a new session id`,
      );
    let settle!: () => void;
    this.inflight.set(
      session_id,
      new Promise<void>((r) => {
        settle = r;
      }),
    );
    try {
      const bundle = gate.bundle;
      // The record first: no workspace is in force that the evidence does not show.
      const stored = await this.o.store.append({
        kind: "policy",
        session_id,
        action_id: randomUUID(),
        timestamp: nowRfc3339(),
        prompt_hash: null,
        proposed_action: { kind: "session.workspace", session_id, roots: mapped, requested: [...roots] },
        evaluation: null,
        policy_matched: {
          bundle: { id: bundle.id, version: bundle.version, sha256: bundle.sha256 },
          rules: [],
        },
        composition_state: null,
        execution_result: { status: "ok", roots: mapped },
        principal_review: null,
        latency_ms: 0,
        principal: who.record,
      });
      gate.setSessionWorkspaces(session_id, mapped);
      await this.o.durable();
      return { session_id, roots: mapped, record: { seq: stored.seq, hash: stored.hash } };
    } finally {
      this.inflight.delete(session_id);
      settle();
    }
  }

  /**
   * The declaration of `session_id` being recorded, settling when it is done (either way), or
   * undefined. An action of that session waits for it, then is judged against the declared roots,
   * or DENY if none were registered (never against the wider configured roots).
   */
  settling(session_id: string): Promise<void> | undefined {
    return this.inflight.get(session_id);
  }

  /**
   * `root` resolved (symlinks followed), spelled from the configured root it lies in (the gate
   * compares lexically, in the configured spelling); else WORKSPACE_OUTSIDE naming it.
   */
  private inside(root: string): string {
    let real: string;
    try {
      real = realpathSync(root);
      if (!statSync(real).isDirectory()) throw new Error("not a directory");
    } catch (err) {
      throw new ForgeError(
        Codes.WORKSPACE_OUTSIDE,
        `workspace root '${root}' is not an existing directory (${(err as Error).message}): a declared root must be one, inside ${this.o.configured.join(", ")}`,
      );
    }
    let best: { conf: string; real: string } | null = null;
    for (const conf of this.o.configured) {
      let rc: string;
      try {
        rc = realpathSync(conf);
      } catch {
        continue;
      }
      if (isWithin(real, rc) && (best === null || rc.length > best.real.length)) best = { conf, real: rc };
    }
    if (best === null)
      throw new ForgeError(
        Codes.WORKSPACE_OUTSIDE,
        `workspace root '${root}'${real === root ? "" : ` (${real})`} lies outside the configured workspaces (${this.o.configured.join(", ")})`,
      );
    const rest = best.real === "/" ? real : real.slice(best.real.length);
    return rest === ""
      ? best.conf
      : `${best.conf.replace(/\/+$/, "")}${rest.startsWith("/") ? rest : `/${rest}`}`;
  }
}
