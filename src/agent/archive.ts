import { Codes, ForgeError } from "../errors.js";
import type { StoredRecord } from "../protocol/record.js";

/**
 * Records the collector already acked are pruned here; a trace fetches them back from the
 * collector's HTTP API (same host and port as its WebSocket).
 */
export function collectorArchive(wsUrl: string, hostId: string) {
  const base = new URL(wsUrl);
  base.protocol = base.protocol === "wss:" ? "https:" : "http:";
  return async (session_id: string): Promise<StoredRecord[]> => {
    const url = new URL("/v1/records", base);
    url.searchParams.set("host_id", hostId);
    url.searchParams.set("session_id", session_id);
    url.searchParams.set("limit", "10000");
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) throw new ForgeError(Codes.COLLECTOR_UNAVAILABLE, `collector answered HTTP ${res.status}`);
    return ((await res.json()) as { records: StoredRecord[] }).records;
  };
}
