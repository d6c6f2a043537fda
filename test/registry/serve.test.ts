// Pull-to-use through the gate's judge: models, datasets (pinned only), signatures seen through
// referrers, and nothing fetched when the judge says no.
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ModelPullProposal,
  openClient,
  pushArtifact,
  resolveDataset,
  resolveServableModel,
} from "../../src/registry/index.js";
import { missing } from "../support/tools.js";
import { startRegistry, type TestRegistry, tempDir } from "./helpers.js";

describe.skipIf(missing("docker-registry"))("pull-to-use through the judge", () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(async () => {
    await reg?.stop();
  });
  const deps = (home: string, verdict: "ALLOW" | "DENY", seen: ModelPullProposal[]) => ({
    client: (r: string) => openClient(r, { home, insecure: true, credentials: () => null }),
    judge: async (a: ModelPullProposal) => {
      seen.push(a);
      return { evaluation: verdict, reasons: [`test ${verdict}`], action_id: "a1" };
    },
  });

  it("serves a model: judge first (pinned? signed?), then a verified GGUF link", async () => {
    const home = tempDir("forge-home-");
    const c = openClient(reg.host, { home, insecure: true, credentials: () => null });
    const weights = Buffer.concat([Buffer.from("GGUF"), randomBytes(5000)]);
    const m = await pushArtifact(c, {
      repository: "serve/m",
      tag: "v1",
      kind: "model",
      files: [
        { name: "w.gguf", bytes: weights },
        { name: "README.md", bytes: Buffer.from("x") },
      ],
    });
    const seen: ModelPullProposal[] = [];
    const h2 = tempDir("forge-home-");
    const s = await resolveServableModel(`oci://${reg.host}/serve/m:v1`, {
      ...deps(h2, "ALLOW", seen),
      modelsDir: join(h2, "models"),
    });
    expect(readFileSync(s.path).equals(weights)).toBe(true);
    expect(s.digest).toBe(m.digest);
    expect(seen[0]).toMatchObject({
      kind: "model.pull",
      pinned: false,
      signed: false,
      purpose: "serve",
      digest: m.digest,
    });
    // A signature referrer makes it signed; pinning by digest makes it pinned.
    await pushArtifact(c, {
      repository: "serve/m",
      kind: "signature",
      subject: { mediaType: m.mediaType, digest: m.digest, size: m.size },
      files: [{ name: "sig.json", bytes: Buffer.from("{}") }],
    });
    await resolveServableModel(`oci://${reg.host}/serve/m@${m.digest}`, {
      ...deps(h2, "ALLOW", seen),
      modelsDir: join(h2, "models"),
    });
    expect(seen[1]).toMatchObject({ pinned: true, signed: true });
  });

  it("fetches nothing when the judge does not allow", async () => {
    const home = tempDir("forge-home-");
    const c = openClient(reg.host, { home, insecure: true, credentials: () => null });
    await pushArtifact(c, {
      repository: "serve/denied",
      tag: "v1",
      kind: "model",
      files: [{ name: "w.gguf", bytes: randomBytes(3000) }],
    });
    const h2 = tempDir("forge-home-");
    await expect(
      resolveServableModel(`oci://${reg.host}/serve/denied:v1`, {
        ...deps(h2, "DENY", []),
        modelsDir: join(h2, "models"),
      }),
    ).rejects.toMatchObject({
      code: "FORGE_FORBIDDEN",
      message: expect.stringMatching(/answered DENY.*test DENY/),
    });
    const blobs = join(h2, "blobs", "sha256");
    // Only the manifest (metadata the judge needed) is cached, never a layer.
    expect(existsSync(blobs) ? readdirSync(blobs).length : 0).toBeLessThanOrEqual(1);
  });

  it("resolves a dataset only by digest, and refuses a model where a dataset is expected", async () => {
    const home = tempDir("forge-home-");
    const c = openClient(reg.host, { home, insecure: true, credentials: () => null });
    const rows = Buffer.from('{"text":"a"}\n{"text":"b"}\n');
    const d = await pushArtifact(c, {
      repository: "serve/data",
      tag: "v1",
      kind: "dataset",
      files: [{ name: "train.jsonl", bytes: rows }],
    });
    const r = await resolveDataset(
      `oci://${reg.host}/serve/data@${d.digest}`,
      deps(tempDir("forge-home-"), "ALLOW", []),
    );
    expect(r.digest).toBe(d.digest);
    expect(readFileSync(r.files[0]!.path).equals(rows)).toBe(true);
    await expect(
      resolveDataset(`oci://${reg.host}/serve/data:v1`, deps(home, "ALLOW", [])),
    ).rejects.toMatchObject({ code: "FORGE_REF_INVALID" });
    const m = await pushArtifact(c, {
      repository: "serve/data",
      tag: "m",
      kind: "model",
      files: [{ name: "w.gguf", bytes: randomBytes(10) }],
    });
    await expect(
      resolveDataset(`oci://${reg.host}/serve/data@${m.digest}`, deps(home, "ALLOW", [])),
    ).rejects.toMatchObject({ code: "FORGE_ARTIFACT_INVALID" });
  });
});
