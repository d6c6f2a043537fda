import type { LookupFunction } from "node:net";
import { Agent, fetch } from "undici";
import { Codes, ForgeError } from "../../errors.js";
import { HostAllowlist, resolveAllowed } from "../sandbox/index.js";
import { Capture } from "./capture.js";
import { round } from "./shell.js";
import type { ActionSandbox, ExecutionResult, ExecutorLimits } from "./types.js";

/**
 * One HTTP request with a timeout over the whole exchange and a cap on the response body. The
 * request goes only to the URL the gate judged, and its address is checked at connect time: a
 * name that resolves to a loopback, private, link-local or metadata address (DNS rebinding, or a
 * name the gate could not see through) is refused unless the profile's allowlist names it; with
 * an allowlist profile, only its hosts are reached. Redirects are not followed.
 */
export async function runHttp(
  action: { method: string; url: string; headers?: Record<string, string>; body?: string },
  limits: ExecutorLimits,
  box: ActionSandbox,
): Promise<ExecutionResult> {
  const started = performance.now();
  const net = box.profile.network;
  const sandbox = {
    engine: "in-process",
    profile: box.name,
    network: net.mode === "allowlist" ? net : { mode: "judged-url" },
  };
  const done = (r: Omit<ExecutionResult, "duration_ms">): ExecutionResult =>
    ({ ...r, sandbox, duration_ms: round(performance.now() - started) }) as unknown as ExecutionResult;
  const url = new URL(action.url);
  const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
  // Internal addresses are reachable only when the allowlist names them; "open" and "none" (the
  // request itself is what the gate judged) refuse them.
  const allow = net.mode === "allowlist" ? new HostAllowlist(net.hosts) : "open";
  const first = await resolveAllowed(url.hostname, port, allow);
  if (!first.ok)
    return done({ status: "failed", error: { code: Codes.EXEC_NETWORK_DENIED, message: first.reason } });
  // The connect uses the same check again for the address it is about to dial.
  const lookup = ((hostname: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) => {
    void resolveAllowed(hostname, port, allow).then((r) => {
      if (!r.ok) cb(new ForgeError(Codes.EXEC_NETWORK_DENIED, r.reason));
      // net.connect asks for every address (all: true) when it races IPv4 and IPv6.
      else if (opts.all) cb(null, [{ address: r.address, family: r.family }]);
      else cb(null, r.address, r.family);
    });
  }) as unknown as LookupFunction;
  const dispatcher = new Agent({ connect: { lookup } });
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), limits.http_timeout_ms);
  const body = new Capture(limits.excerpt_bytes);
  try {
    const res = await fetch(action.url, {
      method: action.method,
      headers: action.headers,
      body: action.body,
      signal: ac.signal,
      redirect: "manual",
      dispatcher,
    });
    let overflow = false;
    if (res.body) {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        body.push(Buffer.from(value));
        if (body.bytes > limits.http_max_bytes) {
          overflow = true;
          await reader.cancel().catch(() => {});
          break;
        }
      }
    }
    return done({
      status: overflow ? "failed" : res.ok ? "ok" : "failed",
      status_code: res.status,
      content_type: res.headers.get("content-type"),
      body: body.result(),
      size_limit_exceeded: overflow,
      timed_out: false,
    });
  } catch (e) {
    const timedOut = ac.signal.aborted;
    return done({
      status: timedOut ? "timeout" : "error",
      error: { code: timedOut ? Codes.UPSTREAM_TIMEOUT : Codes.EXEC_HTTP, message: (e as Error).message },
      body: body.result(),
      timed_out: timedOut,
    });
  } finally {
    clearTimeout(timer);
    void dispatcher.close().catch(() => {});
  }
}
