import { Codes } from "../../errors.js";
import { Capture } from "./capture.js";
import { round } from "./shell.js";
import type { ExecutionResult, ExecutorLimits } from "./types.js";

/** One HTTP request with a timeout over the whole exchange and a cap on the response body. */
export async function runHttp(
  action: { method: string; url: string; headers?: Record<string, string>; body?: string },
  limits: ExecutorLimits,
): Promise<ExecutionResult> {
  const started = performance.now();
  const done = (r: Omit<ExecutionResult, "duration_ms">): ExecutionResult =>
    ({ ...r, duration_ms: round(performance.now() - started) }) as ExecutionResult;
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
  }
}
