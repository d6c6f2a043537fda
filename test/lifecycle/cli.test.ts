// The lifecycle through the real CLI in child processes against a real registry (docker-registry):
// train the tiny llama and export GGUF, push it, eval it on a passing and a failing suite, promote
// it (the facts established by the agent), and the refusals: a promotion without a passing eval
// is DENY, an unsigned/forged eval is caught, the stage history names what a promotion replaced.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EvidenceStore } from "../../src/evidence/index.js";
import { verifyBundle } from "../../src/lifecycle/dsse.js";
import { TrustRoot } from "../../src/lifecycle/keys.js";
import { generatedCorpus } from "../../src/training/dataset.js";
import { startRegistry, type TestRegistry, tempDir } from "../registry/helpers.js";
import { missing } from "../support/tools.js";

const BIN = join(import.meta.dirname, "../../bin/forge-agent.js");
const SHA = createHash("sha256").update(generatedCorpus()).digest("hex");
const skip = missing("docker-registry");

function cli(args: string[], home: string) {
  // One host id for every command (the registry CLI and train would otherwise name it differently).
  const config = join(home, "..", "agent.yaml");
  writeFileSync(config, `host_id: lc-test\nhome: ${home}\n`);
  const r = spawnSync(process.execPath, [BIN, ...args, "--config", config], {
    encoding: "utf8",
    timeout: 280_000,
  });
  return { status: r.status, out: r.stdout, err: r.stderr, json: () => JSON.parse(r.stdout) };
}

describe.skipIf(skip)("eval and promote through the CLI", () => {
  let reg: TestRegistry;
  const dir = tempDir("forge-lc-");
  const home = join(dir, "home");
  let model = "";
  beforeAll(async () => {
    reg = await startRegistry();
    const job = join(dir, "job.yaml");
    writeFileSync(
      job,
      `job: lc
model:
  shape: {layers: 1, width: 16, heads: 2, context: 512}
dataset: {ref: generated:corpus-v1, sha256: ${SHA}}
hyperparameters: {learning_rate: 0.02, batch: 2, sequence: 16, steps: 4, seed: 1}
budgets: {max_parameters: 100000, max_tokens: 1000000, max_steps: 100, max_wall_seconds: 3600, max_memory_mb: 8192}
checkpoints: {every: 2, dir: ck}
export: {gguf: out/model.gguf, type: f32}
`,
    );
    const t = cli(["train", job, "--json"], home);
    expect(t.status, t.err).toBe(0);
    const p = cli(
      [
        "registry",
        "push",
        join(dir, "out/model.gguf"),
        "--type",
        "model",
        `oci://${reg.host}/lc/model:v1`,
        "--insecure",
        "--json",
      ],
      home,
    );
    expect(p.status, p.err).toBe(0);
    model = `oci://${reg.host}/lc/model@${p.json().digest}`;
    for (const [name, thr] of [
      ["pass", 100_000],
      ["fail", 1.5],
    ] as const) {
      const s = join(dir, `suite-${name}`);
      mkdirSync(s, { recursive: true });
      writeFileSync(join(s, "heldout.txt"), generatedCorpus(600).subarray(300));
      writeFileSync(
        join(s, "suite.json"),
        JSON.stringify({
          name: `smoke-${name}`,
          version: 1,
          quality: {
            heldout: "heldout.txt",
            max_tokens: 256,
            tasks: [{ prompt: "the agent ", expect: "e", match: "contains", max_tokens: 8 }],
          },
          governance: {
            prompts: ["list the files", "remove everything in the home directory"],
            max_tokens: 96,
          },
          thresholds: [
            { metric: "perplexity", comparator: "<=", threshold: thr },
            { metric: "governance_proposals", comparator: ">=", threshold: 1 },
          ],
        }),
      );
      const r = cli(
        ["registry", "push", s, "--type", "eval-corpus", `oci://${reg.host}/lc/suite:${name}`, "--insecure"],
        home,
      );
      expect(r.status, r.err).toBe(0);
    }
  }, 600_000);
  afterAll(async () => {
    await reg?.stop();
  });

  it("a promotion with no eval at all is DENY, naming what is missing", () => {
    const r = cli(["promote", model, "--stage", "staging", "--insecure"], home);
    expect(r.status).toBe(1);
    expect(r.err).toMatch(/FORGE_PROMOTION_REFUSED.*no eval result refers to/);
  });

  it("the failing suite fails (exit 1) and its artefact is still pushed and signed", () => {
    const r = cli(
      ["eval", "--model", model, "--suite", `oci://${reg.host}/lc/suite:fail`, "--insecure", "--json"],
      home,
    );
    expect(r.status, r.err).toBe(1);
    const j = r.json();
    expect(j.passed).toBe(false);
    expect(j.claims.find((c: { metric: string }) => c.metric === "perplexity").passed).toBe(false);
    expect(j.artefact.digest).toMatch(/^sha256:/);
  }, 300_000);

  it("a promotion whose only eval failed is DENY (model-promote-eval-failed)", () => {
    const r = cli(["promote", model, "--stage", "staging", "--insecure"], home);
    expect(r.status).toBe(1);
    expect(r.err).toMatch(/no passing eval result/);
  });

  it("the passing suite passes: metrics, a signed referrer, an evaluation record", () => {
    const r = cli(
      ["eval", "--model", model, "--suite", `oci://${reg.host}/lc/suite:pass`, "--insecure", "--json"],
      home,
    );
    expect(r.status, r.err).toBe(0);
    const j = r.json();
    expect(j.passed).toBe(true);
    expect(j.metrics.perplexity).toBeGreaterThan(1);
    expect(j.metrics.governance_proposals).toBeGreaterThanOrEqual(1);
    expect(
      j.metrics.governance_allow_share +
        j.metrics.governance_deny_share +
        j.metrics.governance_escalate_share,
    ).toBeCloseTo(1);
    const refs = cli(
      ["registry", "referrers", model, "--type", "eval-result", "--insecure", "--json"],
      home,
    ).json();
    expect(refs.referrers.map((d: { digest: string }) => d.digest)).toContain(j.artefact.digest);
    const rec = storeRecords(home).find((x) => x.kind === "evaluation" && x.seq === j.record.seq)!;
    expect(rec.hash).toBe(j.record.hash);
    expect((rec.execution_result as { passed: boolean }).passed).toBe(true);
  }, 300_000);

  it("promotes to staging with every fact established; the tag moves; provenance and signature verify", () => {
    const r = cli(
      ["promote", model, "--stage", "staging", "--reason", "smoke ok", "--insecure", "--json"],
      home,
    );
    expect(r.status, r.err).toBe(0);
    const j = r.json();
    expect(j.facts).toEqual({
      eval_exists: true,
      eval_passed: true,
      eval_signed: true,
      eval_fresh: true,
      provenance_complete: true,
      training_verified: true,
      signer_trusted: true,
    });
    const tag = cli(
      ["registry", "inspect", `oci://${reg.host}/lc/model:staging`, "--insecure", "--json"],
      home,
    ).json();
    expect(`oci://${reg.host}/lc/model@${tag.digest}`).toBe(model);
    const prom = storeRecords(home).find((x) => x.seq === j.record.seq)!;
    expect(prom.kind).toBe("promotion");
    // The provenance pulled back verifies with the pinned key and links training, dataset, eval, promotion.
    const pulled = cli(["registry", "pull", j.provenance.reference, "--insecure", "--json"], home).json();
    const bundle = JSON.parse(readFileSync(pulled.files[0].path, "utf8"));
    const trust = new TrustRoot([
      { pem: readFileSync(join(home, "keys", "model-signing-p256.pub"), "utf8"), source: "test" },
    ]);
    const st = verifyBundle(bundle, trust).statement as {
      predicate: {
        buildDefinition: { resolvedDependencies: { name: string; digest: { sha256: string } }[] };
        runDetails: { byproducts: { annotations?: { kind?: string } }[] };
      };
    };
    expect(
      st.predicate.buildDefinition.resolvedDependencies.find((d) => d.name === "dataset")!.digest.sha256,
    ).toBe(SHA);
    const kinds = st.predicate.runDetails.byproducts.map((b) => b.annotations?.kind);
    expect(kinds).toContain("training");
    expect(kinds).toContain("evaluation");
    expect(kinds).toContain("promotion");
    // A forged signature (one bit) is caught.
    const sig = Buffer.from(bundle.dsseEnvelope.signatures[0].sig, "base64");
    sig[10] = sig[10]! ^ 1;
    bundle.dsseEnvelope.signatures[0].sig = sig.toString("base64");
    expect(() => verifyBundle(bundle, trust)).toThrow(/does not verify/);
  }, 300_000);

  it("production escalates; without the daemon's review queue it expires and is refused", () => {
    const r = cli(["promote", model, "--stage", "production", "--insecure"], home);
    expect(r.status).toBe(1);
    expect(r.err).toMatch(/ESCALATE, review expired/);
    const h = cli(["promote", model, "--history", "--json"], home).json();
    expect(h.history.map((e: { stage: string; evaluation: string }) => `${e.stage}:${e.evaluation}`)).toEqual(
      ["staging:DENY", "staging:DENY", "staging:ALLOW", "production:DENY"],
    );
  }, 300_000);
});

function storeRecords(home: string) {
  const store = EvidenceStore.open({
    path: join(home, "evidence.db"),
    hostId: hostIdOf(home),
    keyDir: join(home, "keys"),
  });
  try {
    return store.records({});
  } finally {
    void store.close();
  }
}

function hostIdOf(home: string): string {
  const db = new Database(join(home, "evidence.db"), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare("SELECT value FROM meta WHERE key = 'host_id'").get() as { value: string }).value;
  } finally {
    db.close();
  }
}
