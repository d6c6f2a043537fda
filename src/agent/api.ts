import type { IncomingMessage, ServerResponse } from "node:http";
import { isAbsolute } from "node:path";
import type { Logger } from "pino";
import { z } from "zod";
import { Codes, hasForgeCode } from "../errors.js";
import { type Action, parseAction } from "../gate/actions.js";
import { HttpError, readJson, sendJson } from "../http.js";
import { answerOllamaRoot, isFacadePath, isOllamaPath } from "../inference/routes.js";
import type { StoredRecord } from "../protocol/record.js";
import type { ActionService, Principal } from "./actions.js";
import { badRequest, notFound, sendError } from "./http.js";
import type { AgentMetrics } from "./metrics.js";
import { governedAncestor, type ProcessLink } from "./peer.js";
import { REVIEW_TOKEN_HEADER, tokenMatches } from "./review-token.js";
import { buildTrace, mergeCopies, missingShipped } from "./trace.js";

/** The caller on the other end of a connection, from SO_PEERCRED (or a fixed name for loopback TCP). */
export type Peer =
  | { ok: true; uid: number | null; pid: number | null; gid: number | null; name: string }
  | { ok: false; error: string };

export interface ApiOptions {
  service: ActionService;
  metrics: AgentMetrics;
  logger: Logger;
  maxBodyBytes: number;
  maxWaitMs: number;
  proposers: ReadonlySet<number>;
  reviewers: ReadonlySet<number>;
  health: () => Record<string, unknown>;
  /** The governed Ollama-compatible facade; resolves false when it does not serve the path. */
  facade: (req: IncomingMessage, res: ServerResponse, principal: Principal) => Promise<boolean>;
  /** Drift state (GET /v1/drift?signal=&since=); absent: 404. */
  drift?: (q: { signal?: string; sinceMs?: number }) => Promise<unknown>;
  /** Records already shipped and pruned locally (the collector's copy), for traces. */
  archive?: (session_id: string) => Promise<StoredRecord[]>;
  /** The review capability a reviewer must present (header x-forge-review-token). */
  reviewToken: string;
  /** Where the token lives, for the error message. */
  reviewTokenPath: string;
  /** The agent's pid: its detached children are executed actions, which may never review. */
  agentPid: number;
  /** A peer's process ancestry, nearest first (Linux /proc); empty when unknown. */
  ancestry: (pid: number) => ProcessLink[];
  /** `POST /v1/policy/reload`: a reviewer confirms a reload the file watcher refused as widening. */
  confirmPolicyReload?: (reviewer: string) => Promise<Record<string, unknown>>;
  /** `POST /v1/lifecycle/promote`: a governed promotion (src/agent/lifecycle.ts); absent: 404. */
  promote?: (
    body: { ref: string; stage: string; reason?: string | null },
    who: Principal,
  ) => Promise<unknown>;
  /** `POST /v1/training/run`: a training job run by the daemon (src/agent/training.ts); absent: 404. */
  train?: (body: { job: string; resume: boolean }, who: Principal) => Promise<unknown>;
  /** `GET /v1/lineage/:id`: an action id or a model digest (src/lifecycle/lineage.ts); absent: 404. */
  lineage?: (id: string) => Promise<unknown>;
  /** `GET /v1/gate/state?session=&principal=`: the composition state (labels and who set them). */
  gateState?: (q: { session?: string; principal?: string }) => unknown;
  /** `POST /v1/gate/state/clear`: a governed clear (reviewed; never of the caller's own state). */
  clearGateState?: (body: { session?: string; principal?: string }, who: Principal) => Promise<unknown>;
  /**
   * `POST /v1/sessions/:id/workspace`: the caller declares a session's workspace roots (issue 19
   * §3), once, before the session's first action; absent: 404.
   */
  declareWorkspace?: (session_id: string, roots: string[], who: Principal) => Promise<unknown>;
  /** `POST /v1/benchmarks`: `forge-agent bench` records its run through the agent that owns the store; absent: 404. */
  benchmark?: (
    body: { action_id: string; intent: Record<string, unknown>; result: Record<string, unknown> },
    who: Principal,
  ) => Promise<unknown>;
}

const BenchmarkBody = z.strictObject({
  action_id: z.string().regex(/^bench-[A-Za-z0-9._:-]{1,200}$/, "bench-<id>"),
  intent: z.record(z.string(), z.unknown()),
  result: z.record(z.string(), z.unknown()),
});

const PromoteBody = z.strictObject({
  ref: z.string().min(1).max(2048),
  stage: z.string().min(1).max(128),
  reason: z.string().max(4096).nullable().optional(),
});

const TrainBody = z.strictObject({
  /** The job file, an absolute path the agent reads. */
  job: z.string().min(1).max(4096),
  resume: z.boolean().default(false),
});

const ClearStateBody = z
  .strictObject({
    session: z.string().min(1).max(256).optional(),
    principal: z.string().min(1).max(256).optional(),
  })
  .refine(
    (b) => b.session !== undefined || b.principal !== undefined,
    "name a session, a principal, or both",
  );

const WorkspaceBody = z.strictObject({
  /** Absolute directories, each inside a configured workspace root (executors.workspaces). */
  roots: z.array(z.string().min(1).max(4096).startsWith("/", "must be an absolute path")).min(1).max(64),
});

const ProposeBody = z.strictObject({
  session_id: z.string().min(1).max(256),
  prompt: z
    .string()
    .max(1 << 20)
    .optional(),
  proposed_action: z.unknown(),
  execute: z.boolean().optional(),
});

const EvaluateBody = z.strictObject({
  session_id: z.string().min(1).max(256),
  proposed_action: z.unknown(),
});

const PROPOSE_KEYS = new Set(Object.keys(ProposeBody.shape));

/**
 * A proposal's body as ProposeBody would return it, checked without zod when it certainly passes
 * as it stands (every proposal a client sends); undefined when in doubt, and zod then parses it,
 * for its result or its error. Lengths in UTF-16 units: within them, certainly within zod's.
 */
function plainPropose(b: unknown): z.infer<typeof ProposeBody> | undefined {
  if (typeof b !== "object" || b === null || Array.isArray(b)) return undefined;
  for (const k in b) if (!PROPOSE_KEYS.has(k)) return undefined;
  const o = b as Record<string, unknown>;
  const s = o.session_id;
  if (typeof s !== "string" || s.length < 1 || s.length > 256) return undefined;
  if (o.prompt !== undefined && (typeof o.prompt !== "string" || o.prompt.length > 1 << 20)) return undefined;
  if (o.execute !== undefined && typeof o.execute !== "boolean") return undefined;
  return o as z.infer<typeof ProposeBody>;
}

/** The longest a reported result may wait to share a later group commit (`?defer_ms=`). */
const MAX_DEFER_MS = 1_000;

const ReviewBody = z.strictObject({
  decision: z.enum(["approve", "deny"]),
  reason: z.string().max(4096).nullable().optional(),
});

type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  peer: Peer & { ok: true },
  params: string[],
) => Promise<void>;
type Access = "any" | "proposer" | "reviewer" | "either";

interface Route {
  pattern: RegExp;
  methods: Record<string, { access: Access; handle: Handler }>;
}

/** Builds the request handler of the socket API. Every failure is answered `{"error":{code,message}}`. */
export function createApi(
  o: ApiOptions,
): (req: IncomingMessage, res: ServerResponse, peer: Peer) => Promise<void> {
  const principal = (p: Peer & { ok: true }): Principal => ({
    gate: p.uid === null ? p.name : `uid:${p.uid}`,
    record: p.name,
  });

  const routes: Route[] = [
    {
      pattern: /^\/v1\/actions$/,
      methods: {
        POST: {
          access: "proposer",
          handle: async (req, res, peer) => {
            const raw = await readJson(req, o.maxBodyBytes, BODY);
            const body = plainPropose(raw) ?? parseBody(ProposeBody, raw);
            const action = proposable(body.proposed_action);
            const view = await o.service.propose(
              {
                session_id: body.session_id,
                prompt: body.prompt,
                proposed_action: action,
                execute: body.execute,
              },
              principal(peer),
            );
            sendJson(res, 200, view);
          },
        },
      },
    },
    {
      // A dry run: the verdict the gate would give now; writes nothing, returns no action id.
      pattern: /^\/v1\/evaluate$/,
      methods: {
        POST: {
          access: "proposer",
          handle: async (req, res, peer) => {
            const body = parseBody(EvaluateBody, await readJson(req, o.maxBodyBytes, BODY));
            const action = proposable(body.proposed_action);
            sendJson(
              res,
              200,
              o.service.preview({ session_id: body.session_id, proposed_action: action }, principal(peer)),
            );
          },
        },
      },
    },
    {
      pattern: /^\/v1\/actions\/([^/]+)$/,
      methods: {
        GET: {
          access: "either",
          handle: async (req, res, _peer, [id]) => {
            const wait = intParam(req, "wait", o.maxWaitMs);
            const view = await o.service.wait(id!, wait);
            if (view === undefined) throw notFound(`action ${id}`);
            sendJson(res, 200, view);
          },
        },
      },
    },
    {
      pattern: /^\/v1\/actions\/([^/]+)\/result$/,
      methods: {
        POST: {
          access: "proposer",
          handle: async (req, res, peer, [id]) => {
            const body = await readJson(req, o.maxBodyBytes, BODY);
            if (body === null || typeof body !== "object" || Array.isArray(body)) {
              throw badRequest('the result must be a JSON object, e.g. {"status":"ok","exit_code":0}');
            }
            const deferMs = intParam(req, "defer_ms", MAX_DEFER_MS);
            sendJson(
              res,
              200,
              await o.service.report(id!, body as Record<string, unknown>, principal(peer), deferMs),
            );
          },
        },
      },
    },
    {
      pattern: /^\/v1\/reviews$/,
      methods: {
        GET: {
          access: "reviewer",
          handle: async (_req, res) => sendJson(res, 200, { reviews: o.service.reviews() }),
        },
      },
    },
    {
      pattern: /^\/v1\/reviews\/([^/]+)$/,
      methods: {
        POST: {
          access: "reviewer",
          handle: async (req, res, peer, [id]) => {
            const body = parseBody(ReviewBody, await readJson(req, o.maxBodyBytes, BODY));
            const pending = o.service.view(id!);
            const proposerPid = pidOf(pending?.principal);
            // (An unknown id falls through to the service's 404.)
            if (pending !== undefined && peer.pid !== null) {
              if (proposerPid !== null && peer.pid === proposerPid) {
                throw new HttpError(
                  Codes.SELF_REVIEW,
                  `pid ${peer.pid} proposed action ${id}: the proposer may not review its own action; a different reviewer (forge-agent review, the collector console) must`,
                );
              }
              const why = governedAncestor(o.ancestry(peer.pid), o.agentPid, proposerPid);
              if (why !== null) {
                throw new HttpError(Codes.SELF_REVIEW, `${why}: it may not review`);
              }
            }
            const view = await o.service.review(
              id!,
              body.decision,
              body.reason ?? null,
              principal(peer).record,
            );
            sendJson(res, 200, view);
          },
        },
      },
    },
    {
      pattern: /^\/v1\/policy\/reload$/,
      methods: {
        POST: {
          access: "reviewer",
          handle: async (_req, res, peer) => {
            if (o.confirmPolicyReload === undefined) throw notFound("route /v1/policy/reload");
            if (peer.pid !== null) {
              const why = governedAncestor(o.ancestry(peer.pid), o.agentPid, null);
              if (why !== null)
                throw new HttpError(Codes.SELF_REVIEW, `${why}: it may not confirm a policy reload`);
            }
            sendJson(res, 200, await o.confirmPolicyReload(principal(peer).record));
          },
        },
      },
    },
    {
      pattern: /^\/v1\/gate\/state$/,
      methods: {
        GET: {
          access: "either",
          handle: async (req, res) => {
            if (o.gateState === undefined) throw notFound("route /v1/gate/state");
            const q = new URLSearchParams((req.url ?? "").split("?")[1] ?? "");
            sendJson(
              res,
              200,
              o.gateState({
                ...(q.get("session") ? { session: q.get("session")! } : {}),
                ...(q.get("principal") ? { principal: q.get("principal")! } : {}),
              }),
            );
          },
        },
      },
    },
    {
      pattern: /^\/v1\/gate\/state\/clear$/,
      methods: {
        POST: {
          access: "proposer",
          handle: async (req, res, peer) => {
            if (o.clearGateState === undefined) throw notFound("route /v1/gate/state/clear");
            const body = parseBody(ClearStateBody, await readJson(req, o.maxBodyBytes, BODY));
            // An executed action (the governed model's own commands) never asks for a clear.
            if (peer.pid !== null) {
              const why = governedAncestor(o.ancestry(peer.pid), o.agentPid, null);
              if (why !== null) throw new HttpError(Codes.SELF_REVIEW, `${why}: it may not clear gate state`);
            }
            sendJson(res, 200, await o.clearGateState(body, principal(peer)));
          },
        },
      },
    },
    {
      pattern: /^\/v1\/benchmarks$/,
      methods: {
        POST: {
          access: "proposer",
          handle: async (req, res, peer) => {
            if (o.benchmark === undefined) throw notFound("route /v1/benchmarks");
            const body = parseBody(BenchmarkBody, await readJson(req, o.maxBodyBytes, BODY));
            sendJson(res, 200, await o.benchmark(body, principal(peer)));
          },
        },
      },
    },
    {
      pattern: /^\/v1\/sessions\/([^/]+)\/workspace$/,
      methods: {
        POST: {
          access: "proposer",
          handle: async (req, res, peer, [id]) => {
            if (o.declareWorkspace === undefined) throw notFound("route /v1/sessions/:id/workspace");
            if (id!.length > 256) throw badRequest("session id: at most 256 characters");
            const body = parseBody(WorkspaceBody, await readJson(req, o.maxBodyBytes, BODY));
            // An executed action (the governed model's own commands) never declares a workspace:
            // it could widen its own.
            if (peer.pid !== null) {
              const why = governedAncestor(o.ancestry(peer.pid), o.agentPid, null);
              if (why !== null)
                throw new HttpError(Codes.SELF_REVIEW, `${why}: it may not declare a session's workspace`);
            }
            sendJson(res, 200, await o.declareWorkspace(id!, body.roots, principal(peer)));
          },
        },
      },
    },
    {
      pattern: /^\/v1\/sessions\/([^/]+)\/trace$/,
      methods: {
        GET: {
          access: "either",
          handle: async (_req, res, _peer, [id]) => {
            const { records, pending } = o.service.session(id!);
            let archived: StoredRecord[] = [];
            let note: string | undefined;
            if (o.archive !== undefined) {
              try {
                archived = await o.archive(id!);
              } catch (err) {
                note = missingShipped(err);
              }
            }
            const trace = buildTrace(id!, mergeCopies(archived, records), pending);
            sendJson(res, 200, {
              ...trace,
              sources: {
                local: records.length,
                collector: archived.length,
                ...(note ? { incomplete: note } : {}),
              },
            });
          },
        },
      },
    },
    {
      pattern: /^\/v1\/drift$/,
      methods: {
        GET: {
          access: "either",
          handle: async (req, res) => {
            if (o.drift === undefined) throw notFound("drift detection");
            const q = new URLSearchParams((req.url ?? "").split("?")[1] ?? "");
            const since = q.get("since");
            let sinceMs: number | undefined;
            if (since !== null && since !== "") {
              sinceMs = /^\d+$/.test(since) ? Number(since) : Date.parse(since);
              if (!Number.isFinite(sinceMs))
                throw badRequest("'since' must be RFC 3339 (2026-12-02T10:00:00Z) or epoch milliseconds");
            }
            sendJson(res, 200, await o.drift({ signal: q.get("signal") || undefined, sinceMs }));
          },
        },
      },
    },
    {
      pattern: /^\/v1\/lifecycle\/promote$/,
      methods: {
        POST: {
          access: "proposer",
          handle: async (req, res, peer) => {
            if (o.promote === undefined) throw notFound("route /v1/lifecycle/promote");
            const body = parseBody(PromoteBody, await readJson(req, o.maxBodyBytes, BODY));
            sendJson(res, 200, await o.promote(body, principal(peer)));
          },
        },
      },
    },
    {
      pattern: /^\/v1\/training\/run$/,
      methods: {
        POST: {
          access: "proposer",
          handle: async (req, res, peer) => {
            if (o.train === undefined) throw notFound("route /v1/training/run");
            const body = parseBody(TrainBody, await readJson(req, o.maxBodyBytes, BODY));
            if (!isAbsolute(body.job)) throw badRequest("'job' must be an absolute path");
            sendJson(res, 200, await o.train(body, principal(peer)));
          },
        },
      },
    },
    {
      pattern: /^\/v1\/lineage\/([^/]+)$/,
      methods: {
        GET: {
          access: "either",
          handle: async (_req, res, _peer, [id]) => {
            if (o.lineage === undefined) throw notFound("route /v1/lineage");
            sendJson(res, 200, await o.lineage(decodeURIComponent(id!)));
          },
        },
      },
    },
    {
      pattern: /^\/v1\/health$/,
      methods: { GET: { access: "any", handle: async (_req, res) => sendJson(res, 200, o.health()) } },
    },
    {
      pattern: /^\/metrics$/,
      methods: {
        GET: {
          access: "either",
          handle: async (_req, res) => {
            const text = await o.metrics.registry.metrics();
            res.writeHead(200, { "content-type": o.metrics.registry.contentType });
            res.end(text);
          },
        },
      },
    },
  ];

  const allowed = (access: Access, uid: number | null): boolean => {
    if (access === "any") return true;
    if (uid === null) return false;
    if (access === "proposer") return o.proposers.has(uid);
    if (access === "reviewer") return o.reviewers.has(uid);
    return o.proposers.has(uid) || o.reviewers.has(uid);
  };

  const debug = o.logger.isLevelEnabled("debug");
  return async (req, res, peer) => {
    if (debug) {
      const t0 = performance.now();
      res.once("finish", () =>
        o.logger.debug(
          {
            method: req.method,
            url: req.url?.slice(0, 200),
            status: res.statusCode,
            ms: Math.round((performance.now() - t0) * 1000) / 1000,
            peer: peer.ok ? peer.name : null,
          },
          "request",
        ),
      );
    }
    try {
      if (!peer.ok) {
        throw new HttpError(Codes.UNAUTHENTICATED, `caller's credentials unavailable: ${peer.error}`);
      }
      const path = pathOf(req);
      if (isFacadePath(path)) {
        if (!allowed("proposer", peer.uid)) throw forbidden(peer, "api.allowed_proposer_uids");
        if (path === "/") return answerOllamaRoot(req, res);
        if (await o.facade(req, res, principal(peer))) return;
        throw notFound(`route ${path}`);
      }
      for (const route of routes) {
        const m = route.pattern.exec(path);
        if (m === null) continue;
        const entry = route.methods[req.method ?? ""];
        if (entry === undefined) {
          const allow = Object.keys(route.methods).join(", ");
          throw new HttpError(
            Codes.METHOD_NOT_ALLOWED,
            `${req.method} not allowed on ${path} (allow: ${allow})`,
            {
              allow,
            },
          );
        }
        if (!allowed(entry.access, peer.uid)) {
          throw forbidden(
            peer,
            entry.access === "reviewer" ? "api.allowed_reviewer_uids" : "api.allowed_proposer_uids",
          );
        }
        // Reviewing is a capability of its own, never "the same uid" (docs/security.md).
        if (entry.access === "reviewer" && !tokenMatches(req.headers[REVIEW_TOKEN_HEADER], o.reviewToken)) {
          throw new HttpError(
            Codes.REVIEW_TOKEN_REQUIRED,
            `reviews need the review token in the ${REVIEW_TOKEN_HEADER} header: 'forge-agent review' reads it from ${o.reviewTokenPath} (review.token_file)`,
          );
        }
        const params = m.slice(1).map((s) => {
          try {
            return decodeURIComponent(s);
          } catch {
            throw badRequest(`bad percent-encoding in ${path}`);
          }
        });
        await entry.handle(req, res, peer, params);
        return;
      }
      throw notFound(`route ${path}`);
    } catch (err) {
      if (!hasForgeCode(err)) {
        o.logger.error({ err, method: req.method, url: req.url?.slice(0, 200) }, "request failed");
      }
      // The body may be unread (an early refusal); drain it so the connection stays usable.
      if (!req.complete) req.resume();
      // Ollama clients read `{"error": "..."}` (a string): its own error shape on its own paths.
      sendError(res, err, isOllamaPath((req.url ?? "").split("?")[0]!) ? "ollama" : "forge");
    }
  };
}

const BODY = { limitKey: "api.max_body_bytes" };

/** "uid:501 pid:42" → 42; principals without a pid → null. */
function pidOf(principal: string | null | undefined): number | null {
  const m = /\bpid:(\d+)/.exec(principal ?? "");
  return m === null ? null : Number(m[1]);
}

function pathOf(req: IncomingMessage): string {
  const raw = req.url ?? "/";
  if (!raw.startsWith("/")) throw badRequest("request target must be an absolute path");
  const q = raw.indexOf("?");
  return q === -1 ? raw : raw.slice(0, q);
}

/** A caller's action, parsed; lifecycle facts are established by the agent, never claimed by a caller. */
function proposable(raw: unknown): Action {
  const action = parseAction(raw);
  if (action.kind === "model.promote" || action.kind === "model.serve")
    throw badRequest(
      `${action.kind} is not proposed here: its facts are established by the agent (promote: POST /v1/lifecycle/promote or 'forge-agent promote')`,
    );
  if (action.kind === "gate.state.clear")
    throw badRequest(
      "gate.state.clear is not proposed here: POST /v1/gate/state/clear or 'forge-agent state clear' (the daemon proposes it and clears what was approved)",
    );
  return action;
}

/** A whole-milliseconds query parameter, capped at `max`; absent: 0. */
function intParam(req: IncomingMessage, name: string, max: number): number {
  const raw = req.url ?? "";
  const q = raw.indexOf("?");
  if (q === -1) return 0;
  const v = new URLSearchParams(raw.slice(q + 1)).get(name);
  if (v === null) return 0;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw badRequest(`${name} must be a whole number of milliseconds`);
  return Math.min(n, max);
}

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const where = issue.path.length > 0 ? issue.path.join(".") : "body";
  const what = issue.code === "unrecognized_keys" ? `unknown field '${issue.keys[0]}'` : issue.message;
  throw badRequest(`${where}: ${what}`);
}

function forbidden(peer: Peer & { ok: true }, key: string): HttpError {
  return new HttpError(Codes.FORBIDDEN, `${peer.name} is not allowed here: add its uid to ${key}`);
}
