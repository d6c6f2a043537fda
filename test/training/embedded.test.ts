import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { batchFor, generatedCorpus } from "../../src/training/dataset.js";
import { createEmbeddedTrainer, type EmbeddedTrainer } from "../../src/training/embedded.js";

const SHAPE = { layers: 1, width: 16, heads: 2, context: 16, vocab: 259 as const };
const data = new Uint8Array(generatedCorpus(4096));
const batch = (step: number) => batchFor(data, step, 2, 8, 1);

describe("embedded trainer (tfjs wasm)", () => {
  let tr: EmbeddedTrainer;
  beforeAll(async () => {
    tr = await createEmbeddedTrainer(SHAPE, 7);
  });
  afterAll(() => tr.close());

  it("a committed step computes one gradient and changes the weights", async () => {
    const before = await tr.weightsDigest();
    const loss = await tr.forward(batch(1), () => "backward");
    // Untrained on 259 tokens: about ln(259) = 5.56.
    expect(loss).toBeGreaterThan(4);
    expect(loss).toBeLessThan(7);
    const { grad_norm } = await tr.commit(1e-2);
    expect(grad_norm).toBeGreaterThan(0);
    expect(tr.gradients).toBe(1);
    expect(await tr.weightsDigest()).not.toBe(before);
  });

  it("a held forward computes no gradient, leaves the weights byte-identical and leaks no tensor", async () => {
    const before = await tr.weightsDigest();
    const grads = tr.gradients;
    const tensors = tf.memory().numTensors;
    const loss = await tr.forward(batch(2), () => "hold");
    await tr.reject();
    expect(Number.isFinite(loss)).toBe(true);
    expect(tr.gradients).toBe(grads);
    expect(await tr.weightsDigest()).toBe(before);
    expect(tf.memory().numTensors).toBe(tensors);
    // And a committed step leaks nothing either.
    await tr.forward(batch(3), () => "backward");
    await tr.commit(1e-2);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it("a poisoned batch yields a NaN loss from the real forward pass", async () => {
    const loss = await tr.forward({ ...batch(4), poison: Number.NaN }, () => "hold");
    expect(Number.isNaN(loss)).toBe(true);
    await tr.reject();
  });

  it("training lowers the loss on the generated corpus", async () => {
    const t = await createEmbeddedTrainer(SHAPE, 3);
    const first = await t.forward(batch(100), () => "hold");
    for (let s = 0; s < 30; s++) {
      await t.forward(batch(s), () => "backward");
      await t.commit(3e-2);
    }
    const last = await t.forward(batch(100), () => "hold");
    expect(last).toBeLessThan(first - 1);
    await t.close();
  });

  it("save then load restores weights and optimizer state exactly", async () => {
    const dir = mkdtempSync(join(tmpdir(), "forge-emb-"));
    await tr.save(dir);
    const digest = await tr.weightsDigest();
    const other = await createEmbeddedTrainer(SHAPE, 99);
    expect(await other.weightsDigest()).not.toBe(digest);
    await other.load(dir);
    expect(await other.weightsDigest()).toBe(digest);
    // Same next step from the same state: same weights after.
    await tr.forward(batch(9), () => "backward");
    await tr.commit(1e-2);
    await other.forward(batch(9), () => "backward");
    await other.commit(1e-2);
    expect(await other.weightsDigest()).toBe(await tr.weightsDigest());
    await other.close();
  });
});
