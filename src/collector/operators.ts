/**
 * Operator sign-in for the dashboard and the review console. Operators are configured on the
 * collector as `name=secret` (a token or a password; the same thing on the wire). Signing in
 * (POST /v1/session) sets an HttpOnly, SameSite=Strict session cookie; scripts may instead send
 * `Authorization: Bearer <secret>`. With operators configured, every route but sign-in, the
 * dashboard's static files, /metrics and the admin routes (own bearer token) answers 401 JSON
 * without a session. With none configured, the operator-only routes answer 401 and say so.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { Codes, ForgeError } from "../errors.js";
import type { CollectorContext } from "./context.js";
import type { RouteRequest } from "./routes.js";

export interface Operator {
  name: string;
  secret: string;
}

export interface OperatorsOptions {
  operators: Operator[];
  /** Session lifetime (default 12 h). */
  sessionTtlMs?: number;
  now?: () => number;
}

export const SESSION_COOKIE = "forge_session";

/** Parses `name=secret` (the --operator flag, FORGE_COLLECTOR_OPERATORS entries). */
export function parseOperator(spec: string): Operator {
  const eq = spec.indexOf("=");
  const name = eq > 0 ? spec.slice(0, eq) : "";
  const secret = eq > 0 ? spec.slice(eq + 1) : "";
  if (!/^[A-Za-z0-9._@-]{1,64}$/.test(name) || secret.length < 8) {
    throw new ForgeError(
      Codes.CONFIG_INVALID,
      `operator '${name || spec.slice(0, 20)}' must be NAME=SECRET with a name of letters, digits, '.', '_', '@', '-' and a secret of at least 8 characters`,
    );
  }
  return { name, secret };
}

/** Paths open without a session: sign-in, the dashboard's static files, metrics, admin (own token). */
function isPublic(req: RouteRequest): boolean {
  const p = req.path;
  if (p === "/v1/session") return true;
  if (req.method === "GET" && (p === "/" || p.startsWith("/dashboard/") || p === "/metrics")) return true;
  return /^\/v1\/hosts\/[^/]+\/(register|revoke)$/.test(p) && req.method === "POST";
}

/** Routes that need an operator even when none is configured (they act on agents). */
function isOperatorOnly(req: RouteRequest): boolean {
  return req.path.startsWith("/v1/reviews") || req.path.startsWith("/v1/policy");
}

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

export class Operators {
  private readonly ops: Array<{ name: string; digest: Buffer }>;
  private readonly sessions = new Map<string, { name: string; expires: number }>();
  private readonly ttl: number;
  private readonly now: () => number;

  constructor(opts: OperatorsOptions) {
    const names = new Set<string>();
    for (const o of opts.operators) {
      if (names.has(o.name))
        throw new ForgeError(Codes.CONFIG_INVALID, `operator '${o.name}' is configured twice`);
      names.add(o.name);
    }
    this.ops = opts.operators.map((o) => ({ name: o.name, digest: digest(o.secret) }));
    this.ttl = opts.sessionTtlMs ?? 12 * 3600_000;
    this.now = opts.now ?? Date.now;
  }

  get configured(): boolean {
    return this.ops.length > 0;
  }

  /** The operator whose secret this is (constant-time per candidate), or null. */
  check(name: string | undefined, secret: string): string | null {
    const d = digest(secret);
    let found: string | null = null;
    for (const o of this.ops) {
      if (timingSafeEqual(o.digest, d) && (name === undefined || name === "" || name === o.name))
        found ??= o.name;
    }
    return found;
  }

  /** The signed-in operator of a request (session cookie or Bearer secret), or null. */
  identify(headers: IncomingHttpHeaders): string | null {
    const auth = headers.authorization;
    if (typeof auth === "string" && auth.startsWith("Bearer ")) return this.check(undefined, auth.slice(7));
    const sid = cookie(headers.cookie, SESSION_COOKIE);
    if (sid === null) return null;
    const s = this.sessions.get(sid);
    if (s === undefined) return null;
    if (s.expires <= this.now()) {
      this.sessions.delete(sid);
      return null;
    }
    return s.name;
  }

  /** The operator, or FORGE_UNAUTHENTICATED (401). */
  require(req: RouteRequest): string {
    if (!this.configured) {
      throw new ForgeError(
        Codes.UNAUTHENTICATED,
        "no operators are configured on this collector: start it with --operator NAME=SECRET",
      );
    }
    const who = this.identify(req.headers);
    if (who === null)
      throw new ForgeError(Codes.UNAUTHENTICATED, "sign in first: POST /v1/session {name, password}");
    return who;
  }

  register(ctx: CollectorContext): void {
    ctx.routes.use((req) => {
      if (isPublic(req)) return;
      if (this.configured || isOperatorOnly(req)) this.require(req);
    });
    ctx.routes.add("POST", "/v1/session", (req) => {
      const b = (req.body ?? {}) as { name?: unknown; password?: unknown; token?: unknown };
      const secret = typeof b.password === "string" ? b.password : typeof b.token === "string" ? b.token : "";
      const name = typeof b.name === "string" ? b.name : undefined;
      const who = this.configured && secret !== "" ? this.check(name, secret) : null;
      if (who === null) {
        ctx.logger.warn({ name: name ?? null }, "operator sign-in refused");
        throw new ForgeError(Codes.UNAUTHENTICATED, "unknown operator or wrong password/token");
      }
      this.prune();
      const sid = randomBytes(32).toString("base64url");
      this.sessions.set(sid, { name: who, expires: this.now() + this.ttl });
      ctx.logger.info({ operator: who }, "operator signed in");
      return {
        json: { operator: who },
        headers: {
          "set-cookie": `${SESSION_COOKIE}=${sid}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(this.ttl / 1000)}`,
        },
      };
    });
    ctx.routes.add("GET", "/v1/session", (req) => ({ json: { operator: this.require(req) } }));
    ctx.routes.add("DELETE", "/v1/session", (req) => {
      const sid = cookie(req.headers.cookie, SESSION_COOKIE);
      if (sid !== null) this.sessions.delete(sid);
      return {
        json: { signed_out: true },
        headers: { "set-cookie": `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0` },
      };
    });
  }

  private prune(): void {
    const now = this.now();
    for (const [k, s] of this.sessions) if (s.expires <= now) this.sessions.delete(k);
  }
}

function cookie(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || null;
  }
  return null;
}
