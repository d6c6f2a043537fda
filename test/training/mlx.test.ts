// The mlx trainer cannot run here (Linux, no MLX): what is tested is its seam. The platform rule
// (Apple Silicon only) refuses before any process starts; on a host that claims Apple Silicon but
// has no MLX, the real sidecar (sidecars/mlx/trainer.py) starts, fails to import mlx, and the step
// protocol fails closed (FORGE_TRAINING_FAILED naming the import). The sidecar's training logic
// itself is NOT exercised anywhere in this suite.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { GENERATED_CORPUS_REF } from "../../src/training/dataset.js";
import { JobSchema } from "../../src/training/spec.js";
import {
  DEFAULT_MLX_PYTHON,
  mlxSupported,
  TorchTrainer,
  torchSidecarPath,
} from "../../src/training/torch.js";
import { makeTrainer } from "../../src/training/trainers.js";

const SHAPE = { layers: 1, width: 16, heads: 2, context: 16, vocab: 259 as const };
const hasMlx = spawnSync(DEFAULT_MLX_PYTHON, ["-c", "import mlx.core"], { encoding: "utf8" }).status === 0;

describe("the mlx trainer's seam (MLX cannot run here)", () => {
  it("MLX is Apple Silicon only", () => {
    expect(mlxSupported("darwin", "arm64")).toBe(true);
    expect(mlxSupported("darwin", "x64")).toBe(false);
    expect(mlxSupported("linux", "arm64")).toBe(false);
    expect(mlxSupported("linux", "x64")).toBe(false);
  });

  it.skipIf(mlxSupported(process.platform, process.arch))(
    "a job naming trainer: mlx is refused on this host before any process starts",
    async () => {
      const spec = JobSchema.parse({
        job: "m",
        model: { shape: SHAPE },
        dataset: { ref: GENERATED_CORPUS_REF, sha256: "0".repeat(64) },
        hyperparameters: { learning_rate: 0.01, batch: 2, sequence: 8, steps: 2 },
        checkpoints: { every: 2 },
        trainer: "mlx",
      });
      await expect(makeTrainer(spec)).rejects.toMatchObject({
        code: "FORGE_TRAINING_REFUSED",
        message: expect.stringMatching(
          new RegExp(`needs Apple Silicon.*this host is ${process.platform}/${process.arch}`),
        ),
      });
    },
  );

  it.skipIf(hasMlx)(
    "without MLX installed the real sidecar fails closed at init (FORGE_TRAINING_FAILED)",
    async () => {
      expect(torchSidecarPath("mlx")).toMatch(/sidecars\/mlx\/trainer\.py$/);
      await expect(
        TorchTrainer.startMlx(SHAPE, 1, { platform: "darwin", arch: "arm64" }),
      ).rejects.toMatchObject({
        code: "FORGE_TRAINING_FAILED",
        message: expect.stringMatching(/mlx sidecar exited.*No module named 'mlx/s),
      });
    },
  );
});
