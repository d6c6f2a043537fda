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
