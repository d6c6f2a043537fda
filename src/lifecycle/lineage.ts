/**
 * Lineage over evidence records: from an action a model proposed, back through its inference
 * record to the model digest, the promotion, the evaluation, the training run (checkpoints,
 * anomalies, the exported GGUF), a fine-tune's base model (and the run that made it, when recorded)
 * and the dataset digest; or forward from a model digest to every action it proposed.
 * Pure over a set of records (one host's chain, or the collector's fleet copy): each link is a
 * record whose hash is recomputed from its body and, where its predecessor is present, chained to it.
 * Imports only protocol/, so the collector runs the same walk.
 */
import { isUnpromoted } from "../protocol/heartbeat.js";
import { recordHash, type StoredRecord } from "../protocol/record.js";

export interface LineageLink {
  step: "action" | "inference" | "model" | "promotion" | "evaluation" | "training" | "base" | "dataset";
  host_id: string | null;
  seq: number | null;
  hash: string | null;
  action_id: string | null;
  /** The record's hash recomputes and (when its predecessor is here) chains. */
  verified: boolean;
  problem: string | null;
  detail: Record<string, unknown>;
}

export interface Lineage {
  query: string;
  direction: "back" | "forward";
  model_digest: string | null;
  dataset: { ref: string; sha256: string } | null;
  links: LineageLink[];
  /** Forward: the actions the model proposed (tool calls gated under it). */
  actions: { host_id: string; seq: number; action_id: string; evaluation: string | null; kind: string }[];
  complete: boolean;
  verified: boolean;
  missing: string[];
}

type Rec = StoredRecord;
const ea = (r: Rec) => (r.execution_result ?? {}) as Record<string, unknown>;
const pa = (r: Rec) => (r.proposed_action ?? {}) as Record<string, unknown>;

/** Checks one record: its hash over its body, and its link to the previous record of its host if present. */
export function verifyRecord(r: Rec, byKey: Map<string, Rec>): string | null {
  const { hash, prev_hash, ...body } = r;
  if (recordHash(prev_hash, body) !== hash)
    return `${r.host_id}#${r.seq}: the hash does not match the record`;
  const prev = byKey.get(`${r.host_id}#${r.seq - 1}`);
  if (prev && prev.hash !== prev_hash)
    return `${r.host_id}#${r.seq}: prev_hash does not chain to #${prev.seq}`;
  return null;
}

function link(
  step: LineageLink["step"],
  r: Rec | undefined,
  byKey: Map<string, Rec>,
  detail: Record<string, unknown>,
): LineageLink {
  if (!r)
    return {
      step,
      host_id: null,
      seq: null,
      hash: null,
      action_id: null,
      verified: false,
      problem: "not found",
      detail,
    };
  const problem = verifyRecord(r, byKey);
  return {
    step,
    host_id: r.host_id,
    seq: r.seq,
    hash: r.hash,
    action_id: r.action_id,
    verified: problem === null,
    problem,
    detail,
  };
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Walks the lineage of `id` (an action id, or a model digest `sha256:…`) over `records`. */
export function walkLineage(id: string, records: readonly Rec[]): Lineage {
  const byKey = new Map(records.map((r) => [`${r.host_id}#${r.seq}`, r]));
  if (DIGEST.test(id)) return forward(id, records, byKey);
  const links: LineageLink[] = [];
  const missing: string[] = [];
  const action = records.filter((r) => r.action_id === id).at(-1);
  links.push(
    link("action", action, byKey, action ? { kind: pa(action).kind, evaluation: action.evaluation } : {}),
  );
  if (!action) missing.push(`no record of action ${id}`);
  const inf = action
    ? records.find(
        (r) =>
          r.kind === "inference" &&
          r.host_id === action.host_id &&
          ((ea(r).tool_calls as { action_id: string }[] | undefined) ?? []).some((t) => t.action_id === id),
      )
    : undefined;
  links.push(link("inference", inf, byKey, inf ? { model: pa(inf).model, endpoint: pa(inf).endpoint } : {}));
  if (action && !inf)
    missing.push(
      `no inference record names action ${id} among its tool calls (it was not proposed by a served model)`,
    );
  const admission = inf
    ? (pa(inf).model_admission as
        | { digest?: string | null; stage?: string | null; exempt?: boolean }
        | undefined)
    : undefined;
  const digest = admission?.digest ?? null;
  if (inf && !digest)
    missing.push(
      admission?.exempt
        ? "the model was the exempt smoke-test model: it has no lineage"
        : "the inference record names no model digest (a local file, or admission off)",
    );
  const back = digest ? backFromDigest(digest, records, byKey) : { links: [], missing: [], dataset: null };
  links.push({
    step: "model",
    host_id: null,
    seq: null,
    hash: null,
    action_id: null,
    verified: digest !== null,
    problem: digest ? null : "unknown",
    detail: { digest, stage: admission?.stage ?? null },
  });
  links.push(...back.links);
  missing.push(...back.missing);
  return finish(id, "back", digest, back.dataset, links, [], missing);
}

function backFromDigest(digest: string, records: readonly Rec[], byKey: Map<string, Rec>) {
  const links: LineageLink[] = [];
  const missing: string[] = [];
  const prom = records
    .filter((r) => r.kind === "promotion" && pa(r).digest === digest && r.execution_result !== null)
    .at(-1);
  links.push(
    link(
      "promotion",
      prom,
      byKey,
      prom
        ? {
            stage: pa(prom).stage,
            replaced: ea(prom).replaced ?? null,
            reviewer: prom.principal_review?.reviewer ?? null,
            by: prom.principal ?? null,
          }
        : {},
    ),
  );
  if (!prom) missing.push(`no promotion record for ${digest}`);
  const artefact = prom ? ((ea(prom).eval as { artefact?: string } | null)?.artefact ?? null) : null;
  const evalRec = records
    .filter(
      (r) =>
        r.kind === "evaluation" &&
        (artefact
          ? (ea(r).artefact as { digest?: string } | undefined)?.digest === artefact
          : (pa(r).model as { digest?: string } | undefined)?.digest === digest),
    )
    .at(-1);
  links.push(
    link(
      "evaluation",
      evalRec,
      byKey,
      evalRec
        ? {
            passed: ea(evalRec).passed,
            artefact: (ea(evalRec).artefact as { digest?: string } | undefined)?.digest,
            suite: (pa(evalRec).suite as { reference?: string } | undefined)?.reference,
            metrics: ea(evalRec).metrics,
          }
        : {},
    ),
  );
  if (!evalRec) missing.push(`no evaluation record for ${digest}`);
  const weights = evalRec ? (ea(evalRec).weights as string | undefined) : undefined;
  const run = weights?.startsWith("sha256:")
    ? trainingSession(weights.slice("sha256:".length), records, byKey)
    : null;
  const end = run?.end;
  const trainingLink = link("training", end, byKey, {
    session_id: end?.session_id ?? null,
    records: (run?.records ?? []).map((r) => ({ seq: r.seq, event: ea(r).event, hash: r.hash })),
    checkpoints: run?.checkpoints ?? [],
    anomalies: run?.anomalies ?? [],
    final_weights_sha256: end ? ea(end).final_weights_sha256 : null,
    gguf_sha256: end ? ea(end).gguf_sha256 : null,
  });
  if (run && run.problems.length > 0) {
    trainingLink.verified = false;
    trainingLink.problem = run.problems.join("; ");
  }
  links.push(trainingLink);
  if (!run) missing.push(`no training run exported the weights ${weights ?? "(unknown)"}`);
  // A fine-tune's base: its digest, and the run that exported it when that run is in these records.
  if (run?.base) links.push(baseLink(run.base, records, byKey));
  const noBase = run ? baseMissing(run) : null;
  if (noBase !== null) missing.push(noBase);
  const ds = run?.dataset ?? null;
  links.push({
    step: "dataset",
    host_id: null,
    seq: null,
    hash: null,
    action_id: null,
    verified: ds !== null && /^[0-9a-f]{64}$/.test(ds.sha256),
    problem: ds ? null : "unknown",
    detail: ds ? { ref: ds.ref, sha256: ds.sha256 } : {},
  });
  return { links, missing, dataset: ds };
}

function baseLink(base: TrainingBase, records: readonly Rec[], byKey: Map<string, Rec>): LineageLink {
  const detail = { ref: base.ref, sha256: base.sha256, manifest_digest: base.manifest_digest };
  const from = findRun(base.sha256, records);
  if (from) {
    const l = link("base", from, byKey, { ...detail, session_id: from.session_id });
    return { ...l, verified: l.verified && HEX64.test(base.sha256) };
  }
  // A base from elsewhere (no record of its making here): pinned by its digest alone, like the dataset.
  return {
    step: "base",
    host_id: null,
    seq: null,
    hash: null,
    action_id: null,
    verified: HEX64.test(base.sha256),
    problem: null,
    detail: { ...detail, session_id: null },
  };
}

const HEX64 = /^[0-9a-f]{64}$/;

/** A fine-tune's base as its start (or resume) record names it (`execution_result.base`, src/training/job.ts). */
export interface TrainingBase {
  ref: string;
  /** sha256 (hex) of the base GGUF: for a registry base, its weight layer's digest. */
  sha256: string;
  /** The registry model's manifest digest, null for a file. */
  manifest_digest: string | null;
}

/** One training run as its records show it: every reader of `training` records goes through here. */
export interface TrainingSession {
  /** The `end` record (it names the exported GGUF's sha256). */
  end: Rec;
  /** The session's records on the end's host, in chain order. */
  records: Rec[];
  /** From each checkpoint record's `execution_result.checkpoint`. */
  checkpoints: { step: number; digest: string }[];
  anomalies: Record<string, unknown>[];
  dataset: { ref: string; sha256: string } | null;
  /** The job's `model.base` as written (null for a run from scratch). */
  base_ref: string | null;
  base: TrainingBase | null;
  /** Records whose hash does not recompute or whose prev_hash does not chain. */
  problems: string[];
}

/** Why a fine-tune's provenance lacks its base (the job names one, no record its digest); null when it does not. */
export function baseMissing(run: Pick<TrainingSession, "base_ref" | "base">): string | null {
  return run.base_ref !== null && run.base === null
    ? `the run fine-tuned '${run.base_ref}' but no record names the base's digest`
    : null;
}

/** A checkpoint as a `training` record names it: `execution_result.checkpoint` (src/training/loop.ts). */
export function checkpointOf(r: Rec): { step: number; digest: string } | null {
  if (r.kind !== "training" || ea(r).event !== "checkpoint") return null;
  const c = (ea(r).checkpoint ?? {}) as { step?: unknown; digest?: unknown };
  return {
    step: typeof c.step === "number" ? c.step : 0,
    digest: typeof c.digest === "string" ? c.digest : "",
  };
}

/** The newest `end` record of a run that exported the GGUF whose sha256 (hex) is `ggufHex`. */
function findRun(ggufHex: string, records: readonly Rec[]): Rec | undefined {
  return records
    .filter((r) => r.kind === "training" && ea(r).event === "end" && ea(r).gguf_sha256 === ggufHex)
    .at(-1);
}

/** The training run that exported the GGUF `ggufHex`, its session's records verified. */
export function trainingSession(
  ggufHex: string,
  records: readonly Rec[],
  byKey: Map<string, Rec> = new Map(records.map((r) => [`${r.host_id}#${r.seq}`, r])),
): TrainingSession | null {
  const end = findRun(ggufHex, records);
  if (!end) return null;
  const session = records.filter(
    (r) => r.kind === "training" && r.session_id === end.session_id && r.host_id === end.host_id,
  );
  const spec = (pa(end).spec ?? {}) as {
    dataset?: { ref: string; sha256: string };
    model?: { base?: string };
  };
  // The newest start/resume naming the base: a resumed run's records name it again.
  const b = session
    .map((r) => ea(r).base as Partial<TrainingBase> | undefined)
    .filter((x): x is Partial<TrainingBase> => typeof x?.sha256 === "string")
    .at(-1);
  return {
    end,
    records: session,
    checkpoints: session.map(checkpointOf).filter((c): c is { step: number; digest: string } => c !== null),
    anomalies: session.filter((r) => ea(r).event === "anomaly").map((r) => ea(r)),
    dataset: spec.dataset ?? null,
    base_ref: spec.model?.base ?? null,
    base: b
      ? {
          ref: String(b.ref ?? spec.model?.base ?? ""),
          sha256: b.sha256!,
          manifest_digest: b.manifest_digest ?? null,
        }
      : null,
    problems: session.map((r) => verifyRecord(r, byKey)).filter((p): p is string => p !== null),
  };
}

function forward(digest: string, records: readonly Rec[], byKey: Map<string, Rec>): Lineage {
  const back = backFromDigest(digest, records, byKey);
  const infs = records.filter(
    (r) =>
      r.kind === "inference" && (pa(r).model_admission as { digest?: string } | undefined)?.digest === digest,
  );
  const actions: Lineage["actions"] = [];
  for (const inf of infs)
    for (const t of (ea(inf).tool_calls as { action_id: string }[] | undefined) ?? []) {
      const a = records.filter((r) => r.host_id === inf.host_id && r.action_id === t.action_id).at(-1);
      if (a)
        actions.push({
          host_id: a.host_id,
          seq: a.seq,
          action_id: a.action_id,
          evaluation: a.evaluation,
          kind: String(pa(a).kind),
        });
    }
  return finish(digest, "forward", digest, back.dataset, back.links, actions, back.missing);
}

function finish(
  query: string,
  direction: Lineage["direction"],
  model_digest: string | null,
  dataset: Lineage["dataset"],
  links: LineageLink[],
  actions: Lineage["actions"],
  missing: string[],
): Lineage {
  return {
    query,
    direction,
    model_digest,
    dataset,
    links,
    actions,
    complete: missing.length === 0,
    verified: missing.length === 0 && links.every((l) => l.verified),
    missing,
  };
}

export interface ServedModel {
  host_id: string;
  /** The model's name as the request asked for it (`proposed_action.model`), and the backend that served it. */
  model: string | null;
  backend: string | null;
  digest: string | null;
  reference: string | null;
  stage: string | null;
  exempt: boolean;
  label: string | null;
  /** Serving a model with no verified promotion (a local file unchecked, or admission off). */
  unpromoted: boolean;
  at: string;
}

/** What each host serves, from its newest inference record's `model_admission` (src/lifecycle/admission.ts). */
export function servedModels(records: readonly Rec[]): ServedModel[] {
  const latest = new Map<string, Rec>();
  for (const r of records) if (r.kind === "inference" && pa(r).model_admission) latest.set(r.host_id, r);
  return [...latest.values()].map((r) => {
    const a = pa(r).model_admission as {
      digest: string | null;
      reference: string | null;
      stage: string | null;
      exempt: boolean;
      label: string;
    };
    const str = (v: unknown) => (typeof v === "string" ? v : null);
    return {
      host_id: r.host_id,
      model: str(pa(r).model),
      backend: str(pa(r).backend),
      digest: a.digest,
      reference: a.reference,
      stage: a.stage,
      exempt: a.exempt,
      label: a.label,
      unpromoted: isUnpromoted(a),
      at: r.timestamp,
    };
  });
}

/** One training run as the fleet's records show it (the dashboard's training view). */
export interface TrainingRun {
  host_id: string;
  session_id: string;
  job: string;
  trainer: string;
  /** The end record's state, else "RUNNING" (no end yet), "REFUSED" (a refused start). */
  state: string;
  steps: number;
  tokens: number;
  budgets: Record<string, number | null>;
  budgets_consumed: Record<string, unknown> | null;
  /**
   * (step, loss) per step, from each checkpoint's and the end's `loss_curve` (a point stands for
   * `every` steps when a segment had more than CURVE_POINTS); records without one give their
   * checkpoint's loss alone.
   */
  loss: { step: number; loss: number | string }[];
  anomalies: { step: number; rule: string; action: string; outcome: string; reviewer: string | null }[];
  checkpoints: { step: number; digest: string }[];
  started: string;
  updated: string;
}

/** Appends a record's `loss_curve` {every, points: [step, loss][]} to the run; false when it has none. */
function pushCurve(run: TrainingRun, curve: unknown): boolean {
  const points = (curve as { points?: unknown } | null | undefined)?.points;
  if (!Array.isArray(points)) return false;
  for (const p of points)
    if (Array.isArray(p) && typeof p[0] === "number" && typeof p[1] === "number")
      run.loss.push({ step: p[0], loss: p[1] });
  return true;
}

/** Training runs from `training` records, newest first (pure over records, like the walks above). */
export function trainingRuns(records: readonly Rec[]): TrainingRun[] {
  const runs = new Map<string, TrainingRun>();
  for (const r of records) {
    if (r.kind !== "training") continue;
    const key = `${r.host_id}\u0000${r.session_id}`;
    const a = pa(r);
    const x = (r.execution_result ?? {}) as Record<string, unknown>;
    let run = runs.get(key);
    if (!run) {
      run = {
        host_id: r.host_id,
        session_id: r.session_id,
        job: String(a.job ?? ""),
        trainer: String(a.trainer ?? ""),
        state: "RUNNING",
        steps: 0,
        tokens: 0,
        budgets: (a.budgets ?? {}) as Record<string, number | null>,
        budgets_consumed: null,
        loss: [],
        anomalies: [],
        checkpoints: [],
        started: r.timestamp,
        updated: r.timestamp,
      };
      runs.set(key, run);
    }
    run.updated = r.timestamp;
    const num = (v: unknown) => (typeof v === "number" ? v : 0);
    if (typeof x.step === "number") run.steps = Math.max(run.steps, x.step);
    if (typeof x.tokens === "number") run.tokens = Math.max(run.tokens, x.tokens);
    if (x.budgets_consumed) run.budgets_consumed = x.budgets_consumed as Record<string, unknown>;
    switch (x.event) {
      case "checkpoint": {
        run.checkpoints.push(checkpointOf(r)!);
        if (!pushCurve(run, x.loss_curve))
          run.loss.push({ step: num(x.step), loss: x.loss as number | string });
        break;
      }
      case "anomaly":
        run.anomalies.push({
          step: num(x.step),
          rule: String(x.rule ?? ""),
          action: String(x.action ?? ""),
          outcome: String(x.outcome ?? ""),
          reviewer: r.principal_review?.reviewer ?? null,
        });
        break;
      case "resume": {
        // The steps after the checkpoint resumed from are run again: their earlier points go.
        const from = num((x.from_checkpoint as { step?: unknown } | undefined)?.step);
        run.loss = run.loss.filter((p) => p.step <= from);
        break;
      }
      case "refused":
        run.state = "REFUSED";
        break;
      case "end":
        pushCurve(run, x.loss_curve);
        run.state = String(x.state ?? "FAILED");
        run.steps = num(x.steps);
        run.tokens = num(x.tokens);
        break;
    }
  }
  return [...runs.values()].sort((p, q) => (p.started < q.started ? 1 : -1));
}
