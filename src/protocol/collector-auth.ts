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
  return { ...msg, sig: signRead(privateKey, collectorSigningInput(agentNonce, msg)) };
}

/** True when `msg.sig` is the pinned collector key's signature of `msg` for this connection. Never throws. */
export function verifyCollectorMessage(
  publicKey: KeyObject,
  agentNonce: string,
  msg: Record<string, unknown>,
): boolean {
  return (
    typeof msg.sig === "string" && verifyRead(publicKey, collectorSigningInput(agentNonce, msg), msg.sig)
  );
}

/**
 * A signed read (issue 20): plain http to a loopback collector has no certificate, so the agent
 * binds its HTTP reads to the pinned key the way the WebSocket does. It sends a fresh nonce in
 * READ_NONCE_HEADER; the collector answers with its public key (READ_KEY_HEADER, SPKI DER
 * base64url) and its signature (READ_SIG_HEADER) over the nonce, the request and the exact answer.
 */
export const READ_NONCE_HEADER = "x-forge-read-nonce";
export const READ_KEY_HEADER = "x-forge-collector-key";
export const READ_SIG_HEADER = "x-forge-collector-sig";

/** A nonce the collector signs for: base64url, 16 to 128 characters. */
export const isReadNonce = (v: unknown): v is string =>
  typeof v === "string" && /^[A-Za-z0-9_-]{16,128}$/.test(v);

/** The bytes the collector signs for one answer: the agent's nonce, method, target, status and the body's SHA-256. */
export function readSigningInput(
  nonce: string,
  method: string,
  target: string,
  status: number,
  body: Buffer | string,
): Buffer {
  const digest = createHash("sha256").update(body).digest("hex");
  return Buffer.from(
    `forge-collector read v1\n${nonce}\n${method.toUpperCase()}\n${target}\n${status}\n${digest}`,
    "utf8",
  );
}

/** The collector's signature (base64) of `input`: a message, or one read answer. */
export function signRead(privateKey: KeyObject, input: Buffer): string {
  return sign(digestFor(privateKey), input, privateKey).toString("base64");
}

/** True when `sig` is `publicKey`'s signature of `input`. Never throws. */
export function verifyRead(publicKey: KeyObject, input: Buffer, sig: string): boolean {
  if (sig.length === 0 || sig.length > 1024) return false;
  try {
    return verify(digestFor(publicKey), input, publicKey, Buffer.from(sig, "base64"));
  } catch {
    return false;
  }
}

/** The alert code of a first-use pin (the agent writes it as `collector.<code>`). */
export const FIRST_USE_ALERT = "collector-pinned-first-use";

/** What the agent logs (at error level) and records when it pins a collector key on first use. */
export function firstUsePinMessage(fingerprint: string, seenIn: string): string {
  return `PINNED the collector's key on first use (${seenIn}): ${fingerprint}. Every later connection must prove this key; if this is not your collector, stop the agent and configure collector_key`;
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

/**
 * A key rotation (`forge-collector tls rotate`): the new key, announced in the challenge, signed by
 * the previous key, so an agent that pinned the previous key can move its pin to the new one and
 * nothing else can. The statement is a file beside the certificate (collector.rotation.json).
 */
/** Where `tls rotate` writes the statement: beside collector.crt, where the collector looks for it. */
export const ROTATION_FILE = "collector.rotation.json";

export interface KeyRotation {
  /** The new key (SPKI PEM): the collector's key now. */
  public_key_pem: string;
  /** `sha256:` fingerprint of the key that signed this statement. */
  previous_fingerprint: string;
  /** The previous key's signature (base64) over rotationSigningInput. */
  sig: string;
}

/** The bytes the previous key signs: the new key's SPKI DER fingerprint and the previous one's. */
export function rotationSigningInput(newKey: KeyObject, previousFingerprint: string): Buffer {
  return Buffer.from(
    `forge-collector key rotation v1\n${previousFingerprint}\n${keyFingerprint(newKey)}`,
    "utf8",
  );
}

/** The statement moving trust from `previousKey` (its private half signs) to `newKey`. */
export function signRotation(previousKey: KeyObject, newKey: KeyObject): KeyRotation {
  const prevFp = keyFingerprint(createPublicKey(previousKey));
  return {
    public_key_pem: newKey.export({ type: "spki", format: "pem" }).toString(),
    previous_fingerprint: prevFp,
    sig: sign(digestFor(previousKey), rotationSigningInput(newKey, prevFp), previousKey).toString("base64"),
  };
}

/**
 * The new key `rotation` moves trust to when `pinned` signed it, else null (a rotation not signed
 * by the pinned key, or one that does not parse). Never throws.
 */
export function verifyRotation(pinned: KeyObject, rotation: unknown): KeyObject | null {
  const r = rotation as Partial<KeyRotation> | null;
  if (r === null || typeof r !== "object") return null;
  if (typeof r.public_key_pem !== "string" || typeof r.sig !== "string" || r.sig.length > 1024) return null;
  try {
    const next = createPublicKey(r.public_key_pem);
    const prevFp = keyFingerprint(pinned);
    if (r.previous_fingerprint !== prevFp) return null;
    const ok = verify(
      digestFor(pinned),
      rotationSigningInput(next, prevFp),
      pinned,
      Buffer.from(r.sig, "base64"),
    );
    return ok ? next : null;
  } catch {
    return null;
  }
}
