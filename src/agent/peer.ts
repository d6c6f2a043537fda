import { readFileSync } from "node:fs";
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

/** One process of a peer's ancestry (Linux /proc/<pid>/stat). */
export interface ProcessLink {
  pid: number;
  ppid: number;
  /** Session id: a process started with setsid (detached) leads its own session. */
  sid: number;
}

/**
 * The peer process and its ancestors, nearest first, up to init (at most 256 links). Empty where
 * /proc is missing (macOS): callers then rely on the review token alone.
 */
export function ancestry(pid: number): ProcessLink[] {
  const out: ProcessLink[] = [];
  let cur = pid;
  for (let i = 0; i < 256 && cur > 0; i++) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${cur}/stat`, "utf8");
    } catch {
      break;
    }
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const link = { pid: cur, ppid: Number(f[1]), sid: Number(f[3]) };
    out.push(link);
    if (link.ppid === cur) break;
    cur = link.ppid;
  }
  return out;
}

/**
 * Why `chain` (a reviewer's ancestry) must not review, or null. Executed actions are the agent's
 * detached children (each leads its own session), so anything below one of them, or below the
 * proposer's process, is the governed side of the table.
 */
export function governedAncestor(
  chain: readonly ProcessLink[],
  agentPid: number,
  proposerPid: number | null,
): string | null {
  for (const p of chain) {
    if (proposerPid !== null && p.pid === proposerPid)
      return `pid ${chain[0]?.pid} is the proposer (pid ${proposerPid}) or runs under it`;
    if (p === chain[0] && p.pid === agentPid) return `pid ${p.pid} is the agent itself`;
    if (p.ppid === agentPid && p.sid === p.pid)
      return `pid ${chain[0]?.pid} descends from pid ${p.pid}, an action the agent executed`;
  }
  return null;
}
