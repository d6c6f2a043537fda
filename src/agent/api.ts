import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { z } from "zod";
import { Codes } from "../errors.js";
import type { StoredRecord } from "../evidence/record.js";
import { parseAction } from "../gate/actions.js";
import { isFacadePath } from "../inference/routes.js";
import type { ActionService, Principal } from "./actions.js";
import { badRequest, HttpError, notFound, readJson, sendError, sendJson } from "./http.js";
import type { AgentMetrics } from "./metrics.js";
import { buildTrace } from "./trace.js";

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
  /** Records already shipped and pruned locally (the collector's copy), for traces. */
  archive?: (session_id: string) => Promise<StoredRecord[]>;
}

const ProposeBody = z.strictObject({
  session_id: z.string().min(1).max(256),
  prompt: z
    .string()
    .max(1 << 20)
    .optional(),
  proposed_action: z.unknown(),
  execute: z.boolean().optional(),
});

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
            const body = parseBody(ProposeBody, await readJson(req, o.maxBodyBytes));
            const action = parseAction(body.proposed_action);
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
      pattern: /^\/v1\/actions\/([^/]+)$/,
      methods: {
        GET: {
          access: "either",
          handle: async (req, res, _peer, [id]) => {
            const wait = waitParam(req, o.maxWaitMs);
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
            const body = await readJson(req, o.maxBodyBytes);
            if (body === null || typeof body !== "object" || Array.isArray(body)) {
              throw badRequest('the result must be a JSON object, e.g. {"status":"ok","exit_code":0}');
            }
            sendJson(res, 200, await o.service.report(id!, body as Record<string, unknown>, principal(peer)));
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
            const body = parseBody(ReviewBody, await readJson(req, o.maxBodyBytes));
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
                note = `records already shipped to the collector are missing: ${(err as Error).message}`;
              }
            }
            // Local and collector copies overlap until the ack prunes: one step per seq.
            const bySeq = new Map<number, StoredRecord>();
            for (const r of [...archived, ...records]) bySeq.set(r.seq, r);
            const trace = buildTrace(id!, [...bySeq.values()], pending);
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
        throw new HttpError(401, Codes.UNAUTHENTICATED, `caller's credentials unavailable: ${peer.error}`);
      }
      const path = pathOf(req);
      if (isFacadePath(path)) {
        if (!allowed("proposer", peer.uid)) throw forbidden(peer, "api.allowed_proposer_uids");
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
            405,
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
      if (!(err instanceof HttpError) && !(err as { code?: string })?.code?.startsWith?.("FORGE_")) {
        o.logger.error({ err, method: req.method, url: req.url?.slice(0, 200) }, "request failed");
      }
      // The body may be unread (an early refusal); drain it so the connection stays usable.
      if (!req.complete) req.resume();
      sendError(res, err);
    }
  };
}

function pathOf(req: IncomingMessage): string {
  const raw = req.url ?? "/";
  if (!raw.startsWith("/")) throw badRequest("request target must be an absolute path");
  const q = raw.indexOf("?");
  return q === -1 ? raw : raw.slice(0, q);
}

function waitParam(req: IncomingMessage, max: number): number {
  const raw = req.url ?? "";
  const q = raw.indexOf("?");
  if (q === -1) return 0;
  const v = new URLSearchParams(raw.slice(q + 1)).get("wait");
  if (v === null) return 0;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw badRequest("wait must be a whole number of milliseconds");
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
  return new HttpError(403, Codes.FORBIDDEN, `${peer.name} is not allowed here: add its uid to ${key}`);
}
