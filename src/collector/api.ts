import { Codes, ForgeError } from "../errors.js";
import { servedModels, trainingRuns, walkLineage } from "../lifecycle/lineage.js";
import { CloseCodes } from "../protocol/messages.js";
import type { CollectorContext } from "./context.js";
import { tokensEqual } from "./operators.js";
import { badParam, intParam, onlyParams, rangeParams, textParam } from "./query.js";
import type { RouteRequest } from "./routes.js";
import type { HostRow } from "./storage.js";

const MAX_LIMIT = 10_000;
/** Sessions GET /v1/sessions lists at most. */
const MAX_SESSIONS = 1000;

/** The host as the API shows it (no heartbeat body in lists). */
function hostView(h: HostRow, connected: boolean) {
  return {
    host_id: h.host_id,
    status: h.status,
    connected,
    epoch: h.epoch,
    last_seq: h.head_seq,
    last_hash: h.head_hash,
    checkpoint_seq: h.checkpoint_seq,
    first_seen_ms: h.first_seen_ms,
    last_seen_ms: h.last_seen_ms,
    last_heartbeat_ms: h.last_heartbeat_ms,
    public_key_pem: h.public_key_pem,
  };
}

function requireAdmin(ctx: CollectorContext, req: RouteRequest): void {
  if (ctx.adminToken === null) {
    throw new ForgeError(
      Codes.FORBIDDEN,
      "admin routes are disabled: start the collector with an admin token",
    );
  }
  const auth = req.headers.authorization;
  if (
    typeof auth !== "string" ||
    !auth.startsWith("Bearer ") ||
    !tokensEqual(auth.slice(7), ctx.adminToken)
  ) {
    throw new ForgeError(Codes.UNAUTHENTICATED, "admin routes need 'Authorization: Bearer <admin token>'");
  }
}

/** Records a lineage walk reads at most (the collector's query has no kind filter yet: one scan). */
const LINEAGE_SCAN = 1_000_000;

/** The built-in HTTP routes: records, hosts, fleet, alerts, metrics, host admin. */
export function registerApi(ctx: CollectorContext): void {
  const { routes, storage } = ctx;

  routes.add("GET", "/v1/records", async (req) => {
    const q = req.query;
    const records = await storage.records({
      host_id: q.get("host_id") || undefined,
      session_id: q.get("session_id") || undefined,
      after_seq: intParam(q, "after_seq"),
      ...rangeParams(q),
      limit: Math.min(MAX_LIMIT, intParam(q, "limit", 1000, 1)!),
    });
    return { json: { records } };
  });

  // A search over sessions: by text (session id or record text), host and time range.
  routes.add("GET", "/v1/sessions", async (req) => {
    const q = req.query;
    onlyParams(q, ["q", "host_id", "since", "until", "limit"]);
    const sessions = await storage.sessions({
      text: textParam(q, "q", 200),
      host_id: textParam(q, "host_id", 200),
      ...rangeParams(q),
      limit: Math.min(MAX_SESSIONS, intParam(q, "limit", 100, 1)!),
    });
    return { json: { sessions } };
  });

  // Decisions the hosts made before their final records (protocol 3): central within seconds.
  routes.add("GET", "/v1/decisions", async (req) => {
    const q = req.query;
    const decisions = await storage.decisions({
      host_id: q.get("host_id") || undefined,
      session_id: q.get("session_id") || undefined,
      limit: Math.min(MAX_LIMIT, intParam(q, "limit", 1000, 1)!),
    });
    return { json: { decisions } };
  });

  // Lineage and what each host serves are walks over the fleet's records (src/lifecycle/lineage.ts).
  routes.add("GET", "/v1/lineage/:id", async (req) => {
    const records = await storage.records({ limit: LINEAGE_SCAN });
    return { json: walkLineage(decodeURIComponent(req.params.id!), records) };
  });

  routes.add("GET", "/v1/training", async () => {
    const records = await storage.records({ limit: LINEAGE_SCAN });
    return { json: { runs: trainingRuns(records) } };
  });

  routes.add("GET", "/v1/models", async () => {
    const records = await storage.records({ limit: LINEAGE_SCAN });
    return { json: { hosts: servedModels(records) } };
  });

  routes.add("GET", "/v1/hosts/:host_id", async (req) => {
    const h = await storage.getHost(req.params.host_id!);
    if (h === undefined) throw new ForgeError(Codes.NOT_FOUND, `no host '${req.params.host_id}'`);
    return {
      json: {
        ...hostView(h, ctx.hosts.has(h.host_id)),
        heartbeat: h.heartbeat,
        checkpoints: await storage.checkpoints(h.host_id, 5),
        alerts: await storage.alerts({ host_id: h.host_id, limit: 20 }),
      },
    };
  });

  routes.add("GET", "/v1/fleet", async () => {
    const hosts = await storage.hosts();
    return {
      json: {
        hosts: hosts.map((h) => ({ ...hostView(h, ctx.hosts.has(h.host_id)), heartbeat: h.heartbeat })),
      },
    };
  });

  routes.add("GET", "/v1/alerts", async (req) => {
    const alerts = await storage.alerts({
      host_id: req.query.get("host_id") || undefined,
      limit: Math.min(MAX_LIMIT, intParam(req.query, "limit", 100, 1)!),
    });
    return { json: { alerts } };
  });

  routes.add("GET", "/metrics", async () => ({
    text: await ctx.metrics.registry.metrics(),
    contentType: ctx.metrics.registry.contentType,
  }));

  routes.add("POST", "/v1/hosts/:host_id/register", async (req) => {
    requireAdmin(ctx, req);
    const pem = (req.body as { public_key_pem?: unknown } | undefined)?.public_key_pem;
    if (typeof pem !== "string" || !pem.includes("BEGIN PUBLIC KEY"))
      badParam("public_key_pem", "body needs 'public_key_pem' (SPKI PEM)");
    await storage.registerHost(req.params.host_id!, pem);
    ctx.logger.info({ host_id: req.params.host_id }, "host registered");
    return { json: { host_id: req.params.host_id, status: "registered" } };
  });

  routes.add("POST", "/v1/hosts/:host_id/revoke", async (req) => {
    requireAdmin(ctx, req);
    const hostId = req.params.host_id!;
    await storage.revokeHost(hostId);
    ctx.hosts.get(hostId)?.refuse(CloseCodes.REVOKED, `host '${hostId}' is revoked`);
    ctx.logger.warn({ host_id: hostId }, "host revoked");
    return { json: { host_id: hostId, status: "revoked" } };
  });
}
