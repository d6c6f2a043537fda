import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, type Llama, LlamaCompletion, readGgufFileInfo } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ensureTinyModel,
  type ModelShape,
  SMALL_SHAPE,
  TINY_MODEL_FILE,
  TINY_SHAPE,
  tinyModelBytes,
  writeTinyModel,
} from "../../src/inference/tiny-model.js";

let dir: string;
let llama: Llama;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "forge-tiny-"));
  llama = await getLlama({ gpu: false, build: "never" });
});

afterAll(async () => {
  await llama?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe("tiny GGUF model", () => {
  it("is deterministic: same seed, same bytes; another seed, other weights", () => {
    const a = writeTinyModel(join(dir, "a.gguf"), { seed: 42 });
    const b = writeTinyModel(join(dir, "b.gguf"), { seed: 42 });
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    const c = tinyModelBytes(43);
    expect(c.length).toBe(readFileSync(a).length);
    expect(c.equals(readFileSync(a))).toBe(false);
    expect(() => tinyModelBytes(-1)).toThrow(RangeError);
    expect(() => tinyModelBytes(1.5)).toThrow(RangeError);
  });

  it("is a GGUF v3 llama file labelled as a smoke-test model, with a byte-level vocabulary", async () => {
    const path = writeTinyModel(join(dir, "meta.gguf"), { seed: 1 });
    const bytes = readFileSync(path);
    expect(bytes.subarray(0, 4).toString("latin1")).toBe("GGUF");
    expect(bytes.readUInt32LE(4)).toBe(3);
    expect(bytes.length).toBeGreaterThan(400_000);
    expect(bytes.length).toBeLessThan(700_000);
    const info = await readGgufFileInfo(path);
    const md = info.metadata as unknown as Record<string, Record<string, unknown>>;
    expect(md.general!.architecture).toBe("llama");
    expect(String(md.general!.name)).toMatch(/smoke-test.*random weights/);
    const tok = md.tokenizer!.ggml as { model: string; tokens: string[]; token_type: number[] };
    expect(tok.model).toBe("llama");
    expect(tok.tokens.slice(0, 4)).toEqual(["<unk>", "<s>", "</s>", "<0x00>"]);
    expect(tok.tokens[3 + 255]).toBe("<0xFF>");
    expect(tok.token_type.slice(3, 259).every((t) => t === 6)).toBe(true);
    expect(info.tensorInfo!.map((t) => t.name)).toContain("blk.1.ffn_down.weight");
    expect(info.tensorInfo).toHaveLength(3 + 2 * 9);
  });

  it("loads in llama.cpp and generates the same tokens twice at temperature 0", async () => {
    const model = await llama.loadModel({ modelPath: writeTinyModel(join(dir, "gen.gguf"), { seed: 5 }) });
    const ctx = await model.createContext({ contextSize: 256, threads: 1 });
    const completion = new LlamaCompletion({ contextSequence: ctx.getSequence() });
    const run = () => completion.generateCompletionWithMeta("hello", { maxTokens: 16, temperature: 0 });
    const first = await run();
    const second = await run();
    expect(first.response).toBe(second.response);
    expect(model.tokenize("hello world").length).toBeGreaterThan(0);
    // Text round-trips through the byte-level vocabulary.
    expect(model.detokenize(model.tokenize("héllo wörld"))).toBe("héllo wörld");
    completion.dispose();
    await ctx.dispose();
    await model.dispose();
  });

  it("ensureTinyModel generates once, then reuses the file", () => {
    const sub = join(dir, "models");
    const p = ensureTinyModel(sub);
    expect(p).toBe(join(sub, TINY_MODEL_FILE));
    const first = statSync(p);
    expect(ensureTinyModel(sub)).toBe(p);
    expect(statSync(p).mtimeMs).toBe(first.mtimeMs);
    expect(statSync(p).ino).toBe(first.ino);
  });

  it("scripts/make-tiny-model writes the file (from the build) and refuses bad flags", () => {
    const out = join(dir, "cli.gguf");
    const stdout = execFileSync("scripts/make-tiny-model", ["--out", out, "--seed", "42"], {
      encoding: "utf8",
    });
    expect(stdout).toContain(out);
    expect(readFileSync(out).equals(tinyModelBytes(42))).toBe(true);
    const bad = spawnSync("scripts/make-tiny-model", ["--seed", "many"], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--seed must be a whole number");
  });

  it("keeps the default model's bytes: seed 0 is the file every install has generated", () => {
    // The sha256 of the tiny model as first released (before shapes existed); it must never move.
    const bytes = tinyModelBytes(0);
    expect(bytes.length).toBe(540_544);
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(
      "50be3cb6b65a114985db49e08f07007effb3d16904c23386d1eff6e404bd0ac9",
    );
    expect(tinyModelBytes(0, { ...TINY_SHAPE }).equals(bytes)).toBe(true);
    const path = writeTinyModel(join(dir, "default.gguf"));
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it("writes another shape as a valid llama model that llama.cpp loads and runs", async () => {
    const shape: ModelShape = { embedding: 128, blocks: 3, feedForward: 320, heads: 8, context: 256 };
    const path = writeTinyModel(join(dir, "shaped.gguf"), { seed: 7, shape });
    expect(readFileSync(path).equals(tinyModelBytes(7, shape))).toBe(true);
    const info = await readGgufFileInfo(path);
    const md = info.metadata as unknown as Record<string, Record<string, unknown>>;
    expect(md.llama).toMatchObject({
      embedding_length: 128,
      block_count: 3,
      feed_forward_length: 320,
      context_length: 256,
      attention: { head_count: 8, head_count_kv: 8 },
      rope: { dimension_count: 16 },
    });
    expect(String(md.general!.name)).toMatch(/random weights/);
    expect(String(md.general!.description)).toMatch(/E=128, 3 blocks, F=320/);
    expect(info.tensorInfo).toHaveLength(3 + 3 * 9);
    const up = info.tensorInfo!.find((t) => t.name === "blk.2.ffn_up.weight")!;
    expect(up.dimensions.map(Number)).toEqual([128, 320]);

    const model = await llama.loadModel({ modelPath: path });
    const ctx = await model.createContext({ contextSize: 256, threads: 1 });
    const completion = new LlamaCompletion({ contextSequence: ctx.getSequence() });
    const run = () =>
      completion.generateCompletionWithMeta("hello", {
        maxTokens: 12,
        temperature: 0,
        disableContextShift: true,
      });
    const first = await run();
    expect(first.metadata.stopReason).toBe("maxTokens");
    expect((await run()).response).toBe(first.response);
    completion.dispose();
    await ctx.dispose();
    await model.dispose();
  });

  it("the benchmark's small shape is ~100 MB of F32 weights and loads", async () => {
    const path = writeTinyModel(join(dir, "small.gguf"), { shape: SMALL_SHAPE });
    const size = statSync(path).size;
    expect(size).toBeGreaterThan(95e6);
    expect(size).toBeLessThan(110e6);
    const model = await llama.loadModel({ modelPath: path });
    const ctx = await model.createContext({ contextSize: 64, threads: 1 });
    const completion = new LlamaCompletion({ contextSequence: ctx.getSequence() });
    const r = await completion.generateCompletionWithMeta("hi", { maxTokens: 3, temperature: 0 });
    expect(r.metadata.stopReason).toBe("maxTokens");
    completion.dispose();
    await ctx.dispose();
    await model.dispose();
    rmSync(path);
  }, 60_000);

  it("refuses shapes llama.cpp cannot run", () => {
    const bad = (s: Partial<ModelShape>) => () => tinyModelBytes(0, { ...TINY_SHAPE, ...s });
    expect(bad({ heads: 3 })).toThrow(/split into 3 heads/);
    expect(bad({ embedding: 24, heads: 8 })).toThrow(/even width/);
    expect(bad({ blocks: 0 })).toThrow(RangeError);
    expect(bad({ feedForward: 1.5 })).toThrow(/shape.feedForward/);
  });
});
