/**
 * GGUF export of a trained tiny llama with the project's writer (src/inference/tiny-model.ts):
 * 2-D weights F32 or F16, 1-D norms always F32, the 259-token byte vocabulary, RoPE in llama.cpp's
 * adjacent-pair (NORM) mode, which is the one the embedded trainer computes.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { llamaGgufBytes } from "../inference/tiny-model.js";
import { fullShape, type JobSpec } from "./spec.js";
import type { Trainer } from "./trainer.js";

/** Writes the GGUF the job's `export` names (relative to the job file); null when it names none. */
export async function exportGguf(trainer: Trainer, spec: JobSpec, jobDir: string): Promise<string | null> {
  if (!spec.export || !spec.model.shape) return null;
  const path = isAbsolute(spec.export.gguf) ? spec.export.gguf : join(jobDir, spec.export.gguf);
  const s = fullShape(spec.model.shape);
  const bytes = llamaGgufBytes({
    shape: { embedding: s.width, blocks: s.layers, feedForward: s.ffn, heads: s.heads, context: s.context },
    name: `forge-agent trained ${spec.job}`,
    description: `Trained by forge-agent job '${spec.job}' (${spec.trainer}), dataset sha256 ${spec.dataset.sha256}, weights sha256 ${await trainer.weightsDigest()}.`,
    tensors: await trainer.exportTensors(),
    f16: spec.export.type === "f16",
    bytesOnly: true,
  });
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
  return path;
}
