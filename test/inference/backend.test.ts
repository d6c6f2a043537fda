import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Codes } from "../../src/errors.js";
import { type Chunk, createBackend } from "../../src/inference/backend.js";
import { ensureTinyModel, TINY_MODEL_FILE } from "../../src/inference/tiny-model.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "forge-backend-"));
  ensureTinyModel(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("createBackend", () => {
  it("opens the embedded engine on a model path relative to modelDir, with a timing record", async () => {
    const b = await createBackend({ backend: "llama", model: TINY_MODEL_FILE, modelDir: dir });
    try {
      expect(b.name).toBe("llama");
      expect(b.defaultModel).toBe("forge-tiny-smoke-test:latest");
      const chunks: Chunk[] = [];
      for await (const c of b.generate({
        prompt: "hi",
        options: { temperature: 0, num_predict: 4, seed: 1 },
      }))
        chunks.push(c);
      const last = chunks.at(-1)!;
      expect(last.done).toBe(true);
      expect(last.timing!.generated_tokens).toBeLessThanOrEqual(4);
      expect(last.timing!.prompt_tokens).toBeGreaterThan(1);
      expect(last.timing!.ttft_ms).toBeGreaterThan(0);
      expect(last.timing!.total_ms).toBeGreaterThanOrEqual(last.timing!.ttft_ms);
      // A prompt larger than the context is refused up front, not truncated silently.
      await expect(
        (async () => {
          for await (const _ of b.generate({ prompt: "x ".repeat(400), raw: true } as never)) {
          }
        })(),
      ).rejects.toMatchObject({ code: Codes.BAD_REQUEST });
    } finally {
      await b.close();
    }
  });

  it("counts eval tokens as Ollama does: at most num_predict, exactly num_predict when stopped by length", async () => {
    const b = await createBackend({ backend: "llama", model: TINY_MODEL_FILE, modelDir: dir });
    try {
      const seen: string[] = [];
      // The random-weights model emits many byte tokens, so a UTF-8 character often straddles the
      // limit; the first request on a fresh sequence and repeated prompts are in the mix too.
      for (const n of [8, 40])
        for (let seed = 1; seed <= 6; seed++)
          for (const raw of [false, true]) {
            let last: Chunk | undefined;
            for await (const c of b.generate({
              prompt: "hello there",
              raw,
              options: { num_predict: n, seed },
            } as never))
              last = c;
            const got = last!.timing!.generated_tokens;
            seen.push(`${n}/${seed}/${raw}:${got}:${last!.done_reason}`);
            expect(got, seen.at(-1)).toBeLessThanOrEqual(n);
            if (last!.done_reason === "length") expect(got, seen.at(-1)).toBe(n);
            else expect(got, seen.at(-1)).toBeGreaterThan(0);
          }
    } finally {
      await b.close();
    }
  });

  it("names the fix for a missing model file and an unknown backend", async () => {
    await expect(createBackend({ backend: "llama", model: join(dir, "nope.gguf") })).rejects.toMatchObject({
      code: Codes.NOT_FOUND,
      message: expect.stringContaining("make-tiny-model"),
    });
    await expect(createBackend({ backend: "vllm" as never, model: "x" })).rejects.toMatchObject({
      code: Codes.CONFIG_INVALID,
    });
  });
});
