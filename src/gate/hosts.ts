/**
 * One canonical form for a host, and what kind of address it is. Every place that matches hosts
 * (shell curl/wget/nc arguments, `http` actions, the http executor's connect-time check) uses
 * these two functions, so `0x7f000001`, `2130706433`, `127.1`, `0177.0.0.1` and `[::ffff:7f00:1]`
 * are all `127.0.0.1`/loopback everywhere. Pure: no DNS (names are re-checked at connect time).
 */
import { wordTable } from "./word-table.js";

export type AddressClass =
  | "loopback"
  | "unspecified"
  | "link-local"
  | "private"
  | "metadata"
  | "public"
  /** A DNS name that is not one of the reserved local names: only its resolved address can tell. */
  | "name";

/** Cloud instance-metadata endpoints: never reachable by an action, whatever the policy says. */
const METADATA_V4 = new Set(["169.254.169.254", "169.254.170.2", "100.100.100.200"]);
const METADATA_V6 = new Set(["fd00:ec2:0:0:0:0:0:254"]);
const METADATA_NAMES = new Set([
  "metadata.google.internal",
  "metadata",
  "instance-data",
  "metadata.azure.com",
]);

const NUMERIC_V4ISH = /^[0-9a-fx.]+$/i;

/**
 * The canonical spelling of a host: lowercase, no trailing dot, no brackets; IPv4 in every form
 * inet_aton accepts becomes dotted-quad; IPv6 becomes its WHATWG compressed form (`::ffff:7f00:1`).
 * A host that no URL parser accepts is returned lowercased as it was (it then matches no allowlist).
 */
export function canonicalHost(raw: string): string {
  let h = raw.trim().toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  while (h.endsWith(".") && h.length > 1) h = h.slice(0, -1);
  const v6 = h.includes(":");
  if (!v6 && !NUMERIC_V4ISH.test(h)) return h;
  try {
    const u = new URL(`http://${v6 ? `[${h}]` : h}/`).hostname;
    return u.startsWith("[") ? u.slice(1, -1) : u;
  } catch {
    return h;
  }
}

/**
 * gate49: a URL as the rules' `urls` globs see it: `/HOST/PATH`, the canonical host then the path
 * percent-decoded, lower case, dot segments resolved, runs of `/` folded and no trailing `/` (no
 * scheme, port, query or fragment), so `HTTPS://API.GitHub.com//repos/a/b/%63ollaborators/x/` is
 * `/api.github.com/repos/a/b/collaborators/x`. A word without a scheme is read as `https://WORD`
 * (curl's default). Null when no URL parser accepts it.
 */
export function canonicalUrl(v: string): string | null {
  let u: URL;
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `https://${v}`);
  } catch {
    return null;
  }
  return canonicalUrlOf(u, canonicalHost(u.hostname));
}

/** canonicalUrl of a URL already parsed, whose host `host` is canonical (canonicalHost of its hostname). */
export function canonicalUrlOf(u: URL, host: string): string {
  let path = u.pathname;
  try {
    path = decodeURIComponent(path);
  } catch {
    // A lone `%` is no escape: the path as written.
  }
  path = path.toLowerCase().replace(/\/{2,}/g, "/");
  if (path.endsWith("/")) path = path.slice(0, -1);
  return `/${host}${path}`;
}

/** Four octets of a dotted-quad, or null. */
function v4(h: string): [number, number, number, number] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  if (m === null) return null;
  const o = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])] as [number, number, number, number];
  return o.every((x) => x <= 255) ? o : null;
}

/** Eight 16-bit groups of an IPv6 address (`::` expanded, an embedded dotted-quad folded), or null. */
function v6(h: string): number[] | null {
  if (!h.includes(":")) return null;
  let s = h;
  const pct = s.indexOf("%");
  if (pct >= 0) s = s.slice(0, pct);
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (tail) {
    const q = v4(tail[1]!);
    if (q === null) return null;
    s = `${s.slice(0, -tail[1]!.length)}${((q[0] << 8) | q[1]).toString(16)}:${((q[2] << 8) | q[3]).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const part = (x: string) => (x === "" ? [] : x.split(":"));
  const head = part(halves[0]!);
  const rest = halves.length === 2 ? part(halves[1]!) : [];
  const fill = halves.length === 2 ? 8 - head.length - rest.length : 0;
  if (fill < 0 || (halves.length === 1 && head.length !== 8)) return null;
  const groups = [...head, ...Array<string>(fill).fill("0"), ...rest];
  const out: number[] = [];
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
    out.push(Number.parseInt(g, 16));
  }
  return out.length === 8 ? out : null;
}

function classV4(o: [number, number, number, number]): AddressClass {
  const s = o.join(".");
  if (METADATA_V4.has(s)) return "metadata";
  const [a, b] = o;
  if (a === 127) return "loopback";
  if (a === 0) return "unspecified";
  if (a === 169 && b === 254) return "link-local";
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return "private";
  // Carrier-grade NAT, benchmarking, and the IETF protocol block: not the public internet.
  if ((a === 100 && b >= 64 && b <= 127) || (a === 198 && (b === 18 || b === 19)) || (a === 192 && b === 0))
    return "private";
  if (a >= 224) return "private";
  return "public";
}

/** What kind of address `host` is (canonicalised first). Exported for the http executor's connect-time check. */
export function classifyHost(host: string): AddressClass {
  const h = canonicalHost(host);
  if (h === "") return "unspecified";
  const q = v4(h);
  if (q !== null) return classV4(q);
  const g = v6(h);
  if (g !== null) {
    if (METADATA_V6.has(g.map((x) => x.toString(16)).join(":"))) return "metadata";
    const zeroHead = g.slice(0, 5).every((x) => x === 0);
    // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses: judge the IPv4 inside.
    if (zeroHead && (g[5] === 0xffff || g[5] === 0) && !(g[5] === 0 && g[6] === 0)) {
      return classV4([g[6]! >> 8, g[6]! & 255, g[7]! >> 8, g[7]! & 255]);
    }
    if (g.every((x, i) => x === (i === 7 ? 1 : 0))) return "loopback";
    if (g.every((x) => x === 0)) return "unspecified";
    if ((g[0]! & 0xffc0) === 0xfe80) return "link-local";
    if ((g[0]! & 0xfe00) === 0xfc00 || (g[0]! & 0xffc0) === 0xfec0 || (g[0]! & 0xff00) === 0xff00)
      return "private";
    // NAT64 of an IPv4 address (64:ff9b::/96): judge the IPv4 inside.
    if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0))
      return classV4([g[6]! >> 8, g[6]! & 255, g[7]! >> 8, g[7]! & 255]);
    return "public";
  }
  if (METADATA_NAMES.has(h)) return "metadata";
  if (h === "localhost" || h.endsWith(".localhost") || h === "localhost.localdomain" || h === "ip6-localhost")
    return "loopback";
  if (h.endsWith(".internal") || h.endsWith(".local") || h.endsWith(".home.arpa")) return "private";
  return "name";
}

/**
 * Proxies that fetch what their path names from the host it names (issue 19, gate52, red37): the Go
 * module proxy serves `/<module>/@v/…` and the checksum database `/lookup/<module>@v` by fetching
 * the module from its path's first element, so `proxy.golang.org/evil.example/DATA/@v/list` makes
 * Google request `https://evil.example/DATA…`. A path naming another host on a proxy host is that host.
 */
const MODULE_PROXIES: Record<string, RegExp | undefined> = wordTable({
  "proxy.golang.org": /^\/+([^/?#@]+)/,
  "sum.golang.org": /^\/+lookup\/+([^/?#@]+)/i,
});

/**
 * The host a request to `host` with URL-ish `word` reaches: the module's host when `host` is a
 * module proxy and the path names one (dot segments resolved as the client does, percent-encoding
 * decoded, `!x` is the proxy's case escape of `X`; what cannot be decoded is a host no list
 * trusts), else `host`.
 */
export function proxiedHost(host: string, word: string): string {
  const re = MODULE_PROXIES[host];
  if (re === undefined) return host;
  const rest = word.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  const slash = rest.indexOf("/");
  if (slash < 0) return host;
  let seg: string;
  try {
    const m = re.exec(new URL(`http://h${rest.slice(slash)}`).pathname);
    if (!m) return host;
    seg = decodeURIComponent(m[1]!);
  } catch {
    return rest;
  }
  return canonicalHost(seg.replace(/!/g, "").split(/[/@?#]/)[0]!);
}

/** True for every class an action may not reach without a reviewer: not the public internet. */
export function isInternal(c: AddressClass): boolean {
  return c !== "public" && c !== "name";
}

/** `host:port` of a URL-ish word (scheme default ports filled in), canonical host; null when it names no URL. */
export function endpointOf(word: string): { host: string; port: number } | null {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(word)) return null;
  try {
    const u = new URL(word);
    if (u.hostname === "") return null;
    const dflt: Record<string, number> = { "http:": 80, "ws:": 80, "https:": 443, "wss:": 443, "ftp:": 21 };
    const port = u.port === "" ? (dflt[u.protocol] ?? 0) : Number(u.port);
    return { host: canonicalHost(u.hostname), port };
  } catch {
    return null;
  }
}
