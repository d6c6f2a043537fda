/** Picks the trainer a job names. */
import { Codes, ForgeError } from "../errors.js";
import type { JobSpec } from "./spec.js";
import type { Trainer } from "./trainer.js";

/** Where the trainers' own programs are; the CLI fills it from the environment (FORGE_TORCH_PYTHON, FORGE_MLX_PYTHON). */
export interface TrainerOptions {
  /** The Python with python3-torch (default /usr/bin/python3). */
  torchPython?: string | undefined;
  /** The Python with MLX (default python3). */
  mlxPython?: string | undefined;
}

export async function makeTrainer(spec: JobSpec, o: TrainerOptions = {}): Promise<Trainer> {
  const shape = spec.model.shape;
  if (shape === undefined) throw new ForgeError(Codes.TRAINING_REFUSED, "a trainer needs 'model.shape'");
  if (spec.trainer === "embedded") {
    const { createEmbeddedTrainer } = await import("./embedded.js");
    return createEmbeddedTrainer(shape, spec.model.seed);
  }
  if (spec.trainer === "torch") {
    const { TorchTrainer } = await import("./torch.js");
    return TorchTrainer.start(shape, spec.model.seed, o.torchPython);
  }
  const { TorchTrainer } = await import("./torch.js");
  return TorchTrainer.startMlx(shape, spec.model.seed, process, o.mlxPython);
}
