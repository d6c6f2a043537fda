// Training through the daemon: with an agent answering on the socket, `forge-agent train` (a child
// process) runs the job in the agent, and an `escalate` anomaly waits in the agent's review queue
// like any action: a reviewer approves (the batch trains, the job goes on) or denies (HALTED), both
// recorded with the reviewer in `principal_review`; the job's records are in the agent's chain.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultPolicyPath } from "../../src/gate/index.js";
import { generatedCorpus } from "../../src/training/dataset.js";
import { reviewAs, reviewHeaders, startTestAgent, type TestAgent } from "../agent/helpers.js";
import { ensureBuilt, tempDir } from "../fleet/helpers.js";
import { until } from "../support/wait.js";

const BIN = join(import.meta.dirname, "../../bin/forge-agent.js");
const SHA = createHash("sha256").update(generatedCorpus()).digest("hex");

const jobYaml = (name: string) => `job: ${name}
model:
  shape: {layers: 1, width: 16, heads: 2, context: 16}
dataset: {ref: generated:corpus-v1, sha256: "${SHA}"}
hyperparameters: {learning_rate: 0.01, batch: 2, sequence: 8, steps: 4, seed: 1}
budgets: {max_parameters: 100000, max_tokens: 100000, max_steps: 100, max_wall_seconds: 3600, max_memory_mb: 8192}
anomaly:
  spike: {factor: 10, window: 20, warmup: 2, action: escalate}
checkpoints: {every: 4, dir: ck-${name}}
inject: [{step: 3, kind: spike, factor: 1000}]
`;

describe("forge-agent train through the daemon's review queue", () => {
  const dir = tempDir("fa-train-daemon-");
  let t: TestAgent;
  beforeAll(async () => {
    ensureBuilt();
    t = await startTestAgent(
      { policy: defaultPolicyPath(), review: { deadline_ms: 60_000 } },
      tempDir("fa-td-"),
    );
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  const train = (name: string) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, jobYaml(name));
    const child = spawn(process.execPath, [BIN, "train", file, "--home", t.agent.config.home, "--json"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout!.on("data", (b) => (out += b));
    child.stderr!.on("data", (b) => (err += b));
    const done = new Promise<{ code: number | null; out: string; err: string }>((r) =>
      child.once("exit", (code) => r({ code, out, err })),
    );
    return { done };
  };
  const pending = (job: string) =>
    until(
      async () => {
        const r = (await t.client.call("GET", "/v1/reviews", undefined, reviewHeaders(t))).body.reviews as {
          action_id: string;
          session_id: string;
          reasons: string[];
        }[];
        return r.find((x) => x.session_id === `training-review:${job}`);
      },
      `the anomaly review of ${job}`,
      60_000,
    );
  const trace = async (session: string) =>
    (await t.client.get(`/v1/sessions/${session}/trace`)).body.steps as {
      kind: string;
      execution_result: Record<string, unknown> | null;
      principal_review: { decision: string; reviewer: string } | null;
    }[];

  it("an escalate anomaly waits for a reviewer; approve trains the batch and the job finishes DONE", async () => {
    const run = train("approved");
    const review = await pending("approved");
    expect(review.reasons.join(" ")).toMatch(/training anomaly: spike at step 3/);
    const r = await reviewAs(t, review.action_id, "approve", "a drill: go on");
    expect(r.code, r.stderr).toBe(0);
    const { code, out, err } = await run.done;
    expect(code, err).toBe(0);
    const j = JSON.parse(out);
    expect(j.state).toBe("DONE");
    expect(j.steps).toBe(4);
    expect(j.anomalies).toEqual([
      { step: 3, rule: "spike", loss: expect.any(Number), action: "escalate", outcome: "approved" },
    ]);
    // The job's records are in the agent's chain; the anomaly record names the human reviewer.
    const steps = await trace(j.session_id);
    const anomaly = steps.find((s) => s.execution_result?.event === "anomaly")!;
    expect(anomaly.principal_review).toMatchObject({ decision: "approve" });
    expect(anomaly.principal_review!.reviewer).not.toBe("system");
    expect(steps.map((s) => s.execution_result?.event)).toEqual(["start", "anomaly", "checkpoint", "end"]);
  }, 180_000);

  it("deny halts the job at the anomaly: no gradient for that batch", async () => {
    const run = train("denied");
    const review = await pending("denied");
    expect((await reviewAs(t, review.action_id, "deny", "not this batch")).code).toBe(0);
    const { code, out } = await run.done;
    expect(code).toBe(1);
    const j = JSON.parse(out);
    expect(j).toMatchObject({ state: "HALTED", steps: 3, halted_by: { anomaly: "spike" } });
    expect(j.anomalies[0].outcome).toBe("denied");
    const anomaly = (await trace(j.session_id)).find((s) => s.execution_result?.event === "anomaly")!;
    expect(anomaly.principal_review).toMatchObject({ decision: "deny" });
  }, 180_000);
});
