/**
 * Operator sign-in for the dashboard and the review console. Operators come from an operators file
 * (`--operators-file FILE`: one `name:$scrypt$…` line each, made by `forge-collector operator add`)
 * or from FORGE_COLLECTOR_OPERATORS ("name=secret,…", hashed at start); never from a command line,
 * where every local user can read it (/proc/PID/cmdline). Only scrypt hashes are kept. Signing in
 * (POST /v1/session) sets an HttpOnly, SameSite=Strict session cookie (Secure under TLS); scripts may
 * instead send `Authorization: Bearer <secret>`. Failed sign-ins are rate-limited per account and per
 * source with exponential backoff (429), logged, counted and alerted when a lockout starts. With
 * operators configured, every route but sign-in, the dashboard's static files, /metrics and the
 * admin routes (own bearer token) answers 401 JSON without a session. With none configured, the
 * operator-only routes answer 401 and say so.
 */
import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { Codes, ForgeError } from "../errors.js";
import type { CollectorContext } from "./context.js";
import { hostReader } from "./host-read.js";
import type { RouteRequest } from "./routes.js";

/** An operator as configured: a plaintext secret (from the environment, hashed at start) or its scrypt hash. */
export type Operator = { name: string; secret: string } | { name: string; hash: string };

export interface SignInLimits {
  /** Failed attempts an account gets before it is locked out with backoff (default 5). */
  accountFree: number;
  /** Failed attempts one source address gets before it is locked out (default 20). */
  sourceFree: number;
  /** First lockout, doubled on every further failure (default 1000 ms). */
  baseMs: number;
  /** Longest lockout (default 15 min). */
  maxMs: number;
}

export interface OperatorsOptions {
  operators: Operator[];
  /** Session lifetime (default 12 h). */
  sessionTtlMs?: number;
  now?: () => number;
  limits?: Partial<SignInLimits>;
  /** Bearer token /metrics needs off loopback (null: loopback only). */
  metricsToken?: string | null;
}

export const SESSION_COOKIE = "forge_session";

const NAME = /^[A-Za-z0-9._@-]{1,64}$/;
const MIN_SECRET = 8;

function badName(name: string): ForgeError {
  return new ForgeError(
    Codes.CONFIG_INVALID,
    `operator name '${name.slice(0, 64)}' must be 1-64 letters, digits, '.', '_', '@' or '-'`,
  );
}

/** Parses `name=secret` (FORGE_COLLECTOR_OPERATORS entries). */
export function parseOperator(spec: string): Operator {
  const eq = spec.indexOf("=");
  const name = eq > 0 ? spec.slice(0, eq) : "";
  const secret = eq > 0 ? spec.slice(eq + 1) : "";
  if (!NAME.test(name) || secret.length < MIN_SECRET) {
    throw new ForgeError(
      Codes.CONFIG_INVALID,
      `operator '${name || spec.slice(0, 20)}' must be NAME=SECRET with a name of letters, digits, '.', '_', '@', '-' and a secret of at least ${MIN_SECRET} characters`,
    );
  }
  return { name, secret };
}

// --- scrypt hashes: "$scrypt$ln=15,r=8,p=1$<salt base64url>$<hash base64url>" ---

const SCRYPT = { ln: 15, r: 8, p: 1, keylen: 32 };
const HASH_FORMAT =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{32,})$/;

interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

function parseHash(text: string, where: string): ParsedHash {
  const m = HASH_FORMAT.exec(text);
  const ln = Number(m?.[1]);
  if (m === null || ln < 10 || ln > 20) {
    throw new ForgeError(
      Codes.CONFIG_INVALID,
      `${where}: not a scrypt hash ($scrypt$ln=15,r=8,p=1$SALT$HASH): make one with 'forge-collector operator add NAME --file FILE'`,
    );
  }
  return {
    N: 2 ** ln,
    r: Number(m[2]),
    p: Number(m[3]),
    salt: Buffer.from(m[4]!, "base64url"),
    hash: Buffer.from(m[5]!, "base64url"),
  };
}

const maxmem = (h: { N: number; r: number }) => 256 * h.N * h.r;

/** The scrypt hash of `secret` with a fresh salt, in the operators-file format. */
export function hashSecret(secret: string): string {
  const salt = randomBytes(16);
  const N = 2 ** SCRYPT.ln;
  const hash = scryptSync(secret, salt, SCRYPT.keylen, {
    N,
    r: SCRYPT.r,
    p: SCRYPT.p,
    maxmem: maxmem({ N, r: SCRYPT.r }),
  });
  return `$scrypt$ln=${SCRYPT.ln},r=${SCRYPT.r},p=${SCRYPT.p}$${salt.toString("base64url")}$${hash.toString("base64url")}`;
}

/** True when `secret` matches the hash (scrypt on the libuv pool; constant-time compare). */
function secretMatches(h: ParsedHash, secret: string): Promise<boolean> {
  return new Promise((resolve, reject) =>
    scrypt(secret, h.salt, h.hash.length, { N: h.N, r: h.r, p: h.p, maxmem: maxmem(h) }, (err, key) =>
      err ? reject(err) : resolve(timingSafeEqual(key, h.hash)),
    ),
  );
}

/**
 * Parses an operators file: one `name:$scrypt$…` per line; blank lines and `#` comments are
 * skipped. Throws FORGE_CONFIG_INVALID naming the line.
 */
export function parseOperatorsFile(text: string, file: string): Operator[] {
  const out: Operator[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    const where = `${file}:${i + 1}`;
    if (!NAME.test(name)) {
      if (colon <= 0) throw new ForgeError(Codes.CONFIG_INVALID, `${where}: expected NAME:HASH`);
      throw badName(name);
    }
    const hash = line.slice(colon + 1);
    parseHash(hash, where);
    out.push({ name, hash });
  });
  return out;
}

/** The operators file with `name`'s line set to `hash` (added, or replacing the old one). */
export function upsertOperatorLine(text: string, name: string, hash: string): string {
  if (!NAME.test(name)) throw badName(name);
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  const line = `${name}:${hash}`;
  const at = lines.findIndex((l) => l.trim().startsWith(`${name}:`));
  if (at >= 0) lines[at] = line;
  else lines.push(line);
  return `${lines.join("\n")}\n`;
}

/** Compares two strings in constant time (for tokens: hashed first, so lengths never leak). */
export function tokensEqual(a: string, b: string): boolean {
  const d = (s: string) => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(d(a), d(b));
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

/** 127.0.0.0/8, ::1 and their IPv4-mapped spelling: the socket's own address, never a header. */
export function isLoopback(address: string): boolean {
  const a = address.startsWith("::ffff:") ? address.slice(7) : address;
  return a === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

const isBearer = (req: RouteRequest) =>
  typeof req.headers.authorization === "string" && req.headers.authorization.startsWith("Bearer ");

const DEFAULT_LIMITS: SignInLimits = { accountFree: 5, sourceFree: 20, baseMs: 1000, maxMs: 15 * 60_000 };
/** Most accounts/sources the limiter tracks; the oldest are forgotten first. */
const MAX_TRACKED = 10_000;
/** Verified bearer secrets remembered (by sha256), so a script's every request is not an scrypt. */
const MAX_VERIFIED = 1024;

/** Failures per key with exponential lockout; a key forgets its failures after maxMs without one. */
class SignInLimiter {
  private readonly keys = new Map<string, { fails: number; last: number; until: number }>();
  constructor(
    private readonly limits: SignInLimits,
    private readonly now: () => number,
  ) {}

  /** Ms until `key` may try again (0: now). */
  wait(key: string): number {
    const e = this.keys.get(key);
    if (e === undefined) return 0;
    const now = this.now();
    if (now - e.last > this.limits.maxMs) {
      this.keys.delete(key);
      return 0;
    }
    return Math.max(0, e.until - now);
  }

  /** Counts a failure; returns the lockout it starts (0: none) and the failure count. */
  fail(key: string, free: number): { lockMs: number; fails: number } {
    const now = this.now();
    let e = this.keys.get(key);
    if (e === undefined || now - e.last > this.limits.maxMs) e = { fails: 0, last: now, until: 0 };
    this.keys.delete(key); // re-inserted last: the Map's order is least recently failed first
    e.fails++;
    e.last = now;
    let lockMs = 0;
    if (e.fails >= free) {
      lockMs = Math.min(this.limits.maxMs, this.limits.baseMs * 2 ** Math.min(30, e.fails - free));
      e.until = now + lockMs;
    }
    this.keys.set(key, e);
    if (this.keys.size > MAX_TRACKED) this.keys.delete(this.keys.keys().next().value!);
    return { lockMs, fails: e.fails };
  }

  reset(key: string): void {
    this.keys.delete(key);
  }
}

function rateLimited(waitMs: number): ForgeError {
  const s = Math.ceil(waitMs / 1000);
  return new ForgeError(Codes.RATE_LIMITED, `too many failed sign-ins: try again in ${s} s`, {
    details: { retry_after_s: s },
  });
}

/** How to configure an operator: said on the sign-in page (through the 401) and in the log at start. */
const NO_OPERATORS_FIX =
  "add one with 'forge-collector operator add NAME --file FILE' (password on stdin) and start the collector with --operators-file FILE (or FORGE_COLLECTOR_OPERATORS_FILE, or FORGE_COLLECTOR_OPERATORS=name=secret,…)";
const NO_OPERATORS = `no operators are configured on this collector, so nobody can sign in: ${NO_OPERATORS_FIX}`;

export class Operators {
  private readonly ops = new Map<string, ParsedHash>();
  private readonly sessions = new Map<string, { name: string; expires: number }>();
  /** sha256(secret) of verified bearer secrets → operator name. */
  private readonly verified = new Map<string, string>();
  /** Who each request's guard identified (require() reads it synchronously). */
  private readonly identified = new WeakMap<RouteRequest, string>();
  private readonly ttl: number;
  private readonly now: () => number;
  private readonly limits: SignInLimits;
  private readonly limiter: SignInLimiter;
  /** Compared against when the name is unknown, so a missing account costs the same scrypt. */
  private readonly dummy = parseHash(hashSecret(randomBytes(16).toString("hex")), "dummy");
  private ctx: CollectorContext | null = null;
  private readonly metricsToken: string | null;

  constructor(opts: OperatorsOptions) {
    for (const o of opts.operators) {
      if (!NAME.test(o.name)) throw badName(o.name);
      if (this.ops.has(o.name))
        throw new ForgeError(Codes.CONFIG_INVALID, `operator '${o.name}' is configured twice`);
      if ("hash" in o) this.ops.set(o.name, parseHash(o.hash, `operator '${o.name}'`));
      else {
        if (o.secret.length < MIN_SECRET)
          throw new ForgeError(
            Codes.CONFIG_INVALID,
            `operator '${o.name}': the secret needs at least ${MIN_SECRET} characters`,
          );
        this.ops.set(o.name, parseHash(hashSecret(o.secret), o.name));
      }
    }
    this.ttl = opts.sessionTtlMs ?? 12 * 3600_000;
    this.now = opts.now ?? Date.now;
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.limiter = new SignInLimiter(this.limits, this.now);
    this.metricsToken = opts.metricsToken ?? null;
  }

  get configured(): boolean {
    return this.ops.size > 0;
  }

  /** The operator whose secret this is (scrypt, constant-time compare), or null. `name` narrows the search. */
  async check(name: string | undefined, secret: string): Promise<string | null> {
    if (name !== undefined && name !== "") {
      const h = this.ops.get(name);
      const ok = await secretMatches(h ?? this.dummy, secret);
      return ok && h !== undefined ? name : null;
    }
    const key = createHash("sha256").update(secret, "utf8").digest("hex");
    const known = this.verified.get(key);
    if (known !== undefined && this.ops.has(known)) return known;
    let found: string | null = null;
    for (const [n, h] of this.ops) if ((await secretMatches(h, secret)) && found === null) found = n;
    if (found !== null) {
      if (this.verified.size >= MAX_VERIFIED) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(key, found);
    }
    return found;
  }

  /** The signed-in operator of a request (session cookie or Bearer secret), or null; a source locked out by failures gets 429. */
  async identify(req: RouteRequest): Promise<string | null> {
    const auth = req.headers.authorization;
    if (typeof auth === "string" && auth.startsWith("Bearer ")) {
      const src = `src:${req.remote}`;
      const wait = this.limiter.wait(src);
      if (wait > 0) throw rateLimited(wait);
      const who = await this.check(undefined, auth.slice(7));
      if (who === null) await this.failed(req, null, [src]);
      return who;
    }
    return this.sessionOf(req.headers);
  }

  /** The operator, or FORGE_UNAUTHENTICATED (401). Synchronous: the guard identified the request first. */
  require(req: RouteRequest): string {
    if (!this.configured)
      throw new ForgeError(Codes.UNAUTHENTICATED, NO_OPERATORS, { details: { operators_configured: false } });
    const who = this.identified.get(req) ?? this.sessionOf(req.headers);
    if (who === null)
      throw new ForgeError(Codes.UNAUTHENTICATED, "sign in first: POST /v1/session {name, password}");
    return who;
  }

  register(ctx: CollectorContext): void {
    this.ctx = ctx;
    if (!this.configured)
      ctx.logger.warn(
        { fix: NO_OPERATORS_FIX },
        "no operators configured: nobody can sign in to the dashboard",
      );
    ctx.routes.use(async (req) => {
      if (req.path === "/metrics" && req.method === "GET") return this.metricsAccess(req);
      if (isPublic(req)) return;
      // A host reading its own records back with its host key (src/collector/host-read.ts).
      if ((await hostReader(ctx, req)) !== null) return;
      if (!this.configured && !isOperatorOnly(req)) {
        // No operators: reads are for this machine only (records are audit data; excerpts can hold secrets).
        if (isLoopback(req.remote)) return;
        throw new ForgeError(
          Codes.UNAUTHENTICATED,
          "this collector has no operators, so its API answers loopback only: configure operators (--operators-file FILE) to read it from other hosts",
        );
      }
      const who = this.configured ? await this.identify(req) : null;
      if (who !== null) this.identified.set(req, who);
      this.require(req);
      // A cookie rides along on any request the browser makes; a write must also show it came from our page.
      if (
        req.method !== "GET" &&
        req.method !== "HEAD" &&
        req.headers.origin === undefined &&
        !isBearer(req)
      ) {
        throw new ForgeError(
          Codes.FORBIDDEN,
          "a state-changing request with a session cookie must carry an Origin header",
        );
      }
    });
    ctx.routes.add("POST", "/v1/session", async (req) => {
      const b = (req.body ?? {}) as { name?: unknown; password?: unknown; token?: unknown };
      const secret = typeof b.password === "string" ? b.password : typeof b.token === "string" ? b.token : "";
      const name = typeof b.name === "string" && b.name !== "" ? b.name.slice(0, 64) : undefined;
      const keys = [`src:${req.remote}`, ...(name === undefined ? [] : [`acct:${name}`])];
      // Locked: refused without looking at the password, so a lockout is no oracle.
      const wait = Math.max(...keys.map((k) => this.limiter.wait(k)));
      if (wait > 0) throw rateLimited(wait);
      const who = this.configured && secret !== "" ? await this.check(name, secret) : null;
      if (who === null) {
        await this.failed(req, name ?? null, keys);
        throw new ForgeError(Codes.UNAUTHENTICATED, "unknown operator or wrong password/token");
      }
      this.limiter.reset(`acct:${who}`);
      this.prune();
      const sid = randomBytes(32).toString("base64url");
      this.sessions.set(sid, { name: who, expires: this.now() + this.ttl });
      ctx.logger.info({ operator: who, source: req.remote }, "operator signed in");
      return {
        json: { operator: who },
        headers: {
          "set-cookie": `${SESSION_COOKIE}=${sid}; ${this.cookieAttributes(req)}; Max-Age=${Math.floor(this.ttl / 1000)}`,
        },
      };
    });
    ctx.routes.add("GET", "/v1/session", async (req) => {
      // Public (it is how a page learns whether it is signed in), so no guard identified it.
      const who = this.configured ? await this.identify(req) : null;
      if (who !== null) this.identified.set(req, who);
      return { json: { operator: this.require(req) } };
    });
    ctx.routes.add("DELETE", "/v1/session", (req) => {
      const sid = cookie(req.headers.cookie, SESSION_COOKIE);
      if (sid !== null) this.sessions.delete(sid);
      return {
        json: { signed_out: true },
        headers: { "set-cookie": `${SESSION_COOKIE}=; ${this.cookieAttributes(req)}; Max-Age=0` },
      };
    });
  }

  /** /metrics: open on loopback; from elsewhere it needs `Authorization: Bearer <scrape token>`. */
  private metricsAccess(req: RouteRequest): void {
    if (isLoopback(req.remote)) return;
    const token = this.metricsToken;
    if (token === null) {
      throw new ForgeError(
        Codes.FORBIDDEN,
        "/metrics answers loopback only: set FORGE_COLLECTOR_METRICS_TOKEN and scrape with 'Authorization: Bearer <token>'",
      );
    }
    const auth = req.headers.authorization;
    if (typeof auth !== "string" || !auth.startsWith("Bearer ") || !tokensEqual(auth.slice(7), token))
      throw new ForgeError(Codes.UNAUTHENTICATED, "/metrics needs 'Authorization: Bearer <scrape token>'");
  }

  /** HttpOnly, SameSite=Strict, Path=/, and Secure when the request came over TLS. */
  private cookieAttributes(req: RouteRequest): string {
    return `HttpOnly; SameSite=Strict; Path=/${req.tls ? "; Secure" : ""}`;
  }

  /** Records a failed sign-in: a log line, a metric, the limiter, and an alert when a lockout starts. */
  private async failed(req: RouteRequest, name: string | null, keys: string[]): Promise<void> {
    const ctx = this.ctx!;
    let locked = 0;
    let fails = 0;
    for (const k of keys) {
      const r = this.limiter.fail(
        k,
        k.startsWith("acct:") ? this.limits.accountFree : this.limits.sourceFree,
      );
      fails = Math.max(fails, r.fails);
      // The first lockout of an episode is the one worth an alert; later ones only extend it.
      if (
        r.lockMs > 0 &&
        r.fails === (k.startsWith("acct:") ? this.limits.accountFree : this.limits.sourceFree)
      )
        locked = Math.max(locked, r.lockMs);
    }
    ctx.metrics.signInFailures.inc();
    ctx.logger.warn({ name, source: req.remote, failures: fails }, "operator sign-in refused");
    if (locked > 0) {
      await ctx.alert({
        host_id: null,
        code: "sign-in-locked",
        seq: null,
        message: `${fails} failed sign-ins (account ${name ?? "(bearer)"}, source ${req.remote}): locked out with backoff`,
      });
    }
  }

  private sessionOf(headers: IncomingHttpHeaders): string | null {
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
