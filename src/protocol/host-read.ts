import { verify as cryptoVerify } from "node:crypto";

/**
 * A host reading its own records back from the collector (records the collector acked are pruned
 * on the agent, so `trace` and the lifecycle facts fetch them again). The agent signs the request
 * with its host key, the one the collector pinned at hello; no operator secret is needed:
 *
 *   Authorization: ForgeHost <host_id base64url>.<at_ms>.<ed25519 signature base64url>
 *
 * The signature covers hostReadSigningInput(host_id, method, path?query, at_ms). The collector
 * accepts it for GET /v1/records?host_id=<that host> only, within HOST_READ_MAX_SKEW_MS of its clock.
 * Pure: both sides import it.
 */
export const HOST_READ_SCHEME = "ForgeHost";

/** How far the signed time may be from the collector's clock, either way (ms). */
export const HOST_READ_MAX_SKEW_MS = 60_000;

/** The bytes the host signs: its own prefix, so no other signature of the host key can be replayed here. */
export function hostReadSigningInput(hostId: string, method: string, target: string, atMs: number): Buffer {
  return Buffer.from(`forge-agent read v1\n${hostId}\n${method.toUpperCase()}\n${target}\n${atMs}`, "utf8");
}

/** The Authorization header value for a request to `target` (path and query, as sent). */
export function hostReadAuthorization(
  hostId: string,
  method: string,
  target: string,
  sign: (data: Buffer) => Buffer,
  atMs: number,
): string {
  const sig = sign(hostReadSigningInput(hostId, method, target, atMs)).toString("base64url");
  return `${HOST_READ_SCHEME} ${Buffer.from(hostId, "utf8").toString("base64url")}.${atMs}.${sig}`;
}

export interface HostReadClaim {
  hostId: string;
  atMs: number;
  signature: Buffer;
}

/** Parses the header; null when it is not a ForgeHost credential, "malformed" when it is one but broken. */
export function parseHostReadAuthorization(header: string | undefined): HostReadClaim | "malformed" | null {
  if (header === undefined || !header.startsWith(`${HOST_READ_SCHEME} `)) return null;
  const m = /^([A-Za-z0-9_-]{1,400})\.(\d{1,15})\.([A-Za-z0-9_-]{1,200})$/.exec(
    header.slice(HOST_READ_SCHEME.length + 1),
  );
  if (m === null) return "malformed";
  const hostId = Buffer.from(m[1]!, "base64url").toString("utf8");
  if (hostId === "" || hostId.length > 256) return "malformed";
  return { hostId, atMs: Number(m[2]), signature: Buffer.from(m[3]!, "base64url") };
}

/** True when the claim's signature is valid for `publicKeyPem` over this request. Never throws. */
export function verifyHostRead(
  claim: HostReadClaim,
  method: string,
  target: string,
  publicKeyPem: string,
): boolean {
  try {
    return cryptoVerify(
      null,
      hostReadSigningInput(claim.hostId, method, target, claim.atMs),
      publicKeyPem,
      claim.signature,
    );
  } catch {
    return false;
  }
}
