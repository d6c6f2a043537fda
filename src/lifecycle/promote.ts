/**
 * `forge-agent promote REF --stage NAME`: a governed `model.promote`. The facts are established
 * here (src/lifecycle/facts.ts); the gate decides; an ESCALATE waits for a reviewer who is on the
 * stage's allowlist and is not the proposer. On ALLOW the stage tag (an alias, MLflow's model)
 * moves to the digest, the `promotion` record names what it replaced, and the provenance
 * statement (SLSA v1, linking training, dataset, eval and this promotion by digest) and the
 * OpenSSF model-signing signature are signed and pushed as referrers of the model.
 */
import { Codes, ForgeError } from "../errors.js";
import { toPolicyMatched } from "../gate/index.js";
import { nowRfc3339, type PrincipalReview, type StoredRecord } from "../protocol/record.js";
import { approvalRefusal } from "../protocol/review-roles.js";
import type { LifecycleContext } from "./context.js";
import { type PromotionFacts, promotionFacts } from "./facts.js";
import { pullModel, pushSignedReferrer } from "./model.js";
import {
  digestSet,
  modelSigningStatement,
  type ProvenancePredicate,
  type RecordLink,
  SLSA_PROVENANCE_PREDICATE,
  STATEMENT_TYPE,
  type Statement,
  TRAINING_BUILD_TYPE,
} from "./statement.js";

export const PROVENANCE_FILE = "provenance.sigstore.json";
export const MODEL_SIGNATURE_FILE = "model.sig";

export interface PromoteOptions {
  stage: string;
  reason?: string | null;
  /** Asks a principal (the daemon's review queue); absent: an ESCALATE cannot be approved (expired). */
  review?: (action: object, reasons: string[]) => Promise<PrincipalReview>;
}

export interface PromotionReport {
  digest: string;
  reference: string;
  stage: string;
  evaluation: "ALLOW" | "DENY" | "ESCALATE";
  reasons: string[];
  facts: PromotionFacts["facts"];
  replaced: string | null;
  principal_review: PrincipalReview | null;
  record: RecordLink;
  provenance: { digest: string; reference: string } | null;
  signature: { digest: string; reference: string } | null;
}

/** May `reviewer` approve a promotion to `stage`? The allowlist (if the stage has one) and never the proposer. */
export function reviewerAllowed(
  reviewers: Readonly<Record<string, readonly string[]>>,
  stage: string,
  reviewer: string,
  proposer: string,
): string | null {
  const bare = (s: string) => s.replace(/^operator:/, "");
  if (bare(reviewer) === bare(proposer)) return `${reviewer} proposed this promotion and may not approve it`;
  return approvalRefusal({ stages: reviewers, labels: {} }, reviewer, {
    action: { kind: "model.promote", stage },
    labels: [],
  });
}

export async function promote(
  refText: string,
  o: PromoteOptions,
  ctx: LifecycleContext,
): Promise<PromotionReport> {
  const model = await pullModel(refText, ctx.client);
  const f = await promotionFacts(model, ctx);
  const action = {
    kind: "model.promote" as const,
    ref: model.pinned,
    registry: model.ref.registry,
    repository: model.ref.repository,
    digest: model.digest,
    stage: o.stage,
    reason: o.reason ?? null,
    facts: f.facts,
  };
  const session_id = `promote-${model.ref.repository}`;
  const action_id = `promote-${ctx.now()}-${Math.random().toString(16).slice(2, 10)}`;
  const d = ctx.gate().evaluate({ session_id, principal: ctx.principal, action, action_id });
  let evaluation = d.evaluation;
  let review: PrincipalReview | null = null;
  if (d.evaluation === "ESCALATE") {
    review = o.review
      ? await o.review(action, d.reasons)
      : {
          decision: "expired",
          reviewer: "system",
          at: nowRfc3339(ctx.now()),
          reason:
            "no review queue: run the promotion through the daemon (forge-agent run) so a reviewer can approve it",
        };
    const refusal =
      review.decision === "approve"
        ? reviewerAllowed(ctx.config.reviewers, o.stage, review.reviewer, ctx.principal)
        : null;
    if (refusal) review = { ...review, decision: "deny", reason: refusal };
    evaluation = review.decision === "approve" ? "ALLOW" : "DENY";
  }
  const base = {
    kind: "promotion" as const,
    session_id,
    action_id,
    prompt_hash: null,
    proposed_action: action,
    // The final verdict: an escalation settles as its review does (unanswered or refused: DENY).
    evaluation,
    policy_matched: toPolicyMatched(d),
    composition_state: d.composition_state,
    principal_review: review,
    latency_ms: d.latency_ms,
    principal: ctx.principal,
  };
  const reasons = [
    ...d.reasons,
    ...(review && review.decision !== "approve"
      ? [`review: ${review.decision} by ${review.reviewer}${review.reason ? `: ${review.reason}` : ""}`]
      : []),
  ];
  if (evaluation !== "ALLOW") {
    const rec = await ctx.append({ ...base, timestamp: nowRfc3339(ctx.now()), execution_result: null });
    throw new ForgeError(
      Codes.PROMOTION_REFUSED,
      `promotion of ${model.pinned} to '${o.stage}' refused (${d.evaluation}${review ? `, review ${review.decision}` : ""}): ${[...f.missing, ...reasons].join("; ")}`,
      {
        details: {
          evaluation: d.evaluation,
          facts: f.facts,
          record: { host_id: rec.host_id, seq: rec.seq, hash: rec.hash },
          missing: f.missing,
        },
      },
    );
  }
  // The alias moves: the stage tag now names this manifest. What it named before is kept in the record.
  const replaced = await model.client.resolve(model.ref.repository, o.stage);
  const m = await model.client.getManifest(model.ref.repository, model.digest);
  await model.client.putManifest(model.ref.repository, o.stage, m.bytes, m.mediaType);
  const rec = await ctx.append({
    ...base,
    timestamp: nowRfc3339(ctx.now()),
    execution_result: {
      status: "succeeded",
      stage: o.stage,
      tag: `oci://${model.ref.registry}/${model.ref.repository}:${o.stage}`,
      digest: model.digest,
      replaced: replaced === model.digest ? null : replaced,
      eval: f.eval ? { artefact: f.eval.digest, signer: f.eval.signer } : null,
      training_session: f.training?.session_id ?? null,
    },
  });
  const link: RecordLink = {
    host_id: rec.host_id,
    seq: rec.seq,
    hash: rec.hash,
    kind: "promotion",
    action_id,
  };
  const provenance = await pushProvenance(model, f, rec, o.stage, ctx);
  const signature = await pushModelSignature(model, ctx);
  return {
    digest: model.digest,
    reference: model.pinned,
    stage: o.stage,
    evaluation: "ALLOW",
    reasons: d.reasons,
    facts: f.facts,
    replaced: replaced === model.digest ? null : replaced,
    principal_review: review,
    record: link,
    provenance,
    signature,
  };
}

function recordDescriptor(l: RecordLink, extra: Record<string, unknown> = {}) {
  return {
    name: `record:${l.host_id}#${l.seq}`,
    uri: `forge-evidence://${l.host_id}/${l.seq}`,
    digest: { sha256: l.hash },
    annotations: { host_id: l.host_id, seq: l.seq, kind: l.kind, action_id: l.action_id, ...extra },
  };
}

/** The SLSA v1 provenance of the model, linking by digest every step that made it servable. */
export function provenanceStatement(
  model: { name: string; digest: string; weights: string },
  f: PromotionFacts,
  promotion: StoredRecord,
  stage: string,
  hostId: string,
): Statement<ProvenancePredicate> {
  const t = f.training;
  const end = t?.end.execution_result as
    | { steps?: number; final_weights_sha256?: string; checkpoint_digest?: string }
    | undefined;
  const spec =
    (t?.end.proposed_action as { spec?: unknown; job_sha256?: string; trainer?: string } | undefined) ?? {};
  const byproducts = [
    ...(t?.records ?? []).map((r) => recordDescriptor(r)),
    ...(t?.checkpoints ?? []).map((c) => ({
      name: `checkpoint:${c.step}`,
      digest: { sha256: c.digest },
      annotations: { kind: "checkpoint", step: c.step },
    })),
    ...(f.evalRecord
      ? [
          recordDescriptor({
            host_id: f.evalRecord.host_id,
            seq: f.evalRecord.seq,
            hash: f.evalRecord.hash,
            kind: "evaluation",
            action_id: f.evalRecord.action_id,
          }),
        ]
      : []),
    recordDescriptor(
      {
        host_id: promotion.host_id,
        seq: promotion.seq,
        hash: promotion.hash,
        kind: "promotion",
        action_id: promotion.action_id,
      },
      { stage, principal_review: promotion.principal_review },
    ),
  ];
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: model.name, digest: digestSet(model.digest), annotations: { weights: model.weights } }],
    predicateType: SLSA_PROVENANCE_PREDICATE,
    predicate: {
      buildDefinition: {
        buildType: TRAINING_BUILD_TYPE,
        externalParameters: { job: spec.spec ?? null, dataset: t?.dataset ?? null },
        internalParameters: {
          job_sha256: spec.job_sha256 ?? null,
          trainer: spec.trainer ?? null,
          steps: end?.steps ?? null,
        },
        resolvedDependencies: [
          ...(t ? [{ name: "dataset", uri: t.dataset.ref, digest: { sha256: t.dataset.sha256 } }] : []),
          // A fine-tune's starting weights: the base GGUF by its sha256 (a registry base: its weight layer).
          ...(t?.base
            ? [
                {
                  name: "base-model",
                  uri: t.base.ref,
                  digest: { sha256: t.base.sha256 },
                  ...(t.base.manifest_digest
                    ? { annotations: { manifest_digest: t.base.manifest_digest } }
                    : {}),
                },
              ]
            : []),
          ...(f.eval
            ? [
                {
                  name: "eval-suite",
                  uri: f.eval.statement.predicate.suite.reference,
                  digest: digestSet(f.eval.statement.predicate.suite.digest),
                },
                {
                  name: "eval-result",
                  digest: digestSet(f.eval.digest),
                  annotations: { passed: f.eval.statement.predicate.passed },
                },
              ]
            : []),
        ],
      },
      runDetails: {
        builder: { id: `forge-agent://${hostId}`, version: { "forge-agent": "0.1.0" } },
        metadata: {
          invocationId: t?.session_id ?? "",
          startedOn: t?.started ?? null,
          finishedOn: t ? t.end.timestamp : null,
        },
        byproducts: [
          ...byproducts,
          ...(end?.final_weights_sha256
            ? [{ name: "final-weights", digest: { sha256: end.final_weights_sha256 } }]
            : []),
        ],
      },
    },
  };
}

async function pushProvenance(
  model: Awaited<ReturnType<typeof pullModel>>,
  f: PromotionFacts,
  promotion: StoredRecord,
  stage: string,
  ctx: LifecycleContext,
) {
  const s = provenanceStatement(
    { name: model.ref.repository, digest: model.digest, weights: model.weights.digest },
    f,
    promotion,
    stage,
    ctx.hostId,
  );
  return pushSignedReferrer(model, ctx.signer, {
    kind: "provenance",
    file: PROVENANCE_FILE,
    statement: s,
    annotations: { "dev.forge-agent.stage": stage, "dev.forge-agent.host-id": ctx.hostId },
  });
}

/** The OpenSSF model-signing bundle over the model's files (their layer digests). */
async function pushModelSignature(model: Awaited<ReturnType<typeof pullModel>>, ctx: LifecycleContext) {
  const s = modelSigningStatement(
    model.weights.name,
    model.pulled.files.map((x) => ({ name: x.name, sha256: x.digest.slice("sha256:".length) })),
  );
  const p = await pushSignedReferrer(model, ctx.signer, {
    kind: "signature",
    file: MODEL_SIGNATURE_FILE,
    statement: s,
    annotations: { "dev.forge-agent.signature.format": "model_signing/v1.0" },
  });
  return { digest: p.digest, reference: p.reference };
}

export interface StageEvent {
  stage: string;
  digest: string;
  replaced: string | null;
  at: string;
  by: string | null;
  reviewer: string | null;
  evaluation: string;
  reason: string | null;
  record: RecordLink;
}

/** The stage history of a repository from this host's promotion records: who, when, what it replaced. */
export function stageHistory(repository: string, ctx: LifecycleContext): StageEvent[] {
  return ctx
    .records({ kind: "promotion" })
    .filter((r) => (r.proposed_action as { repository?: string }).repository === repository)
    .map((r) => {
      const a = r.proposed_action as { stage: string; digest: string; reason: string | null };
      const x = r.execution_result as { replaced?: string | null } | null;
      return {
        stage: a.stage,
        digest: a.digest,
        replaced: x?.replaced ?? null,
        at: r.timestamp,
        by: r.principal ?? null,
        reviewer: r.principal_review?.reviewer ?? null,
        evaluation: x ? "ALLOW" : (r.evaluation ?? "DENY"),
        reason: a.reason,
        record: { host_id: r.host_id, seq: r.seq, hash: r.hash, kind: "promotion", action_id: r.action_id },
      };
    });
}
