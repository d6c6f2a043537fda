import { join } from "node:path";
import { type PlistValue, toPlistXml } from "./plist.js";
import type { ServiceSpec, ServiceStatus } from "./spec.js";

/** `system` for a daemon, `gui/<uid>` for a user agent. */
export function launchdDomain(spec: ServiceSpec): string {
  return spec.scope === "user" ? `gui/${spec.uid}` : "system";
}

/** `<domain>/<label>`, the service target launchctl's enable/kickstart/bootout/print take. */
export function launchdServiceTarget(spec: ServiceSpec): string {
  return `${launchdDomain(spec)}/${spec.label}`;
}

/** The launchd job as a property-list value (pure). */
export function launchdJob(spec: ServiceSpec): PlistValue {
  const job: Record<string, PlistValue> = {
    Label: spec.label,
    ProgramArguments: spec.programArguments,
    WorkingDirectory: spec.home,
    EnvironmentVariables: { ...spec.env },
    RunAtLoad: true,
    KeepAlive: true,
    // launchd's minimum seconds between spawns; a crash loop waits this long each time.
    ThrottleInterval: spec.restartDelayS,
    // SIGTERM, then SIGKILL after this many seconds: time for the evidence store to commit.
    ExitTimeOut: 30,
  };
  if (spec.logDir !== null) {
    job.StandardOutPath = join(spec.logDir, "forge-agent.out.log");
    job.StandardErrorPath = join(spec.logDir, "forge-agent.err.log");
  }
  return job;
}

/** The plist file's text (pure). */
export function launchdPlist(spec: ServiceSpec): string {
  return toPlistXml(launchdJob(spec));
}

/** launchctl's "service not found / not loaded" answers: `Could not find service` (113), ESRCH (3). */
export function launchctlNotLoaded(code: number, stderr: string): boolean {
  return code === 113 || code === 3 || /Could not find service|No such process/i.test(stderr);
}

/**
 * Reads the top level of `launchctl print <domain>/<label>` (tab-indented `key = value` lines;
 * nested `{ … }` blocks such as coalitions, which have their own `state`, are skipped).
 * `last exit code` is `(never exited)`, `0`, or `78: EX_CONFIG`.
 */
export function parseLaunchctlPrint(
  text: string,
): Pick<ServiceStatus, "state" | "running" | "pid" | "last_exit_code" | "detail"> {
  const top: Record<string, string> = {};
  let depth = 0;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    const opens = line.endsWith("{");
    if (line === "}" || line === "};") {
      depth = Math.max(0, depth - 1);
      continue;
    }
    if (depth === 1) {
      const eq = line.indexOf(" = ");
      if (eq > 0 && !opens) top[line.slice(0, eq)] = line.slice(eq + 3);
    }
    if (opens) depth++;
  }
  const state = top.state ?? null;
  const pid = top.pid !== undefined && /^\d+$/.test(top.pid) ? Number(top.pid) : null;
  const exit = /^(-?\d+)/.exec(top["last exit code"] ?? "");
  return {
    state,
    running: state === "running" && pid !== null,
    pid,
    last_exit_code: exit === null ? null : Number(exit[1]),
    detail: top,
  };
}
