import { createPublicKey, type KeyObject, randomBytes } from "node:crypto";
import { type IncomingHttpHeaders, request } from "node:http";
import { isIP } from "node:net";
import { connect, type TLSSocket } from "node:tls";
import { Codes, ForgeError } from "../errors.js";
import {
  isPinnedKey,
  keyFingerprint,
  READ_KEY_HEADER,
  READ_NONCE_HEADER,
  READ_SIG_HEADER,
  readSigningInput,
  verifyRead,
} from "../protocol/collector-auth.js";

/** The collector key the agent trusts (the WebSocket's pin): null when none is pinned yet. */
export type PinnedKey = () => KeyObject | null;

/**
 * Pins `key`, seen first in `seenIn` (the TLS certificate of an https read, or the signed answer of
 * an http one), loudly; false when first-use pinning is off. The daemon's is the shipper's pin.
 */
export type PinFirstUse = (key: KeyObject, seenIn: string) => boolean;

/** What binds a read to the collector: the pin, and whether a first use may set it. */
export interface ReadTrust {
  /** The pinned collector key: an https certificate must carry it; an http answer must be signed by it. */
  pinned?: PinnedKey;
  /** With no key pinned yet: pin the one this read proved (default: refuse). */
  pinFirstUse?: PinFirstUse;
}

export interface CollectorGetOptions extends ReadTrust {
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** Largest body read (default 512 MiB); a larger answer is refused, not truncated. */
  maxBytes?: number;
}

/** The HTTP(S) base of the collector whose WebSocket URL is `wsUrl` (same host and port). */
export function collectorHttpBase(wsUrl: string): URL {
  const base = new URL(wsUrl);
  base.protocol = base.protocol === "wss:" ? "https:" : "http:";
  return base;
}

/**
 * GET from the collector's HTTP API, bound to the pinned collector key as the WebSocket is.
 * - https: the system CA store is not what makes the collector trusted. The TLS handshake is
 *   finished first, the peer certificate's key is compared with the pin (isPinnedKey, the
 *   shipper's check), and only then is the request (with its credentials) written. A self-signed
 *   collector works; another certificate fails with FORGE_COLLECTOR_UNTRUSTED and nothing sent.
 * - plain http (what the WebSocket allows: loopback): the request carries a fresh nonce and the
 *   answer must carry the pinned key's signature over the nonce, the request, the status and the
 *   body (READ_SIG_HEADER). An unsigned answer, or one another key signed, is FORGE_COLLECTOR_UNTRUSTED
 *   and never parsed. A bearer token is a reusable secret, so it is sent only after the key is
 *   proved: the same GET goes first without it, and only a signed answer from the pinned key lets
 *   the second carry it (a fake collector on the port never sees it). A host-read signature is
 *   bound to its target and time, so it goes at once. Only TLS binds the credential to the
 *   channel (a relay in front of the real collector on loopback could still see it): prefer https.
 * With no key pinned yet, `pinFirstUse` may pin the key the read proved; otherwise it is refused.
 */
export async function collectorGet(
  url: URL,
  o: CollectorGetOptions = {},
): Promise<{ status: number; json: () => unknown }> {
  const headers = Object.entries(o.headers ?? {});
  const bearer = ([k, v]: [string, string]) => k.toLowerCase() === "authorization" && /^bearer\s/i.test(v);
  if (url.protocol !== "https:" && headers.some(bearer)) {
    await readOnce(url, { ...o, headers: Object.fromEntries(headers.filter((h) => !bearer(h))) });
  }
  return readOnce(url, o);
}

async function readOnce(url: URL, o: CollectorGetOptions): Promise<{ status: number; json: () => unknown }> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const signal = AbortSignal.timeout(timeoutMs);
  const socket = url.protocol === "https:" ? await pinnedTls(url, o, signal) : undefined;
  const nonce = socket ? undefined : randomBytes(24).toString("base64url");
  const target = url.pathname + url.search;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        protocol: "http:",
        host: url.hostname.replace(/^\[|\]$/g, ""),
        port: url.port || (socket ? 443 : 80),
        path: target,
        method: "GET",
        headers: {
          ...o.headers,
          host: url.host,
          accept: "application/json",
          ...(nonce ? { [READ_NONCE_HEADER]: nonce } : {}),
        },
        signal,
        // A connection per read (reads are rare): no pooled socket of an earlier server is reused.
        ...(socket ? { createConnection: () => socket } : { agent: false }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const max = o.maxBytes ?? 512 * 1024 * 1024;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > max) {
            res.destroy();
            reject(
              new ForgeError(Codes.COLLECTOR_UNAVAILABLE, `collector answer over ${max} bytes: refused`),
            );
            return;
          }
          chunks.push(c);
        });
        res.on("error", (err) => reject(unavailable(url, err)));
        res.on("end", () => {
          const body = Buffer.concat(chunks);
          const status = res.statusCode ?? 0;
          if (nonce !== undefined) {
            const refused = signedAnswerRefusal(
              url,
              o,
              res.headers,
              readSigningInput(nonce, "GET", target, status, body),
            );
            if (refused !== null) return reject(refused);
          }
          const text = body.toString("utf8");
          resolve({ status, json: () => JSON.parse(text) });
        });
      },
    );
    req.on("error", (err) => reject(unavailable(url, err)));
    req.end();
  });
}

function unavailable(url: URL, err: Error): ForgeError {
  if (err.name === "TimeoutError" || err.name === "AbortError")
    return new ForgeError(Codes.UPSTREAM_TIMEOUT, `collector at ${url.host} did not answer in time`);
  return new ForgeError(Codes.COLLECTOR_UNAVAILABLE, `collector at ${url.host}: ${err.message}`);
}

/**
 * The one trust decision of a read: null when `seen` (the key this read proved) is the pinned key,
 * or was pinned now on first use; else the FORGE_COLLECTOR_UNTRUSTED error.
 */
function untrustedKey(url: URL, o: CollectorGetOptions, seen: KeyObject, seenIn: string): ForgeError | null {
  const pinned = o.pinned?.() ?? null;
  if (pinned === null) {
    if (o.pinFirstUse?.(seen, seenIn) === true) {
      const now = o.pinned?.() ?? seen;
      if (isPinnedKey(now, seen)) return null;
      return untrusted(url, seen, seenIn, now);
    }
    return new ForgeError(
      Codes.COLLECTOR_UNTRUSTED,
      `no collector key is pinned for ${url.host} (its ${seenIn} names ${keyFingerprint(seen)}): refused; configure collector_trust.key or --collector-key (or let the agent connect once, pinning it on first use)`,
    );
  }
  return isPinnedKey(pinned, seen) ? null : untrusted(url, seen, seenIn, pinned);
}

function untrusted(url: URL, seen: KeyObject, seenIn: string, pinned: KeyObject): ForgeError {
  return new ForgeError(
    Codes.COLLECTOR_UNTRUSTED,
    `the collector at ${url.host} presented key ${keyFingerprint(seen)} in its ${seenIn}, not the pinned ${keyFingerprint(pinned)}: refused (a fake collector, or its key changed)`,
  );
}

/**
 * Why a plain-http answer is not the pinned collector's (null: it is): no signature, a key that
 * does not parse, a signature that does not verify for this nonce, request and body, or a key
 * other than the pin.
 */
function signedAnswerRefusal(
  url: URL,
  o: CollectorGetOptions,
  headers: IncomingHttpHeaders,
  input: Buffer,
): ForgeError | null {
  const keyB64 = headers[READ_KEY_HEADER];
  const sig = headers[READ_SIG_HEADER];
  const refuse = (why: string) =>
    new ForgeError(
      Codes.COLLECTOR_UNTRUSTED,
      `the answer of ${url.host} ${why}: refused, not read (a fake collector, or one older than signed reads)`,
    );
  if (typeof keyB64 !== "string" || typeof sig !== "string")
    return refuse("is not signed by a collector key");
  let seen: KeyObject;
  try {
    seen = createPublicKey({ key: Buffer.from(keyB64, "base64"), format: "der", type: "spki" });
  } catch {
    return refuse("names a collector key that does not parse");
  }
  if (!verifyRead(seen, input, sig))
    return refuse(`carries a signature that ${keyFingerprint(seen)} did not make for this request`);
  return untrustedKey(url, o, seen, "signed http answer");
}

/** A TLS connection whose peer proved the pinned key; rejects (and closes it) before anything is written otherwise. */
function pinnedTls(url: URL, o: CollectorGetOptions, signal: AbortSignal): Promise<TLSSocket> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return new Promise((resolve, reject) => {
    const s = connect({
      host,
      port: Number(url.port || 443),
      ...(isIP(host) === 0 ? { servername: host } : {}),
      // The pinned key decides, below; a self-signed certificate is the usual case (tls init).
      rejectUnauthorized: false,
      ALPNProtocols: ["http/1.1"],
    });
    const abort = () => s.destroy(signal.reason as Error);
    signal.addEventListener("abort", abort, { once: true });
    s.once("close", () => signal.removeEventListener("abort", abort));
    s.once("secureConnect", () => {
      const cert = s.getPeerX509Certificate();
      const refused =
        cert === undefined
          ? new ForgeError(
              Codes.COLLECTOR_UNTRUSTED,
              `the collector at ${url.host} presented no TLS certificate`,
            )
          : untrustedKey(url, o, cert.publicKey, "TLS certificate");
      if (refused === null) return resolve(s);
      s.destroy();
      refused.message += ", nothing sent";
      reject(refused);
    });
    s.once("error", (err) => reject(unavailable(url, err)));
  });
}
