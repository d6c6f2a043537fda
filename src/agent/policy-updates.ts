/**
 * Policy updates from the collector: `policy {bundle, signature, key_id}` is verified against the
 * pinned public key (config `policy_updates.public_key`), refused when unsigned, badly signed,
 * older than the active bundle or not compiling, then applied atomically: persisted first
 * (<home>/policy/active.json, so a restart keeps the version and rollbacks stay refused), then
 * swapped into the gate, then recorded as a `policy` record with the bundle's sha256. A rejection
 * keeps the old policy and writes an `alert` record.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BundleRef } from "../gate/decision.js";
import { loadPolicy, type PolicyBundle } from "../gate/index.js";
import { makePrivateDir, tightenPrivateFile, writePrivateFileAtomic } from "../platform/private-files.js";
import { type Bundle, BundleRejectedError, verifySignedBundle } from "../protocol/policy-bundle.js";
import type { RecordInput } from "../protocol/record.js";
import { nowRfc3339 } from "../protocol/record.js";

export interface ActivePolicy {
  id: string;
  version: number;
  sha256: string;
  /** "file": the configured policy path; "bundle": a signed bundle from the collector. */
  source: "file" | "bundle";
}

export type PolicyResult =
  | { ok: true; id: string; version: number; sha256: string; unchanged: boolean }
  | { ok: false; reason: string; message: string; version: number | null };

export interface PolicyUpdatesOptions {
  hostId: string;
  /** SPKI PEM of the pinned signing key; null: every bundle is refused (no key to verify with). */
  publicKeyPem: string | null;
  /** Directory for active.json and scratch compiles (<home>/policy). */
  stateDir: string;
  gate: { setPolicy(b: PolicyBundle): void; readonly bundle: BundleRef };
  append: (rec: RecordInput) => Promise<unknown>;
  logger: { info(o: object, m?: string): void; error(o: object, m?: string): void };
}

const ACTIVE = "active.json";
/**
 * The highest bundle version ever accepted on this host, written (and fsynced) before active.json.
 * An older validly-signed active.json, or a missing one, is a rollback: refused at start.
 */
const HIGH_WATER = "high-water.json";

/** Reads the high-water mark; null when this host never accepted a bundle. */
function readHighWater(dir: string): { version: number; sha256: string } | null {
  try {
    const j = JSON.parse(readFileSync(join(dir, HIGH_WATER), "utf8")) as {
      version?: unknown;
      sha256?: unknown;
    };
    if (typeof j.version !== "number" || typeof j.sha256 !== "string") throw new Error("malformed");
    return { version: j.version, sha256: j.sha256 };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new BundleRejectedError(
      "rollback",
      `${join(dir, HIGH_WATER)} is unreadable (${(err as Error).message}): the policy version cannot be checked; restore it from the collector's records`,
    );
  }
}

export class PolicyUpdates {
  private source: "file" | "bundle" = "file";
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: PolicyUpdatesOptions) {
    makePrivateDir(o.stateDir);
    tightenPrivateFile(join(o.stateDir, ACTIVE));
  }

  /** The policy the gate runs now. */
  active(): ActivePolicy {
    const b = this.o.gate.bundle;
    return { id: b.id, version: b.version, sha256: b.sha256, source: this.source };
  }

  /**
   * At start: re-applies the last accepted bundle (active.json), verified again. Returns its
   * version, or null when there is none. A stored bundle that no longer verifies is an error:
   * the agent must not silently fall back to an older policy.
   */
  restore(): number | null {
    const high = readHighWater(this.o.stateDir);
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(join(this.o.stateDir, ACTIVE), "utf8"));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        if (high === null) return null;
        throw new BundleRejectedError(
          "rollback",
          `${join(this.o.stateDir, ACTIVE)} is missing but this host accepted bundle version ${high.version}: refusing to fall back to the policy file; restore active.json (the collector re-sends the bundle on connect) or remove ${HIGH_WATER} deliberately`,
        );
      }
      throw err;
    }
    if (this.o.publicKeyPem === null) {
      throw new BundleRejectedError(
        "unknown-key",
        `${join(this.o.stateDir, ACTIVE)} holds a bundle but no policy_updates.public_key is configured to verify it`,
      );
    }
    let compiled: PolicyBundle | undefined;
    const v = verifySignedBundle(doc, this.o.publicKeyPem, {
      compile: (b) => {
        compiled = this.compile(b);
      },
    });
    if (
      high !== null &&
      (v.bundle.version < high.version || (v.bundle.version === high.version && v.sha256 !== high.sha256))
    ) {
      throw new BundleRejectedError(
        "rollback",
        `${join(this.o.stateDir, ACTIVE)} holds bundle version ${v.bundle.version}, but this host already accepted version ${high.version}: an older bundle is a rollback`,
      );
    }
    this.o.gate.setPolicy(withRef(compiled!, v.bundle, v.sha256));
    this.source = "bundle";
    return v.bundle.version;
  }

  /** Handles one `policy` message; calls are applied one at a time, in arrival order. */
  receive(msg: unknown): Promise<PolicyResult> {
    const p = this.chain.then(() => this.apply(msg));
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async apply(msg: unknown): Promise<PolicyResult> {
    const { type: _t, ...signed } = (msg ?? {}) as Record<string, unknown>;
    const offered = (signed.bundle as { version?: unknown } | undefined)?.version;
    const offeredVersion = typeof offered === "number" ? offered : null;
    const cur = this.active();
    let compiled: PolicyBundle | undefined;
    let v: ReturnType<typeof verifySignedBundle>;
    try {
      if (this.o.publicKeyPem === null) {
        throw new BundleRejectedError(
          "unknown-key",
          "no policy_updates.public_key is configured on this agent",
        );
      }
      v = verifySignedBundle(signed, this.o.publicKeyPem, {
        currentVersion: cur.version > 0 ? cur.version : undefined,
        currentSha256: this.source === "bundle" ? cur.sha256 : undefined,
        compile: (b) => {
          compiled = this.compile(b);
        },
      });
    } catch (err) {
      return this.reject(err, offeredVersion);
    }
    if (v.unchanged)
      return { ok: true, id: v.bundle.id, version: v.bundle.version, sha256: v.sha256, unchanged: true };
    try {
      // Durable first: once the gate judges with it, a restart must come back to it. The
      // high-water mark goes first, so a crash between the two can only refuse, never roll back.
      const high = readHighWater(this.o.stateDir);
      if (high === null || v.bundle.version >= high.version) {
        writePrivateFileAtomic(
          join(this.o.stateDir, HIGH_WATER),
          JSON.stringify({ version: v.bundle.version, sha256: v.sha256, at: nowRfc3339() }),
        );
      }
      writePrivateFileAtomic(join(this.o.stateDir, ACTIVE), JSON.stringify(signed));
    } catch (err) {
      return this.reject(err, offeredVersion);
    }
    this.o.gate.setPolicy(withRef(compiled!, v.bundle, v.sha256));
    this.source = "bundle";
    const ref = { id: v.bundle.id, version: v.bundle.version, sha256: v.sha256 };
    this.o.logger.info({ policy: ref, previous: cur }, "applied a signed policy bundle from the collector");
    await this.o
      .append(
        this.record(
          "policy",
          { kind: "policy.apply", bundle: ref, previous: cur, files: Object.keys(v.bundle.files) },
          ref,
          null,
        ),
      )
      .catch((err) => this.o.logger.error({ err: String(err) }, "could not record the policy change"));
    return { ok: true, ...ref, unchanged: false };
  }

  private async reject(err: unknown, version: number | null): Promise<PolicyResult> {
    const reason = err instanceof BundleRejectedError ? err.reason : "apply-failed";
    const message = (err as Error).message;
    const kept = this.active();
    this.o.logger.error(
      { reason, version, kept },
      `policy bundle rejected; keeping the active policy: ${message}`,
    );
    await this.o
      .append(this.record("alert", { kind: "policy.rejected", reason, version, kept }, kept, { message }))
      .catch((e) => this.o.logger.error({ err: String(e) }, "could not record the policy rejection"));
    return { ok: false, reason, message, version };
  }

  /** Compiles the bundle's files exactly as the gate compiles a policy directory (embedded tests run). */
  private compile(b: Bundle): PolicyBundle {
    const dir = mkdtempSync(join(this.o.stateDir, "compile-"));
    try {
      for (const [name, text] of Object.entries(b.files)) writeFileSync(join(dir, name), text);
      return loadPolicy(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  private record(
    kind: "policy" | "alert",
    proposed: Record<string, unknown>,
    bundle: { id: string; version: number; sha256: string },
    result: unknown,
  ): RecordInput {
    return {
      kind,
      session_id: `agent:${this.o.hostId}`,
      action_id: randomUUID(),
      timestamp: nowRfc3339(),
      prompt_hash: null,
      proposed_action: proposed,
      evaluation: null,
      policy_matched: {
        bundle: { id: bundle.id, version: bundle.version, sha256: bundle.sha256 },
        rules: [],
      },
      composition_state: null,
      execution_result: result,
      principal_review: null,
      latency_ms: 0,
      principal: "collector",
    };
  }
}

/** Decisions name the signed bundle (id, version, sha256 of its canonical JSON), not the scratch directory. */
function withRef(compiled: PolicyBundle, b: Bundle, sha256: string): PolicyBundle {
  return Object.freeze({ ...compiled, ref: Object.freeze({ id: b.id, version: b.version, sha256 }) });
}
