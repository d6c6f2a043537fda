/**
 * A host reading its own records with its host key (src/protocol/host-read.ts): the operator guard
 * lets such a request through when the signature verifies against the key this collector pinned or
 * registered for that host, the host is not revoked, the time is fresh, and the request is
 * GET /v1/records for that host's records only.
 */
import { Codes, ForgeError } from "../errors.js";
import {
  HOST_READ_MAX_SKEW_MS,
  HOST_READ_SCHEME,
  parseHostReadAuthorization,
  verifyHostRead,
} from "../protocol/host-read.js";
import type { CollectorContext } from "./context.js";
import type { RouteRequest } from "./routes.js";

const refuse = (why: string) =>
  new ForgeError(Codes.UNAUTHENTICATED, `${HOST_READ_SCHEME} credential refused: ${why}`);

/**
 * The host a ForgeHost credential authenticates, or null when the request carries none.
 * Throws FORGE_UNAUTHENTICATED for one that does not verify (never falls back to another credential).
 */
export async function hostReader(
  ctx: CollectorContext,
  req: RouteRequest,
  now = Date.now(),
): Promise<string | null> {
  const auth = req.headers.authorization;
  const claim = parseHostReadAuthorization(typeof auth === "string" ? auth : undefined);
  if (claim === null) return null;
  if (claim === "malformed") throw refuse("malformed (expected ForgeHost HOST.AT_MS.SIGNATURE)");
  if (req.method !== "GET" || req.path !== "/v1/records")
    throw refuse("a host key reads GET /v1/records only");
  if (req.query.get("host_id") !== claim.hostId)
    throw refuse(`host '${claim.hostId}' may read its own records only (host_id=${claim.hostId})`);
  if (Math.abs(now - claim.atMs) > HOST_READ_MAX_SKEW_MS)
    throw refuse(`signed time is more than ${HOST_READ_MAX_SKEW_MS / 1000} s from the collector's clock`);
  const host = await ctx.storage.getHost(claim.hostId);
  if (host === undefined || host.public_key_pem === null)
    throw refuse(`host '${claim.hostId}' is unknown here (it has never connected)`);
  if (host.status === "revoked") throw refuse(`host '${claim.hostId}' is revoked`);
  const q = req.query.toString();
  if (!verifyHostRead(claim, req.method, `${req.path}${q ? `?${q}` : ""}`, host.public_key_pem))
    throw refuse(`signature does not verify against the key pinned for '${claim.hostId}'`);
  return claim.hostId;
}
