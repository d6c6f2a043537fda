import type { KeyObject } from "node:crypto";
import { request } from "node:http";
import { isIP } from "node:net";
import { connect, type TLSSocket } from "node:tls";
import { Codes, ForgeError } from "../errors.js";
import { isPinnedKey, keyFingerprint } from "../protocol/collector-auth.js";

/** The collector key the agent trusts (the WebSocket's pin): null when none is pinned yet. */
export type PinnedKey = () => KeyObject | null;

export interface CollectorGetOptions {
  headers?: Record<string, string>;
  /** Required for https: the pinned collector key; its certificate must carry it. */
  pinned?: PinnedKey;
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
 * GET from the collector's HTTP API. Under https the system CA store is not what makes the
 * collector trusted: the TLS handshake is finished first, the peer certificate's key is compared
 * with the pinned one (isPinnedKey, the shipper's check), and only then is the request (with its
 * credentials) written. A self-signed collector works; another certificate fails with
 * FORGE_COLLECTOR_UNTRUSTED and nothing sent. Plain http is what the WebSocket allows: loopback.
 */
export async function collectorGet(
  url: URL,
  o: CollectorGetOptions = {},
): Promise<{ status: number; json: () => unknown }> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const signal = AbortSignal.timeout(timeoutMs);
  const socket = url.protocol === "https:" ? await pinnedTls(url, o.pinned, signal) : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        protocol: "http:",
        host: url.hostname.replace(/^\[|\]$/g, ""),
        port: url.port || (socket ? 443 : 80),
        path: url.pathname + url.search,
        method: "GET",
        headers: { ...o.headers, host: url.host, accept: "application/json" },
        signal,
        ...(socket ? { createConnection: () => socket } : {}),
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
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, json: () => JSON.parse(text) });
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

/** A TLS connection whose peer proved the pinned key; rejects (and closes it) before anything is written otherwise. */
function pinnedTls(url: URL, pinned: PinnedKey | undefined, signal: AbortSignal): Promise<TLSSocket> {
  const key = pinned?.() ?? null;
  if (key === null)
    return Promise.reject(
      new ForgeError(
        Codes.COLLECTOR_UNTRUSTED,
        `no collector key is pinned for ${url.host}: configure collector_trust.key (or let the agent connect once, pinning it on first use)`,
      ),
    );
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
      if (cert !== undefined && isPinnedKey(key, cert.publicKey)) return resolve(s);
      s.destroy();
      reject(
        new ForgeError(
          Codes.COLLECTOR_UNTRUSTED,
          cert === undefined
            ? `the collector at ${url.host} presented no TLS certificate: refused, nothing sent`
            : `the collector at ${url.host} presented key ${keyFingerprint(cert.publicKey)}, not the pinned ${keyFingerprint(key)}: refused, nothing sent (a fake collector, or its key changed)`,
        ),
      );
    });
    s.once("error", (err) => reject(unavailable(url, err)));
  });
}
