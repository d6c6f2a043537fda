// Fine-tuning from `model.base`: a GGUF the project exported (a file, or a pinned registry model)
// gives the shape and the starting weights. The GGUF round trip is exact (export → read → the same
// weights sha256); the fine-tune starts where the base left off (its first loss is the base's level,
// not a fresh model's); an unknown base ESCALATEs (training-unknown-base), a denied review halts; a
// file that is not the tiny llama is refused. The torch trainer exports through the same layout.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { getLlama } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EvidenceStore } from "../../src/evidence/index.js";
import { defaultPolicyPath, type Gate } from "../../src/gate/index.js";
import type { PrincipalReview } from "../../src/protocol/record.js";
import { openClient, pushArtifact } from "../../src/registry/index.js";
import { loadBase, readTinyLlama } from "../../src/training/base.js";
import { batchFor, GENERATED_CORPUS_REF, generatedCorpus } from "../../src/training/dataset.js";
import { createEmbeddedTrainer } from "../../src/training/embedded.js";
import { exportGguf } from "../../src/training/export.js";
import { type JobOptions, type JobReport, runJob } from "../../src/training/job.js";
import { paramLayout, weightsFromTensors } from "../../src/training/layout.js";
import { type Job, JobSchema, parameterCount } from "../../src/training/spec.js";
import { TorchTrainer } from "../../src/training/torch.js";
import { makeTrainer } from "../../src/training/trainers.js";
import { tempHome } from "../evidence/helpers.js";
import { ensureBuilt } from "../fleet/helpers.js";
import { startRegistry, type TestRegistry, tempDir } from "../registry/helpers.js";
import { missing } from "../support/tools.js";
import { governed, review } from "./helpers.js";

const CORPUS_SHA = createHash("sha256").update(generatedCorpus()).digest("hex");
const SHAPE = { layers: 1, width: 16, heads: 2, context: 16 };
const sha = (b: Buffer | Float32Array) =>
  createHash("sha256")
    .update(Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength))
    .digest("hex");

function job(
  dir: string,
  name: string,
  model: Record<string, unknown>,
  over: Record<string, unknown> = {},
): Job {
  const spec = JobSchema.parse({
    job: name,
    model,
    dataset: { ref: GENERATED_CORPUS_REF, sha256: CORPUS_SHA },
    hyperparameters: { learning_rate: 0.02, batch: 2, sequence: 8, steps: 12, seed: 1 },
    budgets: {
      max_parameters: 100000,
      max_tokens: 100000,
      max_steps: 100,
      max_wall_seconds: 3600,
      max_memory_mb: 8192,
    },
    checkpoints: { every: 12, dir: `ck-${name}` },
    export: { gguf: `${name}.gguf`, type: "f32" },
    ...over,
  });
  return { spec, file: join(dir, `${name}.yaml`), dir, sha256: "0".repeat(64) };
}

describe("fine-tuning from a base GGUF (real store, gate, embedded trainer)", () => {
  const home = tempHome();
  let store: EvidenceStore;
  let gate: Gate;
  let scratch: JobReport;
  const starts: string[] = [];

  const run = (j: Job, startDecision: PrincipalReview["decision"], over: Partial<JobOptions> = {}) =>
    runJob({
      job: j,
      resume: false,
      store,
      gate,
      reviewer: {
        review: async () => review("deny"),
        reviewStart: async (a) => {
          starts.push(`${a.model.base}:${a.model.parameters}`);
          return review(startDecision);
        },
      },
      makeTrainer,
      exportModel: exportGguf,
      ...over,
    });

  beforeAll(async () => {
    ({ gate, store } = await governed(home));
    scratch = await run(job(home.dir, "scratch", { shape: SHAPE, seed: 1 }), "deny");
    expect(scratch.state).toBe("DONE");
  }, 120_000);
  afterAll(async () => {
    await store.close();
    home.cleanup();
  });

  it("the GGUF round trip is exact: export then read gives the trained weights' sha256", () => {
    const { shape, tensors } = readTinyLlama(readFileSync(scratch.gguf!), "scratch.gguf");
    expect(shape).toMatchObject({ ...SHAPE, ffn: 32, vocab: 259 });
    expect(sha(weightsFromTensors(paramLayout(shape), tensors, "scratch.gguf"))).toBe(
      scratch.final_weights_sha256,
    );
  });

  it("a fine-tune starts from the base: its shape and weights; its first loss is the base's level", async () => {
    const r = await run(job(home.dir, "tuned", { base: "scratch.gguf" }), "approve");
    expect(r.state, JSON.stringify(r.error)).toBe("DONE");
    // An unknown base escalates (training-unknown-base); the reviewer saw the base and the count.
    expect(r.evaluation).toBe("ESCALATE");
    expect(starts).toContain(`scratch.gguf:${parameterCount({ ...SHAPE, vocab: 259 })}`);
    // Fresh weights start near ln(259) ≈ 5.56; the fine-tune starts from the trained base.
    expect(r.loss!.first!).toBeLessThan(scratch.loss!.first! - 0.5);
    // Exactly: its first loss is the base's own loss on step 1's batch (same weights, same data).
    const b = await loadBase("scratch.gguf", home.dir);
    const t = await createEmbeddedTrainer(b.shape, 99);
    try {
      const d = mkdtempSync(join(home.dir, "w-"));
      writeFileSync(join(d, "weights.bin"), b.weights);
      writeFileSync(join(d, "optimizer.bin"), new Float32Array(1 + 2 * b.weights.length));
      await t.load(d);
      const data = new Uint8Array(generatedCorpus());
      const loss = await t.forward(batchFor(data, 1, 2, 8, 1), () => "hold");
      await t.reject();
      expect(r.loss!.first!).toBeCloseTo(loss, 6);
    } finally {
      await t.close();
    }
    expect(r.final_weights_sha256).not.toBe(scratch.final_weights_sha256);
    const start = store
      .records({ session_id: r.session_id })
      .map((x) => x.execution_result as Record<string, unknown>)
      .find((x) => x.event === "start")!;
    expect(start.base).toMatchObject({
      ref: "scratch.gguf",
      sha256: sha(readFileSync(scratch.gguf!)),
      manifest_digest: null,
      shape: { ...SHAPE, ffn: 32 },
    });
    // The fine-tune exports too: a base for the next one.
    expect((await loadBase(r.gguf!, home.dir)).shape).toMatchObject(SHAPE);
  }, 120_000);

  it("a denied review of the unknown base halts before anything is loaded", async () => {
    const r = await run(job(home.dir, "denied", { base: "scratch.gguf" }), "deny");
    expect(r.state).toBe("HALTED");
    expect(r.halted_by).toEqual({ review: "deny" });
    expect(r.steps).toBe(0);
  });

  it("a file that is not the tiny llama is refused (FORGE_TRAINING_REFUSED), the job FAILED", async () => {
    const bad = join(home.dir, "bad.gguf");
    writeFileSync(bad, Buffer.from("not a gguf at all"));
    await expect(loadBase(bad, home.dir)).rejects.toMatchObject({
      code: "FORGE_TRAINING_REFUSED",
      message: expect.stringMatching(/not a GGUF file/),
    });
    const cut = join(home.dir, "cut.gguf");
    writeFileSync(cut, readFileSync(scratch.gguf!).subarray(0, 4000));
    await expect(loadBase(cut, home.dir)).rejects.toMatchObject({ code: "FORGE_TRAINING_REFUSED" });
    const r = await run(job(home.dir, "badbase", { base: "bad.gguf" }), "approve");
    expect(r.state).toBe("FAILED");
    expect(r.error?.code).toBe("FORGE_TRAINING_REFUSED");
  });

  it.skipIf(missing("python3-torch"))(
    "the torch trainer exports through the same layout: exact weights, llama.cpp loads it",
    async () => {
      const t = await TorchTrainer.start({ ...SHAPE, vocab: 259 }, 3);
      try {
        const data = new Uint8Array(generatedCorpus());
        for (let s = 1; s <= 3; s++) {
          await t.forward(batchFor(data, s, 2, 8, 1), () => "backward");
          await t.commit(0.01);
        }
        const spec = job(home.dir, "torchx", { shape: SHAPE }, { trainer: "torch" }).spec;
        const path = (await exportGguf(t, spec, home.dir))!;
        const { shape, tensors } = readTinyLlama(readFileSync(path), "torchx.gguf");
        expect(sha(weightsFromTensors(paramLayout(shape), tensors, "torchx.gguf"))).toBe(
          await t.weightsDigest(),
        );
        const llama = await getLlama({ gpu: false, build: "never" });
        try {
          const model = await llama.loadModel({ modelPath: path });
          expect(model.fileInfo.metadata.general.architecture).toBe("llama");
          await model.dispose();
        } finally {
          await llama.dispose();
        }
      } finally {
        await t.close();
      }
    },
    120_000,
  );
});

describe.skipIf(missing("docker-registry"))("a registry base through the CLI", () => {
  const dir = tempDir("forge-base-reg-");
  let reg: TestRegistry;
  let ref = "";
  const BIN = join(import.meta.dirname, "../../bin/forge-agent.js");

  beforeAll(async () => {
    ensureBuilt();
    reg = await startRegistry();
    // A base: a short scratch run exported by the CLI itself.
    writeFileSync(
      join(dir, "scratch.yaml"),
      yaml("scratch", "shape: {layers: 1, width: 16, heads: 2, context: 16}"),
    );
    const s = cli(["train", join(dir, "scratch.yaml")], "default");
    expect(s.status, s.stderr).toBe(0);
    const c = openClient(reg.host, { home: tempDir(), insecure: true, credentials: () => null });
    const m = await pushArtifact(c, {
      repository: "bases/tiny",
      tag: "v1",
      kind: "model",
      files: [{ name: "scratch.gguf", path: join(dir, "scratch.gguf") }],
    });
    ref = `oci://${reg.host}/bases/tiny@${m.digest}`;
    // A policy that knows this registry's bases (the default pack knows only registry.internal).
    const known = readFileSync(defaultPolicyPath(), "utf8").replace(
      'known_base_models: ["oci://registry.internal/models/*"]',
      `known_base_models: ["oci://registry.internal/models/*", "oci://${reg.host}/bases/*"]`,
    );
    expect(known).toContain(reg.host);
    writeFileSync(join(dir, "known.yaml"), known);
  }, 180_000);
  afterAll(async () => {
    await reg?.stop();
  });

  function yaml(name: string, model: string): string {
    return `job: ${name}
model:
  ${model}
dataset: {ref: generated:corpus-v1, sha256: "${CORPUS_SHA}"}
hyperparameters: {learning_rate: 0.02, batch: 2, sequence: 8, steps: 3, seed: 1}
budgets: {max_parameters: 100000, max_tokens: 100000, max_steps: 100, max_wall_seconds: 3600, max_memory_mb: 8192}
checkpoints: {every: 3, dir: ck-${name}}
export: {gguf: ${name}.gguf}
`;
  }
  function cli(args: string[], policy: "default" | "known", home = join(dir, "home")) {
    const extra = policy === "known" ? ["--config", writeConfig(home)] : ["--home", home];
    return spawnSync(process.execPath, [BIN, ...args, ...extra, "--insecure", "--json"], {
      encoding: "utf8",
      timeout: 150_000,
    });
  }
  function writeConfig(home: string): string {
    const p = join(dir, "config.yaml");
    writeFileSync(p, `home: ${home}\npolicy: ${join(dir, "known.yaml")}\n`);
    return p;
  }

  it("an unknown registry base escalates; with no review queue the CLI halts (expired)", () => {
    writeFileSync(join(dir, "unknown.yaml"), yaml("unknown", `base: "${ref}"`));
    const r = cli(["train", join(dir, "unknown.yaml")], "default");
    expect(r.status).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ state: "HALTED", evaluation: "ESCALATE", halted_by: { review: "expired" } });
  }, 150_000);

  it("a known, pinned registry base is pulled (judged, verified) and fine-tuned", () => {
    writeFileSync(join(dir, "known-job.yaml"), yaml("known", `base: "${ref}"`));
    const r = cli(["train", join(dir, "known-job.yaml")], "known", join(dir, "home-known"));
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.state).toBe("DONE");
    expect(j.evaluation).toBe("ALLOW");
    // A tag is not enough: a fine-tune names its base by digest.
    writeFileSync(join(dir, "tagged.yaml"), yaml("tagged", `base: "oci://${reg.host}/bases/tiny:v1"`));
    const t = cli(["train", join(dir, "tagged.yaml")], "known", join(dir, "home-tagged"));
    expect(t.status).toBe(1);
    expect(JSON.parse(t.stdout).error.code).toBe("FORGE_REF_INVALID");
  }, 150_000);
});
