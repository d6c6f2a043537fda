/**
 * The in-toto statements of the model lifecycle: the eval result (the predicate proposed in
 * in-toto/attestation PR #575: claims of `metric comparator threshold` with a `passed` verdict),
 * the provenance (SLSA provenance v1: `buildDefinition` and `runDetails` carry the training run,
 * plus the evidence records that link training, evaluation and promotion by hash), and the
 * OpenSSF model-signing statement (`https://model_signing/signature/v1.0`) over the model's files.
 */
import { createHash } from "node:crypto";

export const STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
/** The eval-result predicate type of in-toto/attestation PR #575 (proposed, not yet merged). */
export const EVAL_RESULT_PREDICATE = "https://in-toto.io/attestation/eval-result/v0.1";
export const SLSA_PROVENANCE_PREDICATE = "https://slsa.dev/provenance/v1";
export const MODEL_SIGNING_PREDICATE = "https://model_signing/signature/v1.0";
/** The build type naming a forge-agent governed training run (docs/lifecycle.md). */
export const TRAINING_BUILD_TYPE = "https://forge-agent.dev/training/v1";

export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest: Record<string, string>;
  annotations?: Record<string, unknown>;
}

export interface Statement<P = unknown> {
  _type: string;
  subject: ResourceDescriptor[];
  predicateType: string;
  predicate: P;
}

/** An evidence record named by where it sits in its host's chain and its hash. */
export interface RecordLink {
  host_id: string;
  seq: number;
  hash: string;
  kind?: string;
  action_id?: string;
}

export type Comparator = "<=" | "<" | ">=" | ">" | "==";

export interface Claim {
  metric: string;
  comparator: Comparator;
  threshold: number;
  value: number;
  passed: boolean;
  sampleSize: number;
}

export interface EvalResultPredicate {
  harness: { name: string; version: string };
  assuranceLevel: "self_attested";
  model: { reference: string; digest: string; weights: string };
  suite: { reference: string; digest: string; name: string; version: number };
  claims: Claim[];
  passed: boolean;
  metrics: Record<string, number>;
  engine: { name: string; version: string };
  seed: number;
  timings: { started: string; finished: string; total_ms: number; quality_ms: number; governance_ms: number };
  host_id: string;
}

/** sha256:<hex> → {sha256: hex}. */
export function digestSet(digest: string): Record<string, string> {
  const [alg, hex] = digest.split(":") as [string, string];
  return { [alg]: hex };
}

export function evalStatement(
  modelName: string,
  modelDigest: string,
  p: EvalResultPredicate,
): Statement<EvalResultPredicate> {
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: modelName, digest: digestSet(modelDigest) }],
    predicateType: EVAL_RESULT_PREDICATE,
    predicate: p,
  };
}

/** Holds `value comparator threshold`. */
export function compare(value: number, c: Comparator, threshold: number): boolean {
  if (!Number.isFinite(value)) return false;
  switch (c) {
    case "<=":
      return value <= threshold;
    case "<":
      return value < threshold;
    case ">=":
      return value >= threshold;
    case ">":
      return value > threshold;
    case "==":
      return value === threshold;
  }
}

export interface ProvenancePredicate {
  buildDefinition: {
    buildType: string;
    externalParameters: Record<string, unknown>;
    internalParameters: Record<string, unknown>;
    resolvedDependencies: ResourceDescriptor[];
  };
  runDetails: {
    builder: { id: string; version: Record<string, string> };
    metadata: { invocationId: string; startedOn: string | null; finishedOn: string | null };
    byproducts: ResourceDescriptor[];
  };
}

/**
 * The OpenSSF model-signing statement (v1.0, `files` serialization, sha256): one resource per
 * file (sorted by name); the subject's digest is sha256 over the concatenated resource digests.
 */
export function modelSigningStatement(
  modelName: string,
  files: { name: string; sha256: string }[],
): Statement<{
  resources: { name: string; algorithm: "sha256"; digest: string }[];
  serialization: { method: "files"; hash_type: "sha256"; allow_symlinks: false; ignore_paths: string[] };
}> {
  const resources = [...files]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((f) => ({ name: f.name, algorithm: "sha256" as const, digest: f.sha256 }));
  const root = createHash("sha256");
  for (const r of resources) root.update(Buffer.from(r.digest, "hex"));
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: modelName, digest: { sha256: root.digest("hex") } }],
    predicateType: MODEL_SIGNING_PREDICATE,
    predicate: {
      resources,
      serialization: { method: "files", hash_type: "sha256", allow_symlinks: false, ignore_paths: [] },
    },
  };
}
