import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { Codes, ForgeError } from "../errors.js";
import { nowRfc3339, promptHash, type RecordInput } from "../protocol/record.js";
import type { ChatMessage, Chunk, DoneReason, InferenceBackend, Timing, ToolCall } from "./backend.js";
import { abortOnClose, toForge } from "./facade-http.js";
import type { Reply } from "./facade-stream.js";

/**
 * What both governed facades share: one request's identity and clock, the gating of every tool
 * call before the client sees it, and the one `inference` record each request leaves.
 */

/** What the daemon supplies: the backend, the gate (via `govern`), the evidence store and peer identity. */
export interface FacadeDeps {
  backend: InferenceBackend;
  /**
   * Gate one tool call. The daemon implements it: gate decision, durable record, and for ESCALATE
   * it waits for the review or the deadline before resolving (to ALLOW or DENY).
   */
  govern(
    call: ToolCall,
    ctx: { session_id: string; principal: string | null; prompt_hash: string; client?: string },
  ): Promise<{ evaluation: "ALLOW" | "DENY" | "ESCALATE"; action_id: string | null; reasons: string[] }>;
  /** Write one `inference` evidence record. */
  record(rec: RecordInput): Promise<unknown>;
  /** The caller's identity from peer credentials, or null; a fixed value when the daemon makes one facade per peer. */
  principal: ((req: IncomingMessage) => string | null) | string | null;
  /** Largest request body, bytes. Default 8 MiB. */
  maxBodyBytes?: number;
  /** How long a client may take to send its body, ms. Default 10 000. */
  bodyTimeoutMs?: number;
  /** What /api/version reports. Default "0.12.0" (the Ollama API this facade speaks). */
  version?: string;
  /**
   * A system prompt template pulled from the registry (src/registry): used for a request that
   * brings no system prompt, and named by its digest in that request's inference record.
   */
  promptTemplate?: { reference: string; digest: string; text: string };
  /**
   * What serving admission decided for the served model (src/lifecycle/admission.ts): its manifest
   * digest and stage, or `exempt` for the embedded smoke-test model. Named in every inference record.
   */
  admission?: ModelAdmission;
}

export interface ModelAdmission {
  /** The model manifest digest (registry models); null for a local file. */
  digest: string | null;
  reference: string | null;
  stage: string | null;
  /** The embedded smoke-test model (random weights): exempt from admission, labelled so. */
  exempt: boolean;
  label: string;
  /** The `model.serve` record's action id. */
  action_id: string | null;
}

/** Which API a request came in on: names the session prefix and the delegate in the gate's record. */
export type FacadeApi = "ollama" | "openai";

/** One request's bookkeeping: identity, clock, and what the gate said about its tool calls. */
export interface Turn {
  api: FacadeApi;
  session_id: string;
  principal: string | null;
  prompt_hash: string;
  model: string;
  created_at: string;
  t0: number;
  gated: { name: string; action_id: string; evaluation: string }[];
  /** The registry template this turn used, if any. */
  template: { reference: string; digest: string } | null;
}

/** `messages` with the registry template as the system prompt when they bring none (and the turn says so). */
export function withTemplate(deps: FacadeDeps, turn: Turn, messages: ChatMessage[]): ChatMessage[] {
  const tpl = deps.promptTemplate;
  if (tpl === undefined || messages.some((m) => m.role === "system")) return messages;
  turn.template = { reference: tpl.reference, digest: tpl.digest };
  return [{ role: "system", content: tpl.text }, ...messages];
}

/** The system prompt for a generate request: its own, else the registry template (not for raw prompts). */
export function templateSystem(
  deps: FacadeDeps,
  turn: Turn,
  system?: string,
  raw?: boolean,
): string | undefined {
  if (system || raw || deps.promptTemplate === undefined) return system || undefined;
  const tpl = deps.promptTemplate;
  turn.template = { reference: tpl.reference, digest: tpl.digest };
  return tpl.text;
}

/** A tool call the gate did not allow, and the line the agent's loop reads instead of it. */
export interface Withheld {
  call: ToolCall;
  evaluation: string;
  action_id: string;
  note: string;
}

export function startTurn(
  deps: FacadeDeps,
  api: FacadeApi,
  req: IncomingMessage,
  model: string | undefined,
  prompt: unknown,
): Turn {
  const header = req.headers["x-forge-session"];
  let session_id: string;
  if (header === undefined) session_id = `${api}-${randomUUID()}`;
  else if (typeof header === "string" && /^[\x21-\x7e]{1,256}$/.test(header)) session_id = header;
  else throw new ForgeError(Codes.BAD_REQUEST, "x-forge-session must be 1-256 printable ASCII characters");
  return {
    api,
    session_id,
    principal: typeof deps.principal === "function" ? deps.principal(req) : deps.principal,
    prompt_hash: promptHash(prompt),
    model: model || deps.backend.defaultModel,
    created_at: new Date().toISOString(),
    t0: performance.now(),
    gated: [],
    template: null,
  };
}

/**
 * Gates each call in order. Anything but a resolved ALLOW (an error too) removes the call and
 * leaves a note naming the call, the outcome, the reasons and the action id.
 */
export async function gateCalls(
  deps: FacadeDeps,
  turn: Turn,
  calls: ToolCall[],
): Promise<{ calls: ToolCall[]; withheld: Withheld[]; notes: string[] }> {
  const keep: ToolCall[] = [];
  const withheld: Withheld[] = [];
  for (const call of calls) {
    const name = call.function.name;
    let verdict: { evaluation: string; action_id: string | null; reasons: string[] };
    try {
      verdict = await deps.govern(call, {
        session_id: turn.session_id,
        principal: turn.principal,
        prompt_hash: turn.prompt_hash,
        client: `${turn.api}-api client`,
      });
    } catch (err) {
      verdict = { evaluation: "DENY", action_id: "none", reasons: [`gate error: ${(err as Error).message}`] };
    }
    const action_id = verdict.action_id ?? "none";
    turn.gated.push({ name, action_id, evaluation: verdict.evaluation });
    if (verdict.evaluation === "ALLOW") keep.push(call);
    else {
      const why = verdict.evaluation === "ESCALATE" ? "review did not resolve" : "denied";
      const reasons = verdict.reasons.length > 0 ? verdict.reasons.join("; ") : "no reason given";
      withheld.push({
        call,
        evaluation: verdict.evaluation,
        action_id,
        note: `[forge-agent] tool call ${name} ${why}: ${reasons} (action ${action_id})`,
      });
    }
  }
  return { calls: keep, withheld, notes: withheld.map((w) => w.note) };
}

export function finish(chunk: Chunk): { timing: Timing | undefined; doneReason: DoneReason } {
  return { timing: chunk.timing, doneReason: chunk.done_reason ?? "stop" };
}

/** The `inference` record of one request: what was asked (hashed), which model, timing, gated calls. */
export function inferenceRecord(
  deps: FacadeDeps,
  turn: Turn,
  endpoint: string,
  options: unknown,
  t: Timing | undefined,
  doneReason: DoneReason | null,
  error?: { code: string; message: string },
): RecordInput {
  const ms = performance.now() - turn.t0;
  return {
    kind: "inference",
    session_id: turn.session_id,
    action_id: `inf-${randomUUID()}`,
    timestamp: nowRfc3339(),
    prompt_hash: turn.prompt_hash,
    proposed_action: {
      kind: "inference",
      endpoint,
      model: turn.model,
      backend: deps.backend.name,
      options: options ?? {},
      ...(turn.template ? { prompt_template: turn.template } : {}),
      ...(deps.admission ? { model_admission: deps.admission } : {}),
    },
    evaluation: null,
    policy_matched: { bundle: null, rules: [] },
    composition_state: null,
    execution_result: {
      model: turn.model,
      backend: deps.backend.name,
      /** Wall time of the request, ms (not the gate's: `latency_ms` is the gate's, and the request itself is not gated). */
      duration_ms: ms,
      done_reason: doneReason,
      /** The backend's timing record (token counts, ttft_ms, tokens_per_s); null when it failed. */
      timing: t ?? null,
      tool_calls: turn.gated,
      ...(error ? { error } : {}),
    },
    principal_review: null,
    // The request is not gated (each tool call has its own action record and gate time).
    latency_ms: 0,
    principal: turn.principal,
  };
}

/** Records a failed request; never throws (the original error is what the client needs). */
export async function recordFailure(
  deps: FacadeDeps,
  turn: Turn,
  endpoint: string,
  err: unknown,
): Promise<void> {
  const e = toForge(err);
  try {
    await deps.record(
      inferenceRecord(deps, turn, endpoint, undefined, undefined, null, { code: e.code, message: e.message }),
    );
  } catch {
    // The store reports its own failures.
  }
}

/**
 * One backend stream for a turn: generation is aborted if the client hangs up, `each` sees every
 * chunk, then the last bytes go out and the turn's record is written (or, on failure, a record of
 * the failure, and the error is rethrown for the caller's error shape).
 */
export async function streamTurn(
  deps: FacadeDeps,
  turn: Turn,
  out: Reply,
  endpoint: string,
  options: unknown,
  open: (signal: AbortSignal) => AsyncIterable<Chunk>,
  each: (chunk: Chunk) => Promise<void> | void,
): Promise<{ timing: Timing | undefined; doneReason: DoneReason }> {
  const abort = abortOnClose(out.res);
  let timing: Timing | undefined;
  let doneReason: DoneReason = "stop";
  try {
    for await (const chunk of open(abort.signal)) {
      await each(chunk);
      if (chunk.done) ({ timing, doneReason } = finish(chunk));
    }
    // The last tokens go out now; the record must not delay them.
    await out.flush();
    await deps.record(inferenceRecord(deps, turn, endpoint, options, timing, doneReason));
  } catch (err) {
    out.flush();
    await recordFailure(deps, turn, endpoint, err);
    throw err;
  } finally {
    abort.dispose();
  }
  return { timing, doneReason };
}
