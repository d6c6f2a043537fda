// Faithful export: the trained tiny llama, written to GGUF with the project's writer, loaded by
// node-llama-cpp (llama.cpp): its next-token probabilities match the trainer's on the same input
// within a tolerance, and greedy output is identical. F32 and F16 (2-D weights; norms stay F32).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, type Llama } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { batchFor, generatedCorpus, tokenize } from "../../src/training/dataset.js";
import { createEmbeddedTrainer, type EmbeddedTrainer } from "../../src/training/embedded.js";
import { exportGguf } from "../../src/training/export.js";
import { JobSchema } from "../../src/training/spec.js";

const SHAPE = { layers: 2, width: 32, heads: 4, context: 64, vocab: 259 as const };
const dir = mkdtempSync(join(tmpdir(), "forge-export-"));

function spec(type: "f32" | "f16") {
  return JobSchema.parse({
    job: `export-${type}`,
    model: { shape: SHAPE },
    dataset: { ref: "generated:corpus-v1", sha256: "0".repeat(64) },
    hyperparameters: { learning_rate: 0.01, batch: 4, sequence: 32, steps: 40 },
    checkpoints: { every: 40 },
    export: { gguf: `model-${type}.gguf`, type },
  });
}

describe("GGUF export is faithful (node-llama-cpp)", () => {
  let tr: EmbeddedTrainer;
  let llama: Llama;
  beforeAll(async () => {
    tr = await createEmbeddedTrainer(SHAPE, 5);
    const data = new Uint8Array(generatedCorpus());
    for (let s = 1; s <= 40; s++) {
      await tr.forward(batchFor(data, s, 4, 32, 2), () => "backward");
      await tr.commit(0.01);
    }
    llama = await getLlama({ gpu: false, build: "never" });
  }, 300_000);
  afterAll(async () => {
    await tr.close();
    await llama.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [type, tol] of [
    ["f32", 2e-3],
    ["f16", 2e-2],
  ] as const) {
    it(`${type}: probabilities within ${tol}, greedy output identical`, async () => {
      const path = (await exportGguf(tr, spec(type), dir))!;
      const model = await llama.loadModel({ modelPath: path });
      const ctx = await model.createContext({ contextSize: 64 });
      const seq = ctx.getSequence();
      const prompt = tokenize("the agent checks ");
      const mine = tr.probabilities(prompt).at(-1)!;
      // Greedy from the trainer: argmax, append, repeat.
      const greedyMine: number[] = [];
      const toks = [...prompt];
      for (let i = 0; i < 12; i++) {
        const p = tr.probabilities(toks).at(-1)!;
        let best = 0;
        for (let v = 1; v < p.length; v++) if (p[v]! > p[best]!) best = v;
        greedyMine.push(best);
        toks.push(best);
      }
      const greedyTheirs: number[] = [];
      let first: Map<number, number> | null = null;
      const gen = seq.evaluateWithMetadata(prompt as never, { probabilities: true }, { temperature: 0 });
      for await (const out of gen) {
        first ??= out.probabilities as Map<number, number>;
        greedyTheirs.push(out.token as number);
        if (greedyTheirs.length === 12) break;
      }
      expect(greedyTheirs).toEqual(greedyMine);
      // The top tokens' probabilities agree.
      const top = [...mine.keys()].sort((a, b) => mine[b]! - mine[a]!).slice(0, 5);
      for (const t of top) expect(Math.abs((first!.get(t) ?? 0) - mine[t]!), `token ${t}`).toBeLessThan(tol);
      await ctx.dispose();
      await model.dispose();
    }, 120_000);
  }
});
