import { createHash, createPublicKey, type KeyObject, sign, verify, X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { canonicalJson } from "./canonical.js";

/**
 * The collector's side of mutual authentication (issue 20): the agent pins the collector's public
 * key (its TLS key under wss://) and acts only on acks and reviews that key signed. A signature
 * covers the agent's per-connection nonce (sent in hello) and the canonical JSON of the message
 * without `sig`, so a signed ack or review from one connection means nothing on another.
 */

/**
 * collector → agent messages that carry authority: an ack lets the agent prune, a decisions_ack
 * lets it stop re-sending a decision, a review decides an escalation.
 */
export const SIGNED_TYPES: ReadonlySet<string> = new Set(["ack", "decisions_ack", "review"]);

/** The bytes the collector signs for one message on the connection whose hello carried `agentNonce`. */
export function collectorSigningInput(agentNonce: string, msg: Record<string, unknown>): Buffer {
  const { sig: _sig, ...rest } = msg;
  return Buffer.from(`forge-collector message v1\n${agentNonce}\n${canonicalJson(rest)}`, "utf8");
}

/** ed25519/ed448 sign the message itself; EC and RSA keys sign its SHA-256. */
const digestFor = (key: KeyObject): string | null =>
  key.asymmetricKeyType === "ed25519" || key.asymmetricKeyType === "ed448" ? null : "sha256";

/** Returns `msg` with `sig` (base64) added: the collector's signature for this connection. */
export function signCollectorMessage<T extends Record<string, unknown>>(
  privateKey: KeyObject,
  agentNonce: string,
  msg: T,
): T & { sig: string } {
  const sig = sign(digestFor(privateKey), collectorSigningInput(agentNonce, msg), privateKey);
  return { ...msg, sig: sig.toString("base64") };
}

/** True when `msg.sig` is the pinned collector key's signature of `msg` for this connection. Never throws. */
export function verifyCollectorMessage(
  publicKey: KeyObject,
  agentNonce: string,
  msg: Record<string, unknown>,
): boolean {
  if (typeof msg.sig !== "string" || msg.sig.length === 0 || msg.sig.length > 1024) return false;
  try {
    return verify(
      digestFor(publicKey),
      collectorSigningInput(agentNonce, msg),
      publicKey,
      Buffer.from(msg.sig, "base64"),
    );
  } catch {
    return false;
  }
}

/** `sha256:<hex>` of the key's SPKI DER: how logs, alerts and docs name a pinned collector key. */
export function keyFingerprint(key: KeyObject): string {
  return `sha256:${createHash("sha256")
    .update(key.export({ type: "spki", format: "der" }))
    .digest("hex")}`;
}

/**
 * The one answer to "is this peer's key the pinned collector key": the WebSocket shipper and the
 * agent's HTTPS reads from the collector (src/agent/collector-http.ts) both ask it.
 */
export function isPinnedKey(pinned: KeyObject, seen: KeyObject): boolean {
  return keyFingerprint(pinned) === keyFingerprint(seen);
}

/** The public key of a PEM certificate or SPKI public key (what a pin file or `collector_key` holds). */
export function publicKeyFromPem(pem: string): KeyObject {
  return pem.includes("BEGIN CERTIFICATE") ? new X509Certificate(pem).publicKey : createPublicKey(pem);
}

/** True for the hosts plain ws:// is allowed to: localhost, 127.0.0.0/8, ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  return h === "::1" || h === "0:0:0:0:0:0:0:1";
}
