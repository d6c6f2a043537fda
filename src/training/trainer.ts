/**
 * The step protocol every trainer speaks. The loop owns every decision; a trainer only executes.
 *
 * forward(batch, check) computes the loss; `check` is the loop's LOSS_CHECK, called with the loss
 * before any gradient exists. "backward" lets the trainer compute gradients (BACKWARD); "hold"
 * means no gradient is computed. commit() then applies the update (after "hold", an approved
 * review: it computes the gradient first); reject() drops the batch.
 */
import type { Batch } from "./dataset.js";

export type LossVerdict = "backward" | "hold";

export interface StepStats {
  /** Global L2 norm of the gradient before clipping. */
  grad_norm: number;
}

export interface Trainer {
  readonly name: "embedded" | "torch" | "mlx";
  /** Parameter count of the model as built. */
  readonly parameters: number;
  /** Gradients computed so far (a skipped batch never adds one). */
  readonly gradients: number;
  forward(batch: Batch, check: (loss: number) => LossVerdict): Promise<number>;
  commit(lr: number): Promise<StepStats>;
  reject(): Promise<void>;
  /** Writes weights and optimizer state into `dir` (files: weights.bin, optimizer.bin). */
  save(dir: string): Promise<void>;
  load(dir: string): Promise<void>;
  /** sha256 of the weights as they are now (the same bytes save() writes). */
  weightsDigest(): Promise<string>;
  /** Named F32 tensors in GGUF order for export, row-major in GGUF's layout. */
  exportTensors(): Promise<{ name: string; dims: number[]; data: Float32Array }[]>;
  /**
   * Memory the trainer holds in a process of its own (a sidecar's peak resident memory, MB), which
   * max_memory_mb counts beside this process's; absent for an in-process trainer.
   */
  memoryMb?(): number;
  close(): Promise<void>;
}
