/**
 * Service install/uninstall/status for launchd (macOS) and systemd (Linux).
 *
 * Each operation is first a plan, a list of steps (write a file, make a directory, run a
 * command), built by a pure function. `--dry-run` prints the plan; `execute` runs exactly it
 * through a ServiceHost, so what a dry run shows is what an install does.
 */
import { Codes, ForgeError } from "../../errors.js";
import type { RunResult, ServiceHost } from "./host.js";
import {
  launchctlNotLoaded,
  launchdDomain,
  launchdPlist,
  launchdServiceTarget,
  parseLaunchctlPrint,
} from "./launchd.js";
import { type ServiceSpec, type ServiceStatus, UNIT_NAME } from "./spec.js";
import { parseSystemctlShow, SHOW_PROPERTIES, systemdUnit } from "./systemd.js";

export type { RunResult, ServiceHost } from "./host.js";
export { systemHost } from "./host.js";
export { launchdPlist, parseLaunchctlPrint } from "./launchd.js";
export * from "./spec.js";
export { parseSystemctlShow, systemdUnit } from "./systemd.js";

export type Step =
  | { kind: "mkdir"; path: string }
  | { kind: "write"; path: string; content: string; mode: number }
  | { kind: "remove"; path: string }
  /** `notLoadedOk`: a "service not loaded" answer is not a failure (uninstalling what is not running). */
  | { kind: "run"; cmd: string; args: string[]; notLoadedOk?: boolean };

export interface Plan {
  action: "install" | "uninstall" | "status";
  spec: ServiceSpec;
  steps: Step[];
}

/** The file's text: a plist for launchd, a unit for systemd (pure). */
export function serviceFile(spec: ServiceSpec): string {
  return spec.target === "launchd" ? launchdPlist(spec) : systemdUnit(spec);
}

function systemctl(spec: ServiceSpec, ...args: string[]): Step {
  return { kind: "run", cmd: "systemctl", args: spec.scope === "user" ? ["--user", ...args] : args };
}

/** The steps of an install (pure). */
export function planInstall(spec: ServiceSpec): Plan {
  const steps: Step[] = [{ kind: "mkdir", path: spec.home }];
  if (spec.logDir !== null) steps.push({ kind: "mkdir", path: spec.logDir });
  // launchd refuses a daemon plist that is group- or world-writable; 0644 suits both.
  steps.push({ kind: "write", path: spec.filePath, content: serviceFile(spec), mode: 0o644 });
  if (spec.target === "launchd") {
    const target = launchdServiceTarget(spec);
    // enable first: a label once disabled stays disabled in launchd's override database, and
    // bootstrap then fails with "5: Input/output error".
    steps.push({ kind: "run", cmd: "launchctl", args: ["enable", target] });
    steps.push({ kind: "run", cmd: "launchctl", args: ["bootstrap", launchdDomain(spec), spec.filePath] });
    steps.push({ kind: "run", cmd: "launchctl", args: ["kickstart", "-k", target] });
  } else {
    steps.push(systemctl(spec, "daemon-reload"));
    steps.push(systemctl(spec, "enable", "--now", UNIT_NAME));
  }
  return { action: "install", spec, steps };
}

/** The steps of an uninstall (pure). The state directory (FORGE_HOME) and logs are kept. */
export function planUninstall(spec: ServiceSpec): Plan {
  const steps: Step[] =
    spec.target === "launchd"
      ? [
          { kind: "run", cmd: "launchctl", args: ["bootout", launchdServiceTarget(spec)], notLoadedOk: true },
          { kind: "remove", path: spec.filePath },
        ]
      : [
          systemctl(spec, "disable", "--now", UNIT_NAME),
          { kind: "remove", path: spec.filePath },
          systemctl(spec, "daemon-reload"),
        ];
  return { action: "uninstall", spec, steps };
}

/** The one command `status` runs (pure). */
export function planStatus(spec: ServiceSpec): Plan {
  const step: Step =
    spec.target === "launchd"
      ? { kind: "run", cmd: "launchctl", args: ["print", launchdServiceTarget(spec)], notLoadedOk: true }
      : systemctl(spec, "show", "-p", SHOW_PROPERTIES.join(","), UNIT_NAME);
  return { action: "status", spec, steps: [step] };
}

function requireRoot(host: ServiceHost, spec: ServiceSpec, verb: string): void {
  if (spec.scope === "system" && host.uid() !== 0) {
    const where = spec.target === "launchd" ? "/Library/LaunchDaemons" : "/etc/systemd/system";
    throw new ForgeError(
      Codes.SERVICE_NOT_ROOT,
      `${verb} of the system service writes ${where} and needs root: run it with sudo, or add --user for a per-user service`,
    );
  }
}

function commandFailed(cmd: string, args: string[], r: RunResult): ForgeError {
  const line = [cmd, ...args].join(" ");
  const why =
    r.code === -1
      ? `could not start: ${r.stderr.trim()}`
      : `exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`;
  return new ForgeError(Codes.SERVICE_COMMAND_FAILED, `'${line}' ${why}`, {
    details: { cmd, args, code: r.code, stderr: r.stderr },
  });
}

/** Runs the steps in order; stops at the first failure. Returns whether a notLoadedOk step hit "not loaded". */
function execute(host: ServiceHost, plan: Plan): { notLoaded: boolean } {
  let notLoaded = false;
  for (const step of plan.steps) {
    switch (step.kind) {
      case "mkdir":
        host.mkdir(step.path);
        break;
      case "write":
        host.writeFile(step.path, step.content, step.mode);
        break;
      case "remove":
        host.removeFile(step.path);
        break;
      case "run": {
        const r = host.run(step.cmd, step.args);
        if (r.code === 0) break;
        if (step.notLoadedOk && plan.spec.target === "launchd" && launchctlNotLoaded(r.code, r.stderr)) {
          notLoaded = true;
          break;
        }
        throw commandFailed(step.cmd, step.args, r);
      }
    }
  }
  return { notLoaded };
}

/**
 * Writes the plist/unit and starts the service. Fails with FORGE_SERVICE_NOT_ROOT (system scope
 * without root), FORGE_SERVICE_ALREADY_INSTALLED (the file exists), FORGE_SERVICE_COMMAND_FAILED
 * (a launchctl/systemctl call failed; what was done is undone first).
 */
export function installService(host: ServiceHost, spec: ServiceSpec): Plan {
  requireRoot(host, spec, "install");
  if (host.exists(spec.filePath)) {
    throw new ForgeError(
      Codes.SERVICE_ALREADY_INSTALLED,
      `the service is already installed (${spec.filePath}); run 'forge-agent uninstall${spec.scope === "user" ? " --user" : ""}' first`,
    );
  }
  const plan = planInstall(spec);
  try {
    execute(host, plan);
  } catch (err) {
    // Leave nothing half-installed: a stale plist would make the next install say "already installed".
    rollback(host, spec);
    if (err instanceof ForgeError && err.code === Codes.SERVICE_COMMAND_FAILED) {
      throw new ForgeError(err.code, `${err.message} (install rolled back: ${spec.filePath} removed)`, {
        cause: err,
        details: err.details,
      });
    }
    throw err;
  }
  return plan;
}

/** Runs every uninstall step, ignoring failures: the service may never have loaded. */
function rollback(host: ServiceHost, spec: ServiceSpec): void {
  for (const step of planUninstall(spec).steps) {
    try {
      execute(host, { action: "uninstall", spec, steps: [step] });
    } catch {
      // best effort; the original failure is the one to report
    }
  }
}

/** Stops the service and removes its file. FORGE_SERVICE_NOT_INSTALLED when there is neither. */
export function uninstallService(host: ServiceHost, spec: ServiceSpec): Plan {
  requireRoot(host, spec, "uninstall");
  const present = host.exists(spec.filePath);
  const plan = planUninstall(spec);
  if (spec.target === "systemd" && !present) throw notInstalled(spec);
  const { notLoaded } = execute(host, plan);
  if (notLoaded && !present) throw notInstalled(spec);
  return plan;
}

function notInstalled(spec: ServiceSpec): ForgeError {
  return new ForgeError(
    Codes.SERVICE_NOT_INSTALLED,
    `the service is not installed (no ${spec.filePath}${spec.target === "launchd" ? `, nothing loaded as ${launchdServiceTarget(spec)}` : ""})`,
  );
}

/** Asks the service manager for the service's state. Never needs root. */
export function serviceStatus(host: ServiceHost, spec: ServiceSpec): ServiceStatus {
  const step = planStatus(spec).steps[0] as Extract<Step, { kind: "run" }>;
  const installed = host.exists(spec.filePath);
  const base = { target: spec.target, scope: spec.scope, label: spec.label, path: spec.filePath, installed };
  const r = host.run(step.cmd, step.args);
  if (spec.target === "launchd") {
    if (r.code !== 0) {
      if (!launchctlNotLoaded(r.code, r.stderr)) throw commandFailed(step.cmd, step.args, r);
      return {
        ...base,
        loaded: false,
        state: null,
        running: false,
        pid: null,
        last_exit_code: null,
        detail: {},
      };
    }
    return { ...base, loaded: true, ...parseLaunchctlPrint(r.stdout) };
  }
  if (r.code !== 0) throw commandFailed(step.cmd, step.args, r);
  return { ...base, ...parseSystemctlShow(r.stdout) };
}
