import type { Socket } from "node:net";
import { peerCredentials } from "../platform/native.js";
import type { Peer } from "./api.js";

/**
 * The one place that asks the native addon who is on the other end of a Unix-socket connection
 * (SO_PEERCRED / LOCAL_PEERCRED). Taken once per connection, at accept time.
 */
export function socketPeer(socket: Socket): Peer {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== "number" || fd < 0) return { ok: false, error: "no file descriptor for the connection" };
  try {
    const { pid, uid, gid } = peerCredentials(fd);
    return { ok: true, uid, pid, gid, name: `uid:${uid} pid:${pid}` };
  } catch (err) {
    return { ok: false, error: `${(err as { code?: string }).code ?? "error"}: ${(err as Error).message}` };
  }
}
