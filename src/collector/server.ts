import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { Codes, ForgeError, hasForgeCode, httpStatus } from "../errors.js";
import { readJson, sendJson } from "../http.js";
import {
  isReadNonce,
  type KeyRotation,
  READ_KEY_HEADER,
  READ_NONCE_HEADER,
  READ_SIG_HEADER,
  readSigningInput,
  signRead,
} from "../protocol/collector-auth.js";
import { CloseCodes, DEFAULT_MAX_PAYLOAD, INGEST_PATH } from "../protocol/messages.js";
import { registerApi } from "./api.js";
import { handleConnection } from "./connection.js";
import type { CollectorContext, Connection, Logger, MessageHandler } from "./context.js";
import { silentLogger } from "./context.js";
import { type CollectorIdentity, fileIdentity, identityKeyFile, tlsIdentity } from "./identity.js";
import { registerIngest } from "./ingest.js";
import { createMetrics } from "./metrics.js";
import { RouteTable } from "./routes.js";
import { type CollectorStorage, openStorage } from "./storage.js";

export interface CollectorOptions {
  /** "sqlite:PATH" or "postgres://…". */
  database: string;
  /** "HOST:PORT"; port 0 picks a free one. */
  listen: string;
  /** Refuse hosts that are not registered (default: pin a new host's key on first use). */
  requireRegistered?: boolean;
  /** Most hosts pinned on first use (default 1000); registered hosts do not count. */
  maxPinnedHosts?: number;
  /** Hosts to register at start: host_id → SPKI PEM. */
  registerHosts?: Record<string, string>;
  /** Hosts to revoke at start. */
  revokeHosts?: string[];
  /** Bearer token for the admin routes (register/revoke); null/undefined disables them. */
  adminToken?: string | null;
  logger?: Logger;
  /** ws maxPayload in bytes (default 8 MiB). */
  maxPayload?: number;
  /** Time a connection has to send a valid hello, ms (default 10000). */
  authTimeoutMs?: number;
  /** SQLite only: synchronous pragma (default FULL: an ack lets the agent delete its copy). */
  synchronous?: "FULL" | "NORMAL";
  /**
   * Serve https/wss with this pair (`forge-collector tls init`); its key signs acks and reviews.
   * Without it the collector serves plain http/ws (agents accept that on loopback only) and signs
   * with the key in `<sqlite path>.key` (created on first start), or a key for this run.
   */
  tls?: { certPem: string; keyPem: string; rotation?: KeyRotation };
  /** Without TLS: the signing key file (default `<sqlite path>.key`; none on PostgreSQL here, where `forge-collector run` names identity.key in the data directory). Replicas share one. */
  identityKeyFile?: string;
  /** Later components register their routes and message handlers here. */
  plugins?: Array<(ctx: CollectorContext) => void>;
}

export interface Collector {
  /** ws://HOST:PORT/v1/ws, or wss:// under TLS */
  url: string;
  /** http://HOST:PORT, or https:// */
  httpUrl: string;
  /** The key agents pin (`sha256:` fingerprint and PEM). */
  identity: Pick<CollectorIdentity, "fingerprint" | "publicKeyPem" | "source">;
  ctx: CollectorContext;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

function parseListen(listen: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(listen);
  const port = m === null ? Number.NaN : Number(m[2]);
  if (m === null || m[1] === "" || !(port >= 0 && port < 65536)) {
    throw new ForgeError(Codes.CONFIG_INVALID, `listen '${listen}' must be HOST:PORT, e.g. 127.0.0.1:8787`);
  }
  return { host: m[1]!.replace(/^\[|\]$/g, ""), port };
}

/** Starts a collector: WebSocket ingest on /v1/ws and the HTTP JSON API on one port. */
export async function startCollector(opts: CollectorOptions): Promise<Collector> {
  const { host, port } = parseListen(opts.listen);
  const storage: CollectorStorage = await openStorage(opts.database, { synchronous: opts.synchronous });
  const logger = opts.logger ?? silentLogger;
  for (const [id, pem] of Object.entries(opts.registerHosts ?? {})) await storage.registerHost(id, pem);
  for (const id of opts.revokeHosts ?? []) await storage.revokeHost(id);

  const identity =
    opts.tls !== undefined
      ? tlsIdentity(opts.tls.certPem, opts.tls.keyPem, opts.tls.rotation)
      : fileIdentity(opts.identityKeyFile ?? identityKeyFile(opts.database));
  if (identity.source === "ephemeral")
    logger.warn(
      { fingerprint: identity.fingerprint },
      "no collector key configured and no SQLite file to keep one beside: signing with a key for this run only; agents that pinned it will refuse this collector after a restart (configure tls_cert/tls_key)",
    );
  const metrics = createMetrics();
  const live = new Map<string, Connection>();
  const ctx: CollectorContext = {
    storage,
    logger,
    metrics,
    routes: new RouteTable(),
    messages: new Map<string, MessageHandler>(),
    hosts: live,
    authenticated: [],
    committed: [],
    requireRegistered: opts.requireRegistered ?? false,
    maxPinnedHosts: opts.maxPinnedHosts ?? 1000,
    adminToken: opts.adminToken ?? null,
    identity,
    async alert(a) {
      logger.error({ alert: a.code, host_id: a.host_id, seq: a.seq }, a.message);
      try {
        await storage.addAlert(a, Date.now());
      } catch (err) {
        logger.error({ err: String(err) }, "could not store alert");
      }
    },
    sendTo(hostId, msg) {
      const c = live.get(hostId);
      if (c === undefined) return false;
      c.send(msg);
      return true;
    },
  };
  registerIngest(ctx);
  registerApi(ctx);
  for (const plugin of opts.plugins ?? []) plugin(ctx);

  const onRequest = (req: IncomingMessage, res: ServerResponse) => void serveHttp(ctx, req, res);
  const server =
    identity.tls === null
      ? createHttpServer(onRequest)
      : createHttpsServer(
          { cert: identity.tls.certPem, key: identity.tls.keyPem, minVersion: "TLSv1.2" },
          onRequest,
        );
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayload ?? DEFAULT_MAX_PAYLOAD });
  const open = new Set<{ drained: () => Promise<void> }>();
  server.on("upgrade", (req, socket, head) => {
    // Node takes its error listener off a socket it hands to "upgrade": without this one, a peer
    // that resets the connection (a client dropping our 404) is an uncaught ECONNRESET.
    socket.on("error", () => socket.destroy());
    const path = (req.url ?? "/").split("?")[0];
    if (path !== INGEST_PATH) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const c = handleConnection(ctx, ws, { authTimeoutMs: opts.authTimeoutMs ?? 10_000 });
      open.add(c);
      ws.on("close", () => open.delete(c));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const hostPart = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  const base = `${hostPart}:${addr.port}`;
  logger.info(
    { listen: base, database: storage.kind, tls: identity.tls !== null, fingerprint: identity.fingerprint },
    "collector listening",
  );
  const secure = identity.tls !== null ? "s" : "";

  let closing: Promise<void> | undefined;
  return {
    url: `ws${secure}://${base}${INGEST_PATH}`,
    httpUrl: `http${secure}://${base}`,
    identity: {
      fingerprint: identity.fingerprint,
      publicKeyPem: identity.publicKeyPem,
      source: identity.source,
    },
    ctx,
    close() {
      closing ??= (async () => {
        const drains = [...open].map((c) => c.drained());
        for (const ws of wss.clients) ws.close(CloseCodes.GOING_AWAY, "collector shutting down");
        server.close();
        server.closeAllConnections();
        // Handlers already running finish (commit + ack) before the database closes.
        await Promise.allSettled(drains);
        await new Promise<void>((r) => wss.close(() => r()));
        await storage.close();
      })();
      return closing;
    },
  };
}

async function serveHttp(ctx: CollectorContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://x");
  const method = req.method ?? "GET";
  try {
    const m = ctx.routes.match(method, url.pathname);
    if (m === "none") throw new ForgeError(Codes.NOT_FOUND, `no route ${method} ${url.pathname}`);
    if (m === "method")
      throw new ForgeError(Codes.BAD_REQUEST, `${method} is not allowed on ${url.pathname}`);
    if (method !== "GET" && method !== "HEAD") refuseCrossOrigin(req);
    const body =
      method === "GET" || method === "HEAD"
        ? undefined
        : await readJson(req, MAX_BODY, { allowEmpty: true, requireJsonType: true });
    const out = await m.handler({
      method,
      path: url.pathname,
      params: m.params,
      query: url.searchParams,
      headers: req.headers,
      body,
      remote: req.socket.remoteAddress ?? "unknown",
      tls: "encrypted" in req.socket,
    });
    if ("json" in out) {
      const text = JSON.stringify(out.json);
      signAnswer(ctx, req, res, out.status ?? 200, text);
      sendJson(res, out.status ?? 200, text, out.headers, { encoded: true });
    } else {
      signAnswer(ctx, req, res, out.status ?? 200, out.text);
      res.writeHead(out.status ?? 200, { ...out.headers, "content-type": out.contentType });
      res.end(out.text);
    }
  } catch (err) {
    const code = hasForgeCode(err) ? err.code : Codes.INTERNAL;
    const status = httpStatus(code);
    if (status === 500) ctx.logger.error({ err: String(err), path: url.pathname }, "http handler failed");
    const message = status === 500 ? "internal error" : (err as Error).message;
    const details = status === 500 ? undefined : (err as { details?: Record<string, unknown> }).details;
    const retry = details?.retry_after_s;
    const text = JSON.stringify({
      error: details === undefined ? { code, message } : { code, message, details },
    });
    signAnswer(ctx, req, res, status, text);
    sendJson(res, status, text, typeof retry === "number" ? { "retry-after": String(retry) } : undefined, {
      encoded: true,
    });
  }
}

/**
 * Signs the answer when the request carries a read nonce (src/protocol/collector-auth.ts): the
 * agent reading over plain http to loopback verifies it with the key it pinned, as the WebSocket
 * does, so a fake collector on the port cannot answer its reads either.
 */
function signAnswer(
  ctx: CollectorContext,
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: string | Buffer,
): void {
  const nonce = req.headers[READ_NONCE_HEADER];
  if (!isReadNonce(nonce) || res.headersSent) return;
  const input = readSigningInput(nonce, req.method ?? "GET", req.url ?? "/", status, body);
  res.setHeader(READ_KEY_HEADER, ctx.identity.publicKeyDer);
  res.setHeader(READ_SIG_HEADER, signRead(ctx.identity.privateKey, input));
}
/**
 * A state-changing request that names an Origin must come from this collector's own origin
 * (scheme, host and port): SameSite cookies treat every port of 127.0.0.1 as one site, so a page on
 * another local port could otherwise post with the operator's cookie. Non-browser clients send no
 * Origin; a cookie-authenticated write without one is refused by the operator guard.
 */
function refuseCrossOrigin(req: IncomingMessage): void {
  const origin = req.headers.origin;
  if (origin === undefined) return;
  const own = `${"encrypted" in req.socket ? "https" : "http"}://${req.headers.host ?? ""}`;
  if (origin !== own) {
    throw new ForgeError(
      Codes.FORBIDDEN,
      `cross-origin request refused: Origin ${origin.slice(0, 100)} is not ${own}`,
    );
  }
}
