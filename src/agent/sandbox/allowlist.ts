import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { canonicalHost, classifyHost, isInternal } from "../../gate/hosts.js";

/** One network allowlist: `host`, `host:port`, `*.suffix` (canonical spellings). */
export class HostAllowlist {
  private readonly entries: { host: string; port: number | null; suffix: boolean }[];

  constructor(hosts: readonly string[]) {
    this.entries = hosts.map((raw) => {
      const m = /^(\[[^\]]+\]|[^:]+|[0-9a-f:]+)(?::(\d+))?$/i.exec(raw.trim());
      const hostPart = m?.[1] ?? raw;
      const suffix = hostPart.startsWith("*.");
      return {
        host: canonicalHost(suffix ? hostPart.slice(2) : hostPart),
        port: m?.[2] === undefined ? null : Number(m[2]),
        suffix,
      };
    });
  }

  /** The entry that allows host:port, or null. */
  allows(host: string, port: number): boolean {
    const h = canonicalHost(host);
    return this.entries.some(
      (e) => (e.port === null || e.port === port) && (e.suffix ? h.endsWith(`.${e.host}`) : h === e.host),
    );
  }
}

/**
 * Where a connection to host:port may go, checked at connect time: the host must be allowed, the
 * metadata endpoints never are, and a *name* that resolves to an internal address (loopback,
 * private, link-local) is refused — DNS rebinding — unless the allowlist names that address itself.
 * Resolves to the address to connect to, so the check and the connect use the same answer.
 */
export async function resolveAllowed(
  host: string,
  port: number,
  allow: HostAllowlist | "open",
): Promise<{ ok: true; address: string; family: 4 | 6 } | { ok: false; reason: string }> {
  const h = canonicalHost(host);
  const cls = classifyHost(h);
  if (cls === "metadata") return { ok: false, reason: `${h} is a cloud metadata endpoint` };
  if (allow !== "open" && !allow.allows(h, port))
    return { ok: false, reason: `${h}:${port} is not on the allowlist` };
  if (isIP(h) !== 0) {
    if (allow === "open" && isInternal(cls)) return { ok: false, reason: `${h} is a ${cls} address` };
    return { ok: true, address: h, family: isIP(h) as 4 | 6 };
  }
  if (allow === "open" && isInternal(cls)) return { ok: false, reason: `${h} is a ${cls} name` };
  let addrs: { address: string; family: number }[];
  try {
    addrs = await lookup(h, { all: true });
  } catch (e) {
    return { ok: false, reason: `cannot resolve ${h}: ${(e as Error).message}` };
  }
  for (const a of addrs) {
    const c = classifyHost(a.address);
    // A reserved local name the allowlist names itself (localhost:8080) is consent to where it leads.
    const named = allow !== "open" && (allow.allows(a.address, port) || isInternal(cls));
    if (c === "metadata" || (isInternal(c) && !named))
      return { ok: false, reason: `${h} resolves to ${a.address} (${c}): refused at connect time` };
  }
  // IPv4 first, as most servers on this host listen there (localhost is ::1 and 127.0.0.1).
  const first = addrs.find((a) => a.family === 4) ?? addrs[0];
  if (first === undefined) return { ok: false, reason: `${h} has no address` };
  return { ok: true, address: first.address, family: first.family === 6 ? 6 : 4 };
}
