// The shipped examples (examples/training/*.yaml): each parses, pins the generated corpus by its
// real sha256, is ALLOWed by the default pack and passes the pre-launch budget check; anomaly.yaml
// does on a real run what its comments say: the NaN batch at step 12 is skipped, the spike at step
// 30 halts the job (its checkpoints go to a temporary directory, not the repository's var/).
import { createHash } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EvidenceStore } from "../../src/evidence/index.js";
import type { Gate } from "../../src/gate/index.js";
import { preflight } from "../../src/training/budgets.js";
import { generatedCorpus } from "../../src/training/dataset.js";
import { runJob, trainingAction } from "../../src/training/job.js";
import { type Job, loadJob, parameterCount } from "../../src/training/spec.js";
import { makeTrainer } from "../../src/training/trainers.js";
import { REPO } from "../agent/helpers.js";
import { tempHome } from "../evidence/helpers.js";
import { governed, review } from "./helpers.js";

const EXAMPLES = join(REPO, "examples", "training");
const CORPUS_SHA = createHash("sha256").update(generatedCorpus()).digest("hex");

describe("examples/training", () => {
  const home = tempHome();
  let store: EvidenceStore;
  let gate: Gate;
  beforeAll(async () => {
    ({ gate, store } = await governed(home));
  });
  afterAll(async () => {
    await store.close();
    home.cleanup();
  });

  for (const name of ["tiny.yaml", "anomaly.yaml"])
    it(`${name} parses, pins the generated corpus, is ALLOWed and fits its own budgets`, () => {
      const { spec } = loadJob(join(EXAMPLES, name));
      expect(spec.dataset).toMatchObject({ ref: "generated:corpus-v1", sha256: CORPUS_SHA });
      expect(spec.trainer).toBe("embedded");
      const parameters = parameterCount({ ...spec.model.shape!, vocab: 259 });
      const d = gate.evaluate({
        session_id: "ex",
        principal: null,
        action: trainingAction(spec, parameters),
      });
      expect(d.evaluation, d.reasons.join("; ")).toBe("ALLOW");
      expect(
        preflight(spec, { parameters, model_memory_mb: (parameters * 16) / 1e6, hasPowerRails: false }),
      ).toEqual([]);
    });

  it("anomaly.yaml: the NaN at step 12 is skipped, the spike at step 30 halts the job", async () => {
    const ex = loadJob(join(EXAMPLES, "anomaly.yaml"));
    const spec = structuredClone(ex.spec);
    spec.checkpoints.dir = join(home.dir, "ck-anomaly");
    const job: Job = { ...ex, spec };
    const r = await runJob({
      job,
      resume: false,
      store,
      gate,
      reviewer: { review: async () => review("deny"), reviewStart: async () => review("deny") },
      makeTrainer,
    });
    expect(r.state, JSON.stringify(r.error)).toBe("HALTED");
    expect(r.evaluation).toBe("ALLOW");
    expect(r.halted_by).toEqual({ anomaly: "spike" });
    expect(r.steps).toBe(30);
    expect(r.anomalies.map((a) => `${a.rule}@${a.step}:${a.outcome}`)).toEqual([
      "non_finite@12:skipped",
      "spike@30:halted",
    ]);
    expect(r.checkpoints.map((c) => c.step)).toEqual([20]);
    const events = store
      .records({ session_id: r.session_id })
      .map((x) => (x.execution_result as { event: string }).event);
    expect(events).toEqual(["start", "anomaly", "checkpoint", "anomaly", "halt", "end"]);
  }, 300_000);
});
