import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, type Llama, LlamaCompletion, readGgufFileInfo } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ensureTinyModel,
  TINY_MODEL_FILE,
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
});
