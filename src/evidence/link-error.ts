import { Codes } from "../errors.js";
import { CloseCodes } from "../protocol/messages.js";

/**
 * Why the agent is not connected to its collector, as `forge-agent status`, `/v1/health` and the
 * heartbeat report it: a stable code, what happened, and the fix, in one sentence each.
 */
export interface LinkError {
  /** FORGE_COLLECTOR_UNAVAILABLE (no answer), FORGE_COLLECTOR_REFUSED (a refusal), FORGE_COLLECTOR_UNTRUSTED (not the pinned collector). */
  code: string;
  /** Finer and stable: `econnrefused`, `http-404`, `close-4001`, `collector-key-mismatch`, … */
  reason: string;
  message: string;
  fix: string;
  at: string;
}

/** What went wrong, as the shipper sees it. */
export type LinkEvent =
  | { kind: "error"; error: Error & { code?: string } }
  | { kind: "close"; code: number; reason: string }
  | { kind: "untrusted"; alert: string; message: string };

const CLOSE_FIX: Readonly<Record<number, [string, string]>> = {
  [CloseCodes.UNAUTHENTICATED]: [
    "the collector did not accept this host's hello (its key differs from the one registered there)",
    "if this host's keys were recreated, revoke the old key on the collector (forge-collector hosts) or restore <home>/keys",
  ],
  [CloseCodes.REVOKED]: [
    "the collector has revoked this host's key",
    "ask the collector's operator to re-register this host, or point collector_url elsewhere",
  ],
  [CloseCodes.UNREGISTERED]: [
    "the collector only accepts registered hosts (--require-registered) and this one is not",
    "register this host's public key on the collector (forge-collector hosts register)",
  ],
  [CloseCodes.CHAIN_GAP]: [
    "the collector is missing records before the ones this host sent",
    "run 'forge-agent verify'; if the local store was pruned, the collector's operator must resolve the gap",
  ],
  [CloseCodes.CHAIN_FORK]: [
    "this host's evidence chain disagrees with the one the collector holds",
    "run 'forge-agent verify' and compare with the collector's copy; never delete evidence.db to 'fix' it",
  ],
  [CloseCodes.EPOCH_CHANGED]: [
    "this host's evidence store was recreated while the collector holds the old chain",
    "the collector's operator accepts the new epoch, or restore the old evidence.db",
  ],
  [CloseCodes.BAD_CHECKPOINT]: [
    "the collector could not verify this host's checkpoint",
    "run 'forge-agent verify'; restore <home>/keys if they changed",
  ],
};

/** Maps a failed or refused connection to a LinkError; null for closes that need no fix (a restart, a takeover). */
export function linkError(event: LinkEvent, url: string, now = new Date()): LinkError | null {
  const at = now.toISOString();
  if (event.kind === "untrusted") {
    return {
      code: Codes.COLLECTOR_UNTRUSTED,
      reason: event.alert,
      message: event.message,
      fix: "if the collector's key changed on purpose, set collector_trust.key to its new certificate (or delete the pin file, collector_trust.pin_file); otherwise check collector_url: this is not your collector",
      at,
    };
  }
  if (event.kind === "close") {
    const known = CLOSE_FIX[event.code];
    if (known === undefined) return null;
    return {
      code: Codes.COLLECTOR_REFUSED,
      reason: `close-${event.code}`,
      message: `${known[0]} (close ${event.code}${event.reason ? ` ${event.reason}` : ""})`,
      fix: known[1],
      at,
    };
  }
  const err = event.error;
  const http = /Unexpected server response: (\d{3})/.exec(err.message);
  if (http !== null) {
    const status = Number(http[1]);
    const path = new URL(url).pathname;
    return {
      code: Codes.COLLECTOR_REFUSED,
      reason: `http-${status}`,
      message: `${url} answered HTTP ${status} to the WebSocket upgrade`,
      fix:
        status === 404
          ? `the collector's ingest path is /v1/ws (a URL without a path means it): check collector_url (the path here is ${path})`
          : status === 401 || status === 403
            ? "something in front of the collector (a proxy) wants credentials: let /v1/ws through to the collector"
            : "check that collector_url points at a forge-collector (forge-collector run prints its agent URL)",
      at,
    };
  }
  const sys = err.code ?? "";
  const unreachable: Record<string, string> = {
    ECONNREFUSED: "nothing listens there: start the collector (forge-collector run) or correct collector_url",
    ENOTFOUND: "the host name does not resolve: correct collector_url",
    EAI_AGAIN: "the host name does not resolve (DNS unavailable): correct collector_url or check the network",
    ETIMEDOUT: "no answer in time: check the network, a firewall, or collector_url",
    EHOSTUNREACH: "the host is unreachable: check the network or collector_url",
    ECONNRESET:
      "the connection was reset: check that collector_url's scheme (ws:// or wss://) matches the collector",
  };
  if (sys.startsWith("ERR_TLS") || sys.startsWith("ERR_SSL") || /certificate|SSL|TLS/i.test(err.message)) {
    return {
      code: Codes.COLLECTOR_UNAVAILABLE,
      reason: "tls-error",
      message: `the TLS handshake with ${url} failed: ${err.message}`,
      fix: "use wss:// for a collector with TLS (forge-collector tls init) and ws:// for one without",
      at,
    };
  }
  return {
    code: Codes.COLLECTOR_UNAVAILABLE,
    reason: sys === "" ? "connection-error" : sys.toLowerCase(),
    message: `cannot connect to ${url}: ${err.message}`,
    fix: unreachable[sys] ?? "check collector_url and that the collector is running (forge-collector run)",
    at,
  };
}
