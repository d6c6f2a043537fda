/**
 * The sidecar trainers: the step protocol (trainer.ts) spoken to a Python process as JSON lines
 * over stdio — `torch` (sidecars/torch/trainer.py, Debian's python3-torch) and `mlx`
 * (sidecars/mlx/trainer.py, Apple Silicon only; not run where this was written). The loop's
 * LOSS_CHECK runs here, in TypeScript, between the sidecar's `forward` (loss known, graph kept,
 * no gradient) and `commit` (backward + optimizer step) or `reject` (the graph is dropped).
 * A sidecar that dies, answers garbage or reports an error fails the step: FORGE_TRAINING_FAILED.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Codes, ForgeError } from "../errors.js";
import type { GgufTensor } from "../inference/tiny-model.js";
import type { Batch } from "./dataset.js";
import { ggufTensors, paramLayout } from "./layout.js";
import { fullShape, type Shape } from "./spec.js";
import type { LossVerdict, StepStats, Trainer } from "./trainer.js";

/** The Python that has python3-torch: Debian's, not a pyenv one first on PATH (FORGE_TORCH_PYTHON overrides). */
export const DEFAULT_TORCH_PYTHON = "/usr/bin/python3";

/** The Python for the mlx sidecar (MLX is a pip package on macOS). */
export const DEFAULT_MLX_PYTHON = "python3";

/** MLX runs on Apple Silicon only: the one platform fact the mlx trainer depends on. */
export function mlxSupported(platform: string, arch: string): boolean {
  return platform === "darwin" && arch === "arm64";
}

/** sidecars/KIND/trainer.py from src/training (tsx, vitest) or dist/src/training (built). */
export function torchSidecarPath(kind: "torch" | "mlx" = "torch"): string {
  for (const rel of [`../../sidecars/${kind}/trainer.py`, `../../../sidecars/${kind}/trainer.py`]) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new ForgeError(
    Codes.TRAINING_REFUSED,
    `the ${kind} sidecar (sidecars/${kind}/trainer.py) is not installed`,
  );
}

type Reply = { id: number; ok: boolean; error?: string; errno?: string } & Record<string, unknown>;

const num = (v: unknown): number => (typeof v === "number" ? v : Number(v));

export class TorchTrainer implements Trainer {
  parameters = 0;
  gradients = 0;
  private nextId = 1;
  private readonly waiting = new Map<number, { ok: (r: Reply) => void; fail: (e: Error) => void }>();
  private dead: Error | null = null;
  private stderr = "";
  /** A forward whose loss the loop held (an escalation): commit() may still apply it. */
  private kept = false;
  /** The sidecar's peak resident memory, MB, as its last forward or commit reported it. */
  private sidecarMb = 0;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly shape: Shape,
    readonly name: "torch" | "mlx" = "torch",
  ) {
    child.stderr.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    createInterface({ input: child.stdout }).on("line", (line) => {
      let r: Reply;
      try {
        r = JSON.parse(line) as Reply;
      } catch {
        return this.die(`the ${this.name} sidecar wrote a line that is not JSON: ${line.slice(0, 200)}`);
      }
      const w = this.waiting.get(r.id);
      if (!w) return this.die(`the ${this.name} sidecar answered an unknown request ${r.id}`);
      this.waiting.delete(r.id);
      if (r.ok) w.ok(r);
      else
        w.fail(
          new ForgeError(Codes.TRAINING_FAILED, `${this.name} sidecar: ${r.error ?? "unknown error"}`, {
            // The OSError's symbolic errno (ENOSPC…): writeCheckpoint names a full disk by it.
            ...(typeof r.errno === "string" ? { details: { errno: r.errno } } : {}),
          }),
        );
    });
    child.on("error", (e) => this.die(e.message, e));
    child.on("exit", (code, signal) =>
      this.die(`the ${this.name} sidecar exited (${signal ?? code}): ${this.stderr.trim().slice(-500)}`),
    );
  }

  /** Starts the torch sidecar under `python` (default DEFAULT_TORCH_PYTHON). */
  static async start(shape: Shape, seed: number, python = DEFAULT_TORCH_PYTHON): Promise<TorchTrainer> {
    const script = torchSidecarPath("torch");
    if (!existsSync(python))
      throw new ForgeError(
        Codes.TRAINING_REFUSED,
        `trainer 'torch' needs ${python} with python3-torch (apt-get install python3-torch), or set FORGE_TORCH_PYTHON`,
      );
    return TorchTrainer.spawnSidecar("torch", python, script, shape, seed);
  }

  /** The mlx sidecar: refused off Apple Silicon (FORGE_TRAINING_REFUSED), before any process starts. */
  static async startMlx(
    shape: Shape,
    seed: number,
    host: { platform: string; arch: string } = process,
    python = DEFAULT_MLX_PYTHON,
  ): Promise<TorchTrainer> {
    if (!mlxSupported(host.platform, host.arch))
      throw new ForgeError(
        Codes.TRAINING_REFUSED,
        `trainer 'mlx' needs Apple Silicon (darwin/arm64) with MLX (pip install mlx); this host is ${host.platform}/${host.arch}: use 'embedded' or 'torch'`,
      );
    return TorchTrainer.spawnSidecar("mlx", python, torchSidecarPath("mlx"), shape, seed);
  }

  private static async spawnSidecar(
    kind: "torch" | "mlx",
    python: string,
    script: string,
    shape: Shape,
    seed: number,
  ): Promise<TorchTrainer> {
    const t = new TorchTrainer(spawn(python, [script], { stdio: ["pipe", "pipe", "pipe"] }), shape, kind);
    try {
      const r = await t.call("init", { shape: fullShape(shape), seed });
      t.parameters = num(r.parameters);
    } catch (err) {
      await t.close();
      throw err;
    }
    return t;
  }

  /** The sidecar is gone or speaks nonsense: every waiting and later call fails FORGE_TRAINING_FAILED. */
  private die(reason: string, cause?: unknown): void {
    if (this.dead) return;
    this.dead = new ForgeError(Codes.TRAINING_FAILED, reason, { cause });
    for (const w of this.waiting.values()) w.fail(this.dead);
    this.waiting.clear();
  }

  private call(op: string, args: Record<string, unknown> = {}): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<Reply>((ok, fail) => {
      this.waiting.set(id, { ok, fail });
      this.child.stdin.write(`${JSON.stringify({ id, op, ...args })}\n`);
    });
  }

  async forward(batch: Batch, check: (loss: number) => LossVerdict): Promise<number> {
    this.kept = false;
    const poison =
      batch.poison === undefined ? {} : { poison: Number.isNaN(batch.poison) ? "NaN" : batch.poison };
    const r = await this.call("forward", {
      batch: batch.batch,
      sequence: batch.sequence,
      inputs: Array.from(batch.inputs),
      targets: Array.from(batch.targets),
      ...poison,
    });
    const loss = num(r.loss);
    this.sidecarMb = num(r.peak_rss_mb);
    // The sidecar keeps the graph either way; "hold" only means no gradient unless approved.
    check(loss);
    this.kept = true;
    return loss;
  }

  async commit(lr: number): Promise<StepStats> {
    if (!this.kept) throw new ForgeError(Codes.TRAINING_FAILED, "commit() without a forward to commit");
    this.kept = false;
    const r = await this.call("commit", { lr });
    this.sidecarMb = num(r.peak_rss_mb);
    this.gradients++;
    return { grad_norm: num(r.grad_norm) };
  }

  /** The sidecar process's memory (its peak: backward's graph and the optimizer), MB. */
  memoryMb(): number {
    return this.sidecarMb;
  }

  async reject(): Promise<void> {
    this.kept = false;
    await this.call("reject");
  }

  async save(dir: string): Promise<void> {
    await this.call("save", { dir });
  }

  async load(dir: string): Promise<void> {
    await this.call("load", { dir });
  }

  async weightsDigest(): Promise<string> {
    return String((await this.call("digest")).sha256);
  }

  /** The sidecar's weights.bin (the embedded trainer's format) through the one layout table. */
  async exportTensors(): Promise<GgufTensor[]> {
    const dir = await mkdtemp(join(tmpdir(), "forge-torch-export-"));
    try {
      await this.call("save", { dir });
      const b = await readFile(join(dir, "weights.bin"));
      return ggufTensors(paramLayout(this.shape), new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once("exit", () => r()));
    this.child.stdin.end();
    await exited;
  }
}
