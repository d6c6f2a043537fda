import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { Codes, ForgeError } from "../errors.js";
import type { Action } from "../gate/actions.js";
import { HttpError } from "../http.js";
import { isUnpromoted, type ServedAdmission } from "../protocol/heartbeat.js";
import type { RecordInput, StoredRecord } from "../protocol/record.js";
import type { ActionService, Principal } from "./actions.js";
import type { AgentConfig } from "./config.js";

export { answerUnserved, isFacadePath } from "../inference/routes.js";

/**
 * The one place the daemon touches src/inference: the backend (opened lazily, on the first
 * /api/* request, so the daemon starts in milliseconds and a broken model never blocks the gate)
 * and the governed Ollama- and OpenAI-compatible facades, whose every tool call goes through `govern`.
 */

type Facade = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
interface GovernResult {
  evaluation: "ALLOW" | "DENY" | "ESCALATE";
  action_id: string | null;
  reasons: string[];
}

export interface InferenceDeps {
  config: AgentConfig;
  service: ActionService;
  record: (rec: RecordInput) => Promise<StoredRecord>;
  logger: Logger;
  onTokensPerSecond?: (tps: number) => void;
}

export interface InferenceHandle {
  handle(req: IncomingMessage, res: ServerResponse, principal: Principal): Promise<boolean>;
  /** What serving admission decided for the open backend's model; null until a backend is open. */
  served(): ServedAdmission | null;
  close(): Promise<void>;
}

export function createInference(d: InferenceDeps): InferenceHandle {
  const c = d.config;
  let served: ServedAdmission | null = null;
  let opened:
    | Promise<{
        backend: { close(): Promise<void> };
        make: (p: Principal) => Facade;
        toAction: (call: unknown) => Action;
      }>
    | undefined;

  const open = () => {
    opened ??= (async () => {
      if (c.backend === "none") {
        throw new ForgeError(Codes.BACKEND_UNAVAILABLE, "no inference backend configured (backend: none)");
      }
      const inf = await import("../inference/backend.js");
      const { createOllamaFacade } = await import("../inference/facade.js");
      const { createOpenAiFacade } = await import("../inference/facade-openai.js");
      const { toolCallToAction } = await import("../inference/tools.js");
      const lifecycle = await import("../lifecycle/admission.js");
      let model = c.model;
      let admission: import("../inference/facade-turn.js").ModelAdmission | undefined;
      if (model === undefined && c.backend === "llama") {
        const { ensureTinyModel } = await import("../inference/tiny-model.js");
        model = ensureTinyModel(c.models_dir);
        admission = lifecycle.exemptAdmission();
      }
      if (model === undefined) {
        throw new ForgeError(
          Codes.CONFIG_INVALID,
          `backend ${c.backend} needs a model: set 'model' (FORGE_MODEL)`,
        );
      }
      const admit = c.lifecycle.admission !== "off";
      if (model.startsWith("oci://")) {
        const ref = model;
        const served = await servableModel(ref);
        model = served.path;
        if (admit)
          admission = await lifecycle.admitRegistryModel(
            served.reference,
            served.path,
            await admissionDeps(),
          );
      } else if (admit && admission === undefined && c.backend === "llama") {
        admission = await lifecycle.admitLocalModel(model, await admissionDeps());
      }
      const promptTemplate = c.prompt_template ? await servableTemplate(c.prompt_template) : undefined;
      const backend = await inf.createBackend({
        backend: c.backend,
        model,
        host: c.inference_host,
        modelDir: c.models_dir,
      });
      d.logger.info({ backend: c.backend, model }, "inference backend ready");
      // No admission (lifecycle.admission: off, or a non-llama local model): no verified promotion.
      const a = admission ?? { digest: null, stage: null, exempt: false };
      served = { digest: a.digest, stage: a.stage, exempt: a.exempt, unpromoted: isUnpromoted(a) };
      const make = (p: Principal): Facade => {
        const deps = {
          backend,
          govern: (call: { function: { name: string; arguments: unknown } }, ctx: GovernContext) =>
            govern(call, ctx, p),
          record: recordInference,
          principal: p.record,
          maxBodyBytes: c.facade.max_body_bytes,
          ...(promptTemplate ? { promptTemplate } : {}),
          ...(admission ? { admission } : {}),
        } as Parameters<typeof createOllamaFacade>[0];
        const ollama = createOllamaFacade(deps) as Facade;
        const openai = createOpenAiFacade(deps) as Facade;
        return async (req, res) => (await ollama(req, res)) || openai(req, res);
      };
      return { backend, make, toAction: toolCallToAction as (call: unknown) => Action };
    })();
    const attempt = opened;
    // A failed open is not cached: the next request tries again (the model may have appeared).
    attempt.catch((err) => {
      d.logger.error({ err }, "inference backend unavailable");
      if (opened === attempt) opened = undefined;
      served = null;
    });
    return attempt;
  };

  /** How the daemon reaches registries and asks its own gate about a `model.pull` (ESCALATE waits for review). */
  const registryDeps = async () => {
    const { openClient } = await import("../registry/index.js");
    const agent: Principal = { gate: "forge-agent", record: "forge-agent" };
    return {
      client: (registry: string) =>
        openClient(registry, {
          home: c.home,
          insecure: c.registry.insecure,
          ...(c.registry.auth_file === undefined ? {} : { authFile: c.registry.auth_file }),
        }),
      judge: async (action: object) => {
        const v = await d.service.propose(
          {
            session_id: "model-serve",
            proposed_action: action as Action,
            delegate: "forge-agent model loader",
          },
          agent,
        );
        if (v.state !== "escalated") return v;
        const settled = await d.service.wait(v.action_id, c.review.deadline_ms + 5_000);
        const ok = settled?.state !== "escalated" && settled?.evaluation === "ALLOW";
        return {
          evaluation: ok ? ("ALLOW" as const) : ("DENY" as const),
          reasons: settled?.reasons ?? v.reasons,
          action_id: v.action_id,
        };
      },
    };
  };

  /** `oci://…` → a verified GGUF in the blob cache, after the gate allowed the `model.pull`. */
  const servableModel = async (ref: string) => {
    const { resolveServableModel, parseReference } = await import("../registry/index.js");
    const deps = await registryDeps();
    try {
      const served = await resolveServableModel(ref, { ...deps, modelsDir: c.models_dir });
      d.logger.info(
        { ref, digest: served.digest, weights: served.weights },
        "model pulled from the registry",
      );
      return served;
    } catch (err) {
      // Weights that do not hash to their digest are a serving refusal too: recorded as model.serve DENY.
      if ((err as { code?: string }).code !== Codes.DIGEST_MISMATCH || c.lifecycle.admission === "off")
        throw err;
      const r = parseReference(ref);
      const digest = r.digest ?? (await deps.client(r.registry).resolve(r.repository, r.tag ?? "latest"));
      const v = await deps.judge({
        kind: "model.serve",
        ref,
        registry: r.registry,
        repository: r.repository,
        digest,
        stage: null,
        facts: { signature_verified: false },
      });
      throw new ForgeError(
        Codes.MODEL_NOT_ADMITTED,
        `model ${ref} is not admitted for serving (${v.evaluation}): its weights do not match their digest: ${(err as Error).message}`,
        { cause: err, details: { action_id: v.action_id ?? null } },
      );
    }
  };

  /** What serving admission needs: registry clients, the pinned keys, the policy (through the gate). */
  const admissionDeps = async () => {
    const { loadSigningKey, TrustRoot } = await import("../lifecycle/keys.js");
    const own = c.lifecycle.trust_own_key ? loadSigningKey(c.evidence.keys).publicKeyPem : undefined;
    const r = await registryDeps();
    return {
      client: r.client,
      judge: r.judge,
      trust: TrustRoot.fromFiles(c.lifecycle.trusted_keys, own),
      config: c.lifecycle,
    };
  };

  /** A prompt template from the registry: the facade uses it and names its digest in each record. */
  const servableTemplate = async (ref: string) => {
    const { resolvePromptTemplate } = await import("../registry/index.js");
    const t = await resolvePromptTemplate(ref, await registryDeps());
    d.logger.info({ ref, digest: t.digest }, "prompt template pulled from the registry");
    return t;
  };

  interface GovernContext {
    session_id: string;
    /** Which API the call came in on, e.g. "openai-api client" (the record's delegate). */
    client?: string;
    principal?: string;
    prompt_hash?: string | null;
  }

  /**
   * Gates one tool call like a proposal on the socket. ESCALATE holds the answer until a review
   * or the deadline settles it, so the model's caller only ever sees ALLOW or DENY.
   */
  const govern = async (call: unknown, ctx: GovernContext, p: Principal): Promise<GovernResult> => {
    let action: Action;
    try {
      action = (await open()).toAction(call);
    } catch (err) {
      return {
        evaluation: "DENY",
        action_id: null,
        reasons: [`invalid tool call: ${(err as Error).message}`],
      };
    }
    // The model's client runs an allowed call and never reports back: the record is final at once.
    const v = await d.service.propose(
      {
        session_id: ctx.session_id,
        prompt_hash: ctx.prompt_hash ?? undefined,
        proposed_action: action,
        delegate: ctx.client ?? "ollama-api client",
      },
      p,
    );
    if (v.state !== "escalated")
      return { evaluation: v.evaluation, action_id: v.action_id, reasons: v.reasons };
    const settled = await d.service.wait(v.action_id, c.review.deadline_ms + 5_000);
    const evaluation = settled?.state === "escalated" ? "DENY" : (settled?.evaluation ?? "DENY");
    const review = settled?.principal_review;
    return {
      evaluation: evaluation === "ESCALATE" ? "DENY" : evaluation,
      action_id: v.action_id,
      reasons: review
        ? [`review: ${review.decision} by ${review.reviewer}${review.reason ? `: ${review.reason}` : ""}`]
        : v.reasons,
    };
  };

  const recordInference = async (rec: RecordInput): Promise<StoredRecord> => {
    const timing = (rec.execution_result as { timing?: { tokens_per_s?: number } | null } | null)?.timing;
    if (typeof timing?.tokens_per_s === "number") d.onTokensPerSecond?.(timing.tokens_per_s);
    return d.record(rec);
  };

  return {
    async handle(req, res, principal) {
      let f: Awaited<ReturnType<typeof open>>;
      try {
        f = await open();
      } catch (err) {
        throw new HttpError(
          Codes.BACKEND_UNAVAILABLE,
          `inference backend unavailable: ${(err as Error).message}`,
        );
      }
      return f.make(principal)(req, res);
    },
    served: () => served,
    async close() {
      if (opened === undefined) return;
      try {
        await (await opened).backend.close();
      } catch {
        // never opened: nothing to close
      }
    },
  };
}
