/**
 * The facts a promotion or a serving decision is made on, established here from the registry
 * (signed referrers of the exact digest) and the evidence chain, never from what a caller says.
 */
import { readFile } from "node:fs/promises";
import type { StoredRecord } from "../protocol/record.js";
import { KINDS, pullArtifact } from "../registry/index.js";
import type { LifecycleContext } from "./context.js";
import { verifyBundle } from "./dsse.js";
import { baseMissing, type TrainingBase, trainingSession } from "./lineage.js";
import type { PulledModel } from "./model.js";
import {
  EVAL_RESULT_PREDICATE,
  type EvalResultPredicate,
  MODEL_SIGNING_PREDICATE,
  type ProvenancePredicate,
  type RecordLink,
  SLSA_PROVENANCE_PREDICATE,
  type Statement,
} from "./statement.js";

export interface SignedReferrer<P> {
  digest: string;
  statement: Statement<P>;
  signer: string;
}

export interface ReferrerScan<P> {
  /** Referrers of the kind found at all. */
  found: number;
  /** Those whose signature verifies with a trusted key and whose subject is this digest. */
  verified: SignedReferrer<P>[];
  /** Why the others were refused. */
  refused: { digest: string; reason: string }[];
  /** Some referrer was signed by a key outside the trust root. */
  untrusted: boolean;
}

/** Pulls every referrer of `kind`, verifies its bundle, and keeps those about this exact digest. */
export async function signedReferrers<P>(
  model: PulledModel,
  kind: "eval-result" | "provenance" | "signature",
  predicateType: string,
  ctx: LifecycleContext,
): Promise<ReferrerScan<P>> {
  const list = await model.client.referrers(model.ref.repository, model.digest, KINDS[kind].artifactType);
  const out: ReferrerScan<P> = { found: list.length, verified: [], refused: [], untrusted: false };
  for (const d of list) {
    try {
      const art = await pullArtifact(model.client, model.ref.repository, d.digest);
      const f = art.files[0];
      if (!f) throw new Error("no layer");
      const v = verifyBundle(JSON.parse(await readFile(f.path, "utf8")), ctx.trust);
      const s = v.statement as Statement<P>;
      const subject = `sha256:${s.subject[0]?.digest.sha256 ?? ""}`;
      if (s.predicateType !== predicateType)
        throw new Error(`predicate ${s.predicateType}, expected ${predicateType}`);
      // The model-signing subject is the root over the files; the others name the manifest digest.
      if (kind !== "signature" && subject !== model.digest)
        throw new Error(`its subject is ${subject}, not ${model.digest}`);
      out.verified.push({ digest: d.digest, statement: s, signer: v.signer });
    } catch (err) {
      const reason = (err as Error).message;
      if (/not among the trusted keys/.test(reason)) out.untrusted = true;
      out.refused.push({ digest: d.digest, reason });
    }
  }
  return out;
}

export interface TrainingLinks {
  session_id: string;
  started: string | null;
  records: RecordLink[];
  end: StoredRecord;
  dataset: { ref: string; sha256: string };
  checkpoints: { step: number; digest: string }[];
  anomalies: unknown[];
  /** The job's `model.base` as written, and its digest from the start record (null from scratch). */
  base_ref: string | null;
  base: TrainingBase | null;
  verified: boolean;
  problems: string[];
}

/**
 * The training run that produced `weightsHex` (its `end` record names the exported GGUF's sha256),
 * with every record of its session re-hashed and linked to its predecessor in the chain.
 */
export function trainingFor(weightsHex: string, all: readonly StoredRecord[]): TrainingLinks | null {
  const run = trainingSession(weightsHex, all);
  if (!run) return null;
  return {
    session_id: run.end.session_id,
    started: run.records[0]?.timestamp ?? null,
    records: run.records.map((r) => ({
      host_id: r.host_id,
      seq: r.seq,
      hash: r.hash,
      kind: r.kind,
      action_id: r.action_id,
    })),
    end: run.end,
    dataset: { ref: run.dataset?.ref ?? "", sha256: run.dataset?.sha256 ?? "" },
    checkpoints: run.checkpoints,
    anomalies: run.anomalies,
    base_ref: run.base_ref,
    base: run.base,
    verified: run.problems.length === 0,
    problems: run.problems,
  };
}

/** This host's records: the local chain, plus what the collector holds of it once pruned here (by seq). */
export async function hostRecords(ctx: LifecycleContext): Promise<StoredRecord[]> {
  const bySeq = new Map<number, StoredRecord>();
  for (const r of (await ctx.archive?.()) ?? []) if (r.host_id === ctx.hostId) bySeq.set(r.seq, r);
  for (const r of ctx.records({ limit: 1_000_000 })) bySeq.set(r.seq, r);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

export interface PromotionFacts {
  facts: {
    eval_exists: boolean;
    eval_passed: boolean;
    eval_signed: boolean;
    eval_fresh: boolean;
    provenance_complete: boolean;
    training_verified: boolean;
    signer_trusted: boolean;
  };
  eval: SignedReferrer<EvalResultPredicate> | null;
  evalRecord: StoredRecord | null;
  training: TrainingLinks | null;
  /** What is missing, in words (the refusal's message). */
  missing: string[];
}

/** Everything `model.promote` is judged on, for this exact digest. */
export async function promotionFacts(model: PulledModel, ctx: LifecycleContext): Promise<PromotionFacts> {
  const evals = await signedReferrers<EvalResultPredicate>(model, "eval-result", EVAL_RESULT_PREDICATE, ctx);
  const newest = [...evals.verified].sort((a, b) =>
    a.statement.predicate.timings.finished < b.statement.predicate.timings.finished ? 1 : -1,
  );
  const passing = newest.find(
    (e) => e.statement.predicate.passed && e.statement.predicate.claims.every((c) => c.passed),
  );
  const chosen = passing ?? newest[0] ?? null;
  const fresh =
    chosen !== null &&
    ctx.now() - Date.parse(chosen.statement.predicate.timings.finished) <= ctx.config.eval_max_age_s * 1000;
  const all = await hostRecords(ctx);
  const training = trainingFor(model.weights.digest.slice("sha256:".length), all);
  const evalRecord =
    chosen === null
      ? null
      : (all
          .filter((r) => r.kind === "evaluation")
          .filter(
            (r) =>
              (r.execution_result as { artefact?: { digest?: string } } | null)?.artefact?.digest ===
              chosen.digest,
          )
          .at(-1) ?? null);
  const facts = {
    eval_exists: evals.found > 0,
    eval_passed: passing !== undefined,
    // Signed at all (perhaps by a key outside the trust root) vs signed by a trusted key.
    eval_signed: evals.verified.length > 0 || evals.untrusted,
    eval_fresh: fresh,
    // A fine-tune's provenance needs its base's digest as much as its dataset's.
    provenance_complete:
      training !== null &&
      training.dataset.sha256 !== "" &&
      baseMissing(training) === null &&
      chosen !== null,
    training_verified: training?.verified === true,
    signer_trusted: evals.verified.length > 0,
  };
  const missing: string[] = [];
  if (!facts.eval_exists)
    missing.push(
      `no eval result refers to ${model.digest} (run 'forge-agent eval --model ${model.pinned} --suite …')`,
    );
  else if (!facts.eval_signed)
    missing.push(
      `no eval result for ${model.digest} verifies with a trusted key: ${evals.refused.map((r) => r.reason).join("; ")}`,
    );
  else if (!facts.eval_passed) missing.push(`no passing eval result for ${model.digest}`);
  else if (!facts.eval_fresh)
    missing.push(
      `the newest passing eval result is older than lifecycle.eval_max_age_s (${ctx.config.eval_max_age_s} s)`,
    );
  if (!training) missing.push(`no training run on this host exported the weights ${model.weights.digest}`);
  else if (!training.verified)
    missing.push(`training records do not verify: ${training.problems.join("; ")}`);
  const noBase = training ? baseMissing(training) : null;
  if (noBase !== null) missing.push(noBase);
  return { facts, eval: chosen, evalRecord, training, missing };
}

export interface ServingFacts {
  facts: {
    promoted: boolean;
    eval_passed: boolean;
    provenance_verified: boolean;
    signature_verified: boolean;
    exempt: boolean;
  };
  stage: string | null;
  provenance: SignedReferrer<ProvenancePredicate> | null;
  missing: string[];
}

/** Everything `model.serve` is judged on: signed provenance with a promotion, a passing eval, the files' signature. */
export async function servingFacts(
  model: PulledModel,
  weightsSha256: string,
  ctx: LifecycleContext,
): Promise<ServingFacts> {
  const prov = await signedReferrers<ProvenancePredicate>(
    model,
    "provenance",
    SLSA_PROVENANCE_PREDICATE,
    ctx,
  );
  const promoted = prov.verified.filter((p) =>
    p.statement.predicate.runDetails.byproducts.some((b) => b.annotations?.kind === "promotion"),
  );
  const latest = promoted.at(-1) ?? null;
  const stage =
    (latest?.statement.predicate.runDetails.byproducts.find((b) => b.annotations?.kind === "promotion")
      ?.annotations?.stage as string | undefined) ?? null;
  const evals = await signedReferrers<EvalResultPredicate>(model, "eval-result", EVAL_RESULT_PREDICATE, ctx);
  const evalPassed = evals.verified.some(
    (e) => e.statement.predicate.passed && e.statement.predicate.claims.every((c) => c.passed),
  );
  const sigs = await signedReferrers<{ resources: { name: string; digest: string }[] }>(
    model,
    "signature",
    MODEL_SIGNING_PREDICATE,
    ctx,
  );
  const layers = new Map(model.pulled.files.map((f) => [f.name, f.digest.slice("sha256:".length)]));
  // The signed resources must be exactly the manifest's files, and the weights on disk must hash to theirs.
  const signatureOk = sigs.verified.some((s) => {
    const res = s.statement.predicate.resources;
    return (
      res.length === layers.size &&
      res.every((r) => layers.get(r.name) === r.digest) &&
      res.find((r) => r.name === model.weights.name)?.digest === weightsSha256
    );
  });
  const facts = {
    promoted: latest !== null,
    eval_passed: evalPassed,
    provenance_verified: prov.verified.length > 0,
    signature_verified: signatureOk,
    exempt: false,
  };
  const missing: string[] = [];
  if (!facts.promoted)
    missing.push(
      prov.found === 0
        ? `no promotion: no provenance refers to ${model.digest} (run 'forge-agent promote ${model.pinned} --stage NAME')`
        : `no verified promotion for ${model.digest}: ${prov.refused.map((r) => r.reason).join("; ") || "its provenance names no promotion"}`,
    );
  if (!facts.eval_passed) missing.push(`no verified passing eval result for ${model.digest}`);
  if (!facts.provenance_verified && prov.found > 0)
    missing.push("the provenance does not verify with a trusted key");
  if (!facts.signature_verified)
    missing.push(
      sigs.found === 0
        ? "no model-signing signature refers to the model"
        : `the model-signing signature does not cover these exact files (weights on disk sha256:${weightsSha256.slice(0, 12)}…)${sigs.refused.length ? `: ${sigs.refused.map((r) => r.reason).join("; ")}` : ""}`,
    );
  return { facts, stage, provenance: latest, missing };
}
