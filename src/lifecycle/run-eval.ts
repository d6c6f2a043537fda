/**
 * `forge-agent eval`: pull the model and the suite (each a `model.pull` judged by the gate: the
 * evaluation's authority), evaluate, sign the eval-result statement, push it as a referrer of the
 * model, and write one `evaluation` record (intent: model + suite; authority: the gate's decision;
 * execution and outcome: metrics, claims, verdict, the artefact's digest).
 */
import { readFile } from "node:fs/promises";
import { Codes, ForgeError } from "../errors.js";
import { toPolicyMatched } from "../gate/index.js";
import { nowRfc3339, type StoredRecord } from "../protocol/record.js";
import { describeRef, KINDS, parseReference, pullArtifact, requireAllow } from "../registry/index.js";
import type { LifecycleContext } from "./context.js";
import { type EvalOutcome, evaluate } from "./evaluate.js";
import { pullModel, pushSignedReferrer } from "./model.js";
import { type EvalResultPredicate, evalStatement } from "./statement.js";
import { parseSuite, SUITE_FILE } from "./suite.js";

export const EVAL_RESULT_FILE = "eval-result.sigstore.json";

export interface EvalReport {
  model: { reference: string; digest: string; weights: string };
  suite: { reference: string; digest: string; name: string; version: number };
  passed: boolean;
  claims: EvalOutcome["claims"];
  metrics: Record<string, number>;
  proposals: EvalOutcome["proposals"];
  tasks: EvalOutcome["tasks"];
  artefact: { digest: string; reference: string; statement_sha256: string };
  record: { host_id: string; seq: number; hash: string; action_id: string };
  timings: EvalResultPredicate["timings"];
  engine: EvalOutcome["engine"];
  seed: number;
}

export async function runEval(
  modelRef: string,
  suiteRef: string,
  ctx: LifecycleContext,
): Promise<EvalReport> {
  const started = ctx.now();
  const mref = parseReference(modelRef);
  const sref = parseReference(suiteRef);
  const gate = ctx.gate();
  const action_id = `eval-${started}-${Math.random().toString(16).slice(2, 10)}`;
  const session_id = "lifecycle-eval";
  // Authority: both pulls are judged; the record carries the model's decision (and the suite's).
  const modelPull = await describeRef(ctx.client(mref.registry), mref, "pull");
  const suitePull = await describeRef(ctx.client(sref.registry), sref, "pull");
  const dm = gate.evaluate({ session_id, action: { ...modelPull, artifact_type: KINDS.model.artifactType } });
  const ds = gate.evaluate({
    session_id,
    action: { ...suitePull, artifact_type: KINDS["eval-corpus"].artifactType },
  });
  const intent = {
    kind: "evaluation",
    model: { reference: modelPull.ref, digest: modelPull.digest },
    suite: { reference: suitePull.ref, digest: suitePull.digest },
  };
  const worst = [dm, ds].find((d) => d.evaluation !== "ALLOW") ?? dm;
  const base = {
    kind: "evaluation" as const,
    session_id,
    action_id,
    prompt_hash: null,
    proposed_action: intent,
    evaluation: worst.evaluation,
    policy_matched: toPolicyMatched(worst),
    composition_state: worst.composition_state,
    principal_review: null,
    latency_ms: dm.latency_ms + ds.latency_ms,
    principal: ctx.principal,
  };
  if (worst.evaluation !== "ALLOW") {
    await ctx.append({ ...base, timestamp: nowRfc3339(), execution_result: null });
    requireAllow(
      { evaluation: worst.evaluation, reasons: worst.reasons, action_id },
      "the evaluation's pulls",
    );
  }
  let rec: StoredRecord;
  try {
    const model = await pullModel(modelPull.ref, ctx.client);
    const sclient = ctx.client(sref.registry);
    const suiteArt = await pullArtifact(sclient, sref.repository, suitePull.digest!);
    if (suiteArt.kind !== "eval-corpus")
      throw new ForgeError(
        Codes.EVAL_INVALID,
        `${suiteRef} is not an eval corpus (push it with --type eval-corpus)`,
      );
    const suiteFile = suiteArt.files.find((f) => f.name === SUITE_FILE);
    if (!suiteFile) throw new ForgeError(Codes.EVAL_INVALID, `${suiteRef} has no ${SUITE_FILE}`);
    const suite = parseSuite(await readFile(suiteFile.path, "utf8"), suiteRef);
    let heldout: Buffer | null = null;
    if (suite.quality.heldout) {
      const f = suiteArt.files.find((x) => x.name === suite.quality.heldout);
      if (!f)
        throw new ForgeError(
          Codes.EVAL_INVALID,
          `${suiteRef}: quality.heldout names '${suite.quality.heldout}', which the artifact does not hold`,
        );
      heldout = await readFile(f.path);
    }
    const out = await evaluate(model.weights.path, suite, heldout, gate);
    const finished = ctx.now();
    const predicate: EvalResultPredicate = {
      harness: { name: "forge-agent eval", version: "1" },
      assuranceLevel: "self_attested",
      model: { reference: model.pinned, digest: model.digest, weights: model.weights.digest },
      suite: {
        reference: `oci://${sref.registry}/${sref.repository}@${suiteArt.digest}`,
        digest: suiteArt.digest,
        name: suite.name,
        version: suite.version,
      },
      claims: out.claims,
      passed: out.passed,
      metrics: out.metrics,
      engine: out.engine,
      seed: suite.seed,
      timings: {
        started: nowRfc3339(started),
        finished: nowRfc3339(finished),
        total_ms: finished - started,
        ...out.timings,
      },
      host_id: ctx.hostId,
    };
    const statement = evalStatement(model.ref.repository, model.digest, predicate);
    const artefact = await pushSignedReferrer(model, ctx.signer, {
      kind: "eval-result",
      file: EVAL_RESULT_FILE,
      statement,
      annotations: {
        "dev.forge-agent.eval.passed": String(out.passed),
        "dev.forge-agent.eval.suite": predicate.suite.reference,
        "dev.forge-agent.host-id": ctx.hostId,
        "dev.forge-agent.action-id": action_id,
      },
    });
    rec = await ctx.append({
      ...base,
      timestamp: nowRfc3339(),
      execution_result: {
        status: "succeeded",
        passed: out.passed,
        claims: out.claims,
        metrics: out.metrics,
        samples: out.samples,
        artefact,
        weights: model.weights.digest,
        engine: out.engine,
        seed: suite.seed,
        timings: predicate.timings,
      },
    });
    return {
      model: predicate.model,
      suite: predicate.suite,
      passed: out.passed,
      claims: out.claims,
      metrics: out.metrics,
      proposals: out.proposals,
      tasks: out.tasks,
      artefact,
      record: { host_id: rec.host_id, seq: rec.seq, hash: rec.hash, action_id },
      timings: predicate.timings,
      engine: out.engine,
      seed: suite.seed,
    };
  } catch (err) {
    const e = err as ForgeError;
    await ctx.append({
      ...base,
      timestamp: nowRfc3339(),
      execution_result: { status: "failed", error: { code: e.code ?? Codes.INTERNAL, message: e.message } },
    });
    throw err;
  }
}
