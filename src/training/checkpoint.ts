/**
 * Checkpoints: a directory `step-NNNNNNNN/` holding the trainer's weights and optimizer state, the
 * loop's state, the per-step log since the previous checkpoint, and a manifest of every file's
 * sha256. Written into a temporary directory, fsynced, then renamed: a crash or a full disk leaves
 * either the whole checkpoint or none (the temporary directory is removed on failure).
 */
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { Codes, ForgeError } from "../errors.js";
import type { Trainer } from "./trainer.js";

/** One line of the per-step log. */
export interface StepLog {
  step: number;
  loss: number;
  grad_norm: number | null;
  tokens: number;
  ms: number;
  /** "trained" or the anomaly outcome that dropped the batch. */
  outcome: string;
}

/** Points a record's loss curve holds at most: a record's size stays bounded however long the segment. */
export const CURVE_POINTS = 64;

/**
 * The loss curve of a run of log lines, for a record: [step, loss] for each trained step with a
 * finite loss (a dropped batch is an anomaly record of its own), one point a step while the
 * segment has at most `max` of them; beyond that, `max` points, each the mean loss of an equal run
 * of consecutive steps at its last step. `every` says how many steps a point stands for (1 = per step).
 */
export function lossCurve(
  log: readonly StepLog[],
  max = CURVE_POINTS,
): { every: number; points: [number, number][] } {
  const trained = log.filter((l) => l.outcome === "trained" && Number.isFinite(l.loss));
  const every = Math.max(1, Math.ceil(trained.length / max));
  const points: [number, number][] = [];
  for (let i = 0; i < trained.length; i += every) {
    const run = trained.slice(i, i + every);
    const mean = run.reduce((a, l) => a + l.loss, 0) / run.length;
    points.push([run[run.length - 1]!.step, mean]);
  }
  return { every, points };
}

/** The loop's own state, so a resumed job continues exactly. */
export interface LoopState {
  session_id: string;
  step: number;
  tokens: number;
  updates: number;
  wall_seconds: number;
  energy_joules: number | null;
  detector: { accepted: number; spike: number[]; zscore: number[] };
  loss_first: number | null;
  loss_last: number | null;
}

export interface CheckpointInfo {
  step: number;
  path: string;
  /** sha256 of manifest.json (which lists every file's sha256). */
  digest: string;
  weights_sha256: string;
  optimizer_sha256: string;
  steps_log_sha256: string;
}

const FILES = ["weights.bin", "optimizer.bin", "state.json", "steps.jsonl"] as const;

const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

function fsyncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes one checkpoint; on any error nothing partial is left and FORGE_TRAINING_DISK_FULL (no room)
 * or FORGE_TRAINING_FAILED is thrown. Earlier checkpoints are never touched.
 *
 * `declare(info)` runs once the files are synced and before the checkpoint gets its name (the
 * rename that makes latestCheckpoint see it): the loop writes its record there, so a checkpoint a
 * resume can start from always has its record in the chain. Killed in between, the record names a
 * checkpoint that was never published, and a resume starts from the one before; a `declare` that
 * throws publishes nothing.
 */
export async function writeCheckpoint(
  root: string,
  trainer: Trainer,
  state: LoopState,
  log: StepLog[],
  declare: (info: CheckpointInfo) => Promise<void> = async () => {},
): Promise<CheckpointInfo> {
  const name = `step-${String(state.step).padStart(8, "0")}`;
  const final = join(root, name);
  const tmp = join(root, `.${name}.${process.pid}.tmp`);
  let declaring = false;
  try {
    mkdirSync(tmp, { recursive: true });
    await trainer.save(tmp);
    writeFileSync(join(tmp, "state.json"), JSON.stringify(state));
    writeFileSync(join(tmp, "steps.jsonl"), log.map((l) => `${JSON.stringify(l)}\n`).join(""));
    const files: Record<string, string> = {};
    for (const f of FILES) {
      const p = join(tmp, f);
      files[f] = sha(readFileSync(p));
      fsyncPath(p);
    }
    const manifest = JSON.stringify({ version: 1, step: state.step, trainer: trainer.name, files });
    writeFileSync(join(tmp, "manifest.json"), manifest);
    fsyncPath(join(tmp, "manifest.json"));
    fsyncPath(tmp);
    const info: CheckpointInfo = {
      step: state.step,
      path: final,
      digest: sha(manifest),
      weights_sha256: files["weights.bin"]!,
      optimizer_sha256: files["optimizer.bin"]!,
      steps_log_sha256: files["steps.jsonl"]!,
    };
    declaring = true;
    await declare(info);
    declaring = false;
    if (existsSync(final)) rmSync(final, { recursive: true });
    renameSync(tmp, final);
    fsyncPath(root);
    return info;
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (declaring) throw err; // the record's own error (the store's), as it was
    const e = err as NodeJS.ErrnoException;
    const errno = errnoOf(err);
    const full = errno !== null && DISK_FULL.has(errno);
    throw new ForgeError(
      full ? Codes.TRAINING_DISK_FULL : Codes.TRAINING_FAILED,
      `checkpoint ${name} in ${root} failed: ${e.message}${full ? " (the disk is full: free space, then run again with --resume; the previous checkpoint is intact)" : ""}`,
      { cause: err, details: { errno } },
    );
  }
}

/** The errno name of a failed write: Node's own, or the one a sidecar reported (torch.ts). */
function errnoOf(err: unknown): string | null {
  if (err instanceof ForgeError) return typeof err.details?.errno === "string" ? err.details.errno : null;
  return (err as NodeJS.ErrnoException).code ?? null;
}

/** The errno codes that mean "no room": the disk, a quota, or a file-size limit. */
const DISK_FULL: ReadonlySet<string> = new Set(["ENOSPC", "EDQUOT", "EFBIG"]);

/** The newest checkpoint whose files all match its manifest, or null. Broken ones are skipped. */
export function latestCheckpoint(root: string): { info: CheckpointInfo; state: LoopState } | null {
  if (!existsSync(root)) return null;
  const names = readdirSync(root)
    .filter((n) => /^step-\d{8}$/.test(n))
    .sort()
    .reverse();
  for (const n of names) {
    const dir = join(root, n);
    try {
      const manifestText = readFileSync(join(dir, "manifest.json"), "utf8");
      const m = JSON.parse(manifestText) as { step: number; files: Record<string, string> };
      const ok = FILES.every((f) => sha(readFileSync(join(dir, f))) === m.files[f]);
      if (!ok) continue;
      const state = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as LoopState;
      return {
        state,
        info: {
          step: m.step,
          path: dir,
          digest: sha(manifestText),
          weights_sha256: m.files["weights.bin"]!,
          optimizer_sha256: m.files["optimizer.bin"]!,
          steps_log_sha256: m.files["steps.jsonl"]!,
        },
      };
    } catch {}
  }
  return null;
}
