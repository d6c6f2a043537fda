/**
 * HTTP to one registry, on the global `fetch`: the base URL (https, or http for loopback with
 * `insecure`), auth (anonymous → basic or bearer after a 401 challenge, tokens cached per scope),
 * retries with exponential backoff for network errors, 429 and 5xx, and a deadline for the answer's
 * headers so a registry that accepts and then says nothing is an error, not a hang.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { Codes, type ForgeCode, ForgeError } from "../errors.js";
import { basicHeader, type Challenge, type CredentialStore, parseChallenge } from "./auth.js";
import { isLoopback } from "./reference.js";

export interface TransportOptions {
  /** Plain HTTP; refused unless the registry is a loopback address. */
  insecure?: boolean;
  credentials?: CredentialStore;
  /** Attempts for a retryable failure (default 4: the first try and 3 retries). */
  attempts?: number;
  /** First backoff in ms, doubled each retry, with jitter (default 200). */
  backoffMs?: number;
  /** Deadline for the response headers, ms (default 30000). */
  timeoutMs?: number;
  /** Logs a retry (what failed, the attempt, the wait). */
  onRetry?: (what: string, attempt: number, waitMs: number) => void;
  /** Stands in for the global fetch (tests never need it; a seam for embedding). */
  fetch?: typeof fetch;
}

export interface Req {
  method: string;
  /** A path under /v2/ (`/v2/…`), or an absolute URL (upload locations, token realms). */
  url: string;
  headers?: Record<string, string>;
  /** A body that can be sent again on retry. */
  body?: Buffer | string;
  /** The token scope this request needs (`repository:x:pull`). */
  scope: string;
  /** Statuses that are answers, not errors (default: 2xx). */
  ok?: (status: number) => boolean;
  /** Retrying is safe (GET, HEAD, PUT of content-addressed data). Default true. */
  idempotent?: boolean;
  signal?: AbortSignal;
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/** An error answer, carrying the HTTP status and the registry's error codes. */
export class RegistryHttpError extends ForgeError {
  readonly status: number;
  constructor(code: ForgeCode, message: string, status: number, details?: Record<string, unknown>) {
    super(code, message, { details: { status, ...details } });
    this.status = status;
  }
}

export class Transport {
  readonly registry: string;
  readonly base: string;
  private readonly opts: Required<Omit<TransportOptions, "credentials" | "onRetry" | "fetch">>;
  private readonly credentials: CredentialStore;
  private readonly onRetry: TransportOptions["onRetry"];
  private readonly fetchFn: typeof fetch;
  /** scope → Authorization value; `*` holds the basic header once a registry asked for it. */
  private readonly tokens = new Map<string, string>();
  private challenge: Challenge | null = null;

  constructor(registry: string, o: TransportOptions = {}) {
    if (o.insecure && !isLoopback(registry)) {
      throw new ForgeError(
        Codes.REGISTRY_INSECURE,
        `--insecure (plain HTTP) is only for loopback registries, not '${registry}': serve it over TLS`,
      );
    }
    this.registry = registry;
    this.base = `${o.insecure ? "http" : "https"}://${registry}`;
    this.opts = {
      insecure: o.insecure ?? false,
      attempts: o.attempts ?? 4,
      backoffMs: o.backoffMs ?? 200,
      timeoutMs: o.timeoutMs ?? 30_000,
    };
    this.credentials = o.credentials ?? (() => null);
    this.onRetry = o.onRetry;
    this.fetchFn = o.fetch ?? fetch;
  }

  resolve(url: string): string {
    return /^https?:\/\//.test(url) ? url : `${this.base}${url}`;
  }

  /**
   * Sends `r`, answering one auth challenge and retrying transient failures. Returns the response
   * (body unread) when its status is ok; otherwise throws a coded RegistryHttpError.
   */
  async send(r: Req): Promise<Response> {
    const ok = r.ok ?? ((s: number) => s >= 200 && s < 300);
    const idempotent = r.idempotent ?? true;
    let authTried = false;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await this.once(r);
      } catch (err) {
        if (r.signal?.aborted) throw err;
        if (!idempotent || attempt >= this.opts.attempts) throw this.unreachable(r, err, attempt);
        await this.backoff(`${r.method} ${r.url}: ${(err as Error).message}`, attempt);
        continue;
      }
      if (res.status === 401 && !authTried) {
        authTried = true;
        await res.body?.cancel();
        await this.authenticate(res.headers.get("www-authenticate"), r.scope);
        attempt--;
        continue;
      }
      if (ok(res.status)) return res;
      if (RETRY_STATUS.has(res.status) && idempotent && attempt < this.opts.attempts) {
        await res.body?.cancel();
        await this.backoff(`${r.method} ${r.url}: HTTP ${res.status}`, attempt);
        continue;
      }
      throw await this.httpError(r, res);
    }
  }

  /**
   * A GET whose body is a Node stream (blob downloads: cheaper per byte than a web stream). Auth is
   * settled first by a HEAD through `send` (which answers any challenge); redirects are followed
   * (credentials only to the registry's own origin); a body idle for `timeoutMs` is destroyed, so a
   * stalled transfer ends in an error the caller resumes from.
   */
  async stream(r: Req): Promise<{ status: number; body: IncomingMessage }> {
    const ok = r.ok ?? ((s: number) => s >= 200 && s < 300);
    const head = await this.send({ ...r, method: "HEAD", headers: {}, ok: (s) => s === 200 });
    await head.body?.cancel();
    let url = new URL(this.resolve(r.url));
    for (let hop = 0; hop < 5; hop++) {
      const headers: Record<string, string> = { ...r.headers };
      const auth = this.authFor(r.scope);
      if (auth && url.toString().startsWith(this.base)) headers.authorization = auth;
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = (url.protocol === "https:" ? httpsRequest : httpRequest)(
          url,
          { method: "GET", headers },
          resolve,
        );
        req.setTimeout(this.opts.timeoutMs, () =>
          req.destroy(
            new ForgeError(Codes.TIMEOUT, `${this.registry} sent no answer in ${this.opts.timeoutMs} ms`),
          ),
        );
        req.on("error", reject);
        req.end();
      });
      res.setTimeout(this.opts.timeoutMs, () =>
        res.destroy(new ForgeError(Codes.TIMEOUT, `${this.registry} stalled for ${this.opts.timeoutMs} ms`)),
      );
      const status = res.statusCode ?? 0;
      const loc = res.headers.location;
      if (status >= 300 && status < 400 && loc) {
        res.resume();
        url = new URL(loc, url);
        continue;
      }
      if (!ok(status)) {
        res.resume();
        const code =
          status === 404
            ? Codes.REGISTRY_NOT_FOUND
            : status === 401 || status === 403
              ? Codes.REGISTRY_AUTH
              : status >= 500
                ? Codes.REGISTRY_UNAVAILABLE
                : Codes.REGISTRY_PROTOCOL;
        throw new RegistryHttpError(
          code,
          `registry ${this.registry}: GET ${r.url.replace(/\?.*$/, "")} → HTTP ${status}`,
          status,
        );
      }
      return { status, body: res };
    }
    throw new ForgeError(Codes.REGISTRY_PROTOCOL, `${this.registry}: more than 5 redirects for ${r.url}`);
  }

  /**
   * Sends a body produced piece by piece (a chunk of an upload) on node:http, with backpressure.
   * Not retried (an upload's state is the registry's: the caller asks it where it stands); the
   * token is the one `send` obtained for the session's POST. Resolves with the status and headers.
   */
  async upload(
    r: Omit<Req, "body"> & { pieces: () => AsyncIterable<Uint8Array> },
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
    const ok = r.ok ?? ((s: number) => s >= 200 && s < 300);
    const url = new URL(this.resolve(r.url));
    const headers: Record<string, string> = { ...r.headers };
    const auth = this.authFor(r.scope);
    if (auth && url.toString().startsWith(this.base)) headers.authorization = auth;
    let res: IncomingMessage;
    try {
      res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = (url.protocol === "https:" ? httpsRequest : httpRequest)(
          url,
          { method: r.method, headers },
          resolve,
        );
        req.setTimeout(this.opts.timeoutMs, () =>
          req.destroy(
            new ForgeError(Codes.TIMEOUT, `${this.registry} stalled for ${this.opts.timeoutMs} ms`),
          ),
        );
        req.on("error", reject);
        (async () => {
          for await (const p of r.pieces()) {
            if (!req.write(p)) await new Promise<void>((d) => req.once("drain", () => d()));
          }
          req.end();
        })().catch((err) => req.destroy(err as Error));
      });
    } catch (err) {
      throw this.unreachable(r as Req, err, 1);
    }
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const status = res.statusCode ?? 0;
    if (!ok(status)) {
      const text = Buffer.concat(chunks).toString("utf8");
      const code =
        status === 401 || status === 403
          ? Codes.REGISTRY_AUTH
          : status >= 500
            ? Codes.REGISTRY_UNAVAILABLE
            : status === 404
              ? Codes.REGISTRY_NOT_FOUND
              : Codes.REGISTRY_PROTOCOL;
      throw new RegistryHttpError(
        code,
        `registry ${this.registry}: ${r.method} ${r.url.replace(/\?.*$/, "")} → HTTP ${status} ${text.slice(0, 200)}`,
        status,
      );
    }
    return { status, headers: res.headers };
  }

  private async once(r: Req): Promise<Response> {
    const headers: Record<string, string> = { ...r.headers };
    const auth = this.authFor(r.scope);
    const url = this.resolve(r.url);
    // Credentials go to the registry's own origin only (upload locations may point elsewhere).
    if (auth && url.startsWith(this.base)) headers.authorization = auth;
    const ctl = new AbortController();
    const timer = setTimeout(
      () =>
        ctl.abort(
          new ForgeError(Codes.TIMEOUT, `${this.registry} sent no answer in ${this.opts.timeoutMs} ms`),
        ),
      this.opts.timeoutMs,
    );
    const onAbort = () => ctl.abort(r.signal?.reason);
    r.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      return await this.fetchFn(url, {
        method: r.method,
        headers,
        body: r.body,
        signal: ctl.signal,
        redirect: "follow",
      });
    } catch (err) {
      throw ctl.signal.reason instanceof ForgeError ? ctl.signal.reason : err;
    } finally {
      clearTimeout(timer);
      r.signal?.removeEventListener("abort", onAbort);
    }
  }

  private authFor(scope: string): string | undefined {
    if (this.challenge?.scheme === "basic") return this.tokens.get("*");
    return this.tokens.get(scope);
  }

  /** Answers a 401: basic → the stored credential; bearer → a token for `scope` from the realm. */
  private async authenticate(header: string | null, scope: string): Promise<void> {
    const c = header ? parseChallenge(header) : null;
    const cred = this.credentials(this.registry);
    if (!c) throw this.authError(`${this.registry} answered 401 without a WWW-Authenticate challenge`);
    this.challenge = c;
    if (c.scheme === "basic") {
      if (!cred?.username)
        throw this.authError(
          `${this.registry} needs a user name and password: add it to the auth file (docker login writes one)`,
        );
      this.tokens.set("*", basicHeader(cred));
      return;
    }
    if (c.scheme !== "bearer" || !c.params.realm)
      throw this.authError(`${this.registry} asks for '${c.scheme}' auth, which this client does not speak`);
    const realm = new URL(c.params.realm);
    if (realm.protocol !== "https:" && !isLoopback(realm.host))
      throw this.authError(
        `token realm ${realm.origin} is plain HTTP off loopback: refusing to send credentials`,
      );
    if (c.params.service) realm.searchParams.set("service", c.params.service);
    for (const s of new Set(
      [...scope.split(" "), ...(c.params.scope ? [c.params.scope] : [])].filter(Boolean),
    ))
      realm.searchParams.append("scope", s);
    const headers: Record<string, string> = {};
    if (cred?.username) headers.authorization = basicHeader(cred);
    let res: Response;
    try {
      res = await this.fetchFn(realm, {
        headers,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
    } catch (err) {
      throw new ForgeError(
        Codes.REGISTRY_UNAVAILABLE,
        `token endpoint ${realm.origin} unreachable: ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (!res.ok) {
      throw this.authError(
        `token endpoint ${realm.origin} refused (HTTP ${res.status})${cred ? ": check the credentials in the auth file" : ": no credentials for this registry in the auth file"}`,
      );
    }
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw this.authError(`token endpoint ${realm.origin} answered without a token`);
    this.tokens.set(scope, `Bearer ${token}`);
  }

  private authError(message: string): ForgeError {
    return new ForgeError(Codes.REGISTRY_AUTH, message);
  }

  private async backoff(what: string, attempt: number): Promise<void> {
    const wait = this.opts.backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
    this.onRetry?.(what, attempt, wait);
    await new Promise((r) => setTimeout(r, wait));
  }

  private unreachable(r: Req, err: unknown, attempt: number): ForgeError {
    if (err instanceof ForgeError && err.code !== Codes.TIMEOUT) return err;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    return new ForgeError(
      Codes.REGISTRY_UNAVAILABLE,
      `registry ${this.registry} unavailable after ${attempt} attempt(s) (${r.method} ${r.url.replace(/\?.*$/, "")}: ${why}): check that it runs and is reachable`,
      { cause: err, details: { registry: this.registry, attempts: attempt } },
    );
  }

  private async httpError(r: Req, res: Response): Promise<RegistryHttpError> {
    const text = await res.text().catch(() => "");
    let codes: string[] = [];
    try {
      const j = JSON.parse(text) as { errors?: { code?: string; message?: string; detail?: unknown }[] };
      codes = (j.errors ?? []).map((e) => `${e.code}${e.message ? `: ${e.message}` : ""}`);
    } catch {
      // not a distribution error body
    }
    const what = `${r.method} ${r.url.replace(/\?.*$/, "")} → HTTP ${res.status}${codes.length ? ` (${codes.join("; ")})` : ""}`;
    const s = res.status;
    if (s === 401 || s === 403)
      return new RegistryHttpError(
        Codes.REGISTRY_AUTH,
        `${this.registry} refused access: ${what}: check the credentials in the auth file and their scope`,
        s,
      );
    if (s === 404)
      return new RegistryHttpError(Codes.REGISTRY_NOT_FOUND, `not found on ${this.registry}: ${what}`, s);
    if (s >= 500 || s === 429)
      return new RegistryHttpError(
        Codes.REGISTRY_UNAVAILABLE,
        `registry ${this.registry} failed: ${what}`,
        s,
      );
    return new RegistryHttpError(Codes.REGISTRY_PROTOCOL, `registry ${this.registry} rejected ${what}`, s, {
      errors: codes,
    });
  }
}
