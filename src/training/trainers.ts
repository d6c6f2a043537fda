/** Picks the trainer a job names. */
import { Codes, ForgeError } from "../errors.js";
import type { JobSpec } from "./spec.js";
import type { Trainer } from "./trainer.js";

export async function makeTrainer(spec: JobSpec): Promise<Trainer> {
  const shape = spec.model.shape;
  if (shape === undefined) throw new ForgeError(Codes.TRAINING_REFUSED, "a trainer needs 'model.shape'");
  if (spec.trainer === "embedded") {
    const { createEmbeddedTrainer } = await import("./embedded.js");
    return createEmbeddedTrainer(shape, spec.model.seed);
  }
  if (spec.trainer === "torch") {
    const { TorchTrainer } = await import("./torch.js");
    return TorchTrainer.start(shape, spec.model.seed);
  }
  const { TorchTrainer } = await import("./torch.js");
  return TorchTrainer.startMlx(shape, spec.model.seed);
}
