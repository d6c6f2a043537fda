// A registry dataset for real: docker-registry, the CLI in a child process. `dataset: oci://…@sha256:…`
// is judged as a `model.pull`, pulled verified and checked against the job's sha256 pin; the start
// record cites the manifest it came from. A wrong pin, an unpinned tag and a model where a dataset
// is expected each stop the job before any step.
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cacheOf, openClient, pushArtifact } from "../../src/registry/index.js";
import { generatedCorpus, registryResolver } from "../../src/training/dataset.js";
import { ensureBuilt } from "../fleet/helpers.js";
import { startRegistry, type TestRegistry, tempDir } from "../registry/helpers.js";
import { missing } from "../support/tools.js";

const BIN = join(import.meta.dirname, "../../bin/forge-agent.js");
const CORPUS = generatedCorpus(8 * 1024);
const SHA = createHash("sha256").update(CORPUS).digest("hex");

function jobYaml(name: string, ref: string, sha = SHA): string {
  return `job: ${name}
model:
  shape: {layers: 1, width: 16, heads: 2, context: 16}
dataset: {ref: "${ref}", sha256: "${sha}"}
hyperparameters: {learning_rate: 0.01, batch: 2, sequence: 8, steps: 2, seed: 1}
budgets: {max_parameters: 100000, max_tokens: 1000000, max_steps: 100, max_wall_seconds: 3600, max_memory_mb: 8192}
checkpoints: {every: 2, dir: ck-${name}}
`;
}

function trainingRecords(home: string): { execution_result: Record<string, unknown> }[] {
  const db = new Database(join(home, "evidence.db"), { readonly: true, fileMustExist: true });
  try {
    return (
      db.prepare("SELECT body FROM records WHERE kind = 'training' ORDER BY seq").all() as { body: string }[]
    ).map((r) => JSON.parse(r.body));
  } finally {
    db.close();
  }
}

describe.skipIf(missing("docker-registry"))("training from a registry dataset", () => {
  const dir = tempDir("forge-train-reg-");
  let reg: TestRegistry;
  let pinned = "";
  let manifest = "";
  let modelRef = "";

  beforeAll(async () => {
    ensureBuilt();
    reg = await startRegistry();
    const c = openClient(reg.host, { home: tempDir(), insecure: true, credentials: () => null });
    const d = await pushArtifact(c, {
      repository: "train/corpus",
      tag: "v1",
      kind: "dataset",
      files: [{ name: "corpus.txt", bytes: CORPUS }],
    });
    manifest = d.digest;
    pinned = `oci://${reg.host}/train/corpus@${d.digest}`;
    const m = await pushArtifact(c, {
      repository: "train/corpus",
      tag: "model",
      kind: "model",
      files: [{ name: "w.gguf", bytes: randomBytes(64) }],
    });
    modelRef = `oci://${reg.host}/train/corpus@${m.digest}`;
  }, 60_000);
  afterAll(async () => {
    await reg?.stop();
  });

  const train = (name: string, yaml: string) => {
    const job = join(dir, `${name}.yaml`);
    writeFileSync(job, yaml);
    const home = join(dir, `home-${name}`);
    const r = spawnSync(process.execPath, [BIN, "train", job, "--home", home, "--json", "--insecure"], {
      encoding: "utf8",
      timeout: 120_000,
    });
    return { status: r.status, err: r.stderr, json: () => JSON.parse(r.stdout), home };
  };

  it("pulls the pinned dataset verified, trains on it and cites its manifest in the start record", () => {
    const r = train("pinned", jobYaml("pinned", pinned));
    expect(r.status, r.err).toBe(0);
    expect(r.json().state).toBe("DONE");
    const start = trainingRecords(r.home).find((x) => x.execution_result.event === "start")!;
    expect(start.execution_result.dataset).toEqual({
      ref: pinned,
      sha256: SHA,
      source: {
        reference: pinned,
        manifest_digest: manifest,
        files: [{ name: "corpus.txt", digest: `sha256:${SHA}`, size: CORPUS.length }],
        pull: { evaluation: "ALLOW", reasons: expect.any(Array) },
      },
    });
  }, 120_000);

  it("bytes that do not match the job's sha256 fail the job before any step", () => {
    const r = train("wrongpin", jobYaml("wrongpin", pinned, "0".repeat(64)));
    expect(r.status).toBe(1);
    const j = r.json();
    expect(j.state).toBe("FAILED");
    expect(j.steps).toBe(0);
    expect(j.error.code).toBe("FORGE_DATASET_UNAVAILABLE");
    expect(j.error.message).toContain(`has sha256 ${SHA}, the job pins ${"0".repeat(64)}`);
  }, 120_000);

  it("a tag instead of a digest is refused by the resolver (FORGE_REF_INVALID), nothing trained", () => {
    // The gate sees the bytes pinned (sha256) and allows; the registry name must be pinned too.
    const r = train("tagged", jobYaml("tagged", `oci://${reg.host}/train/corpus:v1`));
    expect(r.status).toBe(1);
    const j = r.json();
    expect(j.state).toBe("FAILED");
    expect(j.steps).toBe(0);
    expect(j.error.code).toBe("FORGE_REF_INVALID");
    expect(j.error.message).toMatch(/not pinned/);
  }, 120_000);

  it("a model where a dataset is expected is refused after the gate, nothing trained", () => {
    const r = train("notdata", jobYaml("notdata", modelRef));
    expect(r.status).toBe(1);
    const j = r.json();
    expect(j.state).toBe("FAILED");
    expect(j.error.code).toBe("FORGE_ARTIFACT_INVALID");
    expect(trainingRecords(r.home).map((x) => x.execution_result.event)).toEqual(["end"]);
  }, 120_000);

  it("a pull the judge does not ALLOW is never fetched (FORGE_FORBIDDEN)", async () => {
    const home = tempDir();
    const resolver = registryResolver({
      client: (h) => openClient(h, { home, insecure: true, credentials: () => null }),
      judge: async () => ({ evaluation: "ESCALATE", reasons: ["needs review"] }),
    });
    await expect(resolver.resolve(pinned, dir)).rejects.toMatchObject({ code: "FORGE_FORBIDDEN" });
    // The corpus layer was never fetched: only the judge's metadata reached the cache.
    expect(await cacheOf(home).has(`sha256:${SHA}`)).toBe(false);
    // The same resolver with an ALLOW pulls it, verified.
    const allow = registryResolver({
      client: (h) => openClient(h, { home, insecure: true, credentials: () => null }),
      judge: async () => ({ evaluation: "ALLOW", reasons: [] }),
    });
    const got = await allow.resolve(pinned, dir);
    expect(got.bytes.equals(CORPUS)).toBe(true);
    expect(await cacheOf(home).has(`sha256:${SHA}`)).toBe(true);
  });
});
