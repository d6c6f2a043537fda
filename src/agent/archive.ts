import { readFileSync } from "node:fs";
import { Codes, ForgeError } from "../errors.js";
import { hostReadAuthorization } from "../protocol/host-read.js";
import type { StoredRecord } from "../protocol/record.js";
import { collectorGet, collectorHttpBase, type ReadTrust } from "./collector-http.js";

export interface ArchiveOptions {
  /** The collector's WebSocket URL (its HTTP API is on the same host and port). */
  url: string;
  hostId: string;
  /** Signs with the host key (EvidenceStore.sign): the default credential, the key the collector pinned. */
  sign?: (data: Buffer) => Buffer;
  /** A file holding an operator's bearer secret: used instead of the host key when given. */
  tokenFile?: string;
  /** The collector key the WebSocket pinned: the read proves it (pinned https, or a signed http answer). */
  trust?: ReadTrust;
  timeoutMs?: number;
  now?: () => number;
}

/**
 * Records the collector already acked are pruned here; a trace (and the lifecycle facts) fetch
 * them back from the collector's GET /v1/records, authenticated as this host (its host key) or
 * with a configured operator token. Resolves with this host's records, optionally one session's.
 */
export function collectorRecords(o: ArchiveOptions) {
  const base = collectorHttpBase(o.url);
  return async (q: { session_id?: string; limit?: number } = {}): Promise<StoredRecord[]> => {
    const url = new URL("/v1/records", base);
    url.searchParams.set("host_id", o.hostId);
    if (q.session_id !== undefined) url.searchParams.set("session_id", q.session_id);
    url.searchParams.set("limit", String(q.limit ?? 10_000));
    const headers: Record<string, string> = {};
    if (o.tokenFile !== undefined) {
      headers.authorization = `Bearer ${readFileSync(o.tokenFile, "utf8").trim()}`;
    } else if (o.sign !== undefined) {
      const at = (o.now ?? Date.now)();
      headers.authorization = hostReadAuthorization(o.hostId, "GET", url.pathname + url.search, o.sign, at);
    }
    const res = await collectorGet(url, {
      headers,
      ...o.trust,
      timeoutMs: o.timeoutMs ?? 10_000,
    });
    if (res.status !== 200) {
      let why = "";
      try {
        why = `: ${(res.json() as { error?: { message?: string } }).error?.message ?? ""}`;
      } catch {
        // not JSON: the status says enough
      }
      throw new ForgeError(Codes.COLLECTOR_UNAVAILABLE, `collector answered HTTP ${res.status}${why}`);
    }
    return (res.json() as { records: StoredRecord[] }).records;
  };
}

/** One session's records from the collector (the socket API's trace archive). */
export function collectorArchive(o: ArchiveOptions) {
  const read = collectorRecords(o);
  return (session_id: string) => read({ session_id });
}
