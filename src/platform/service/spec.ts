import { dirname, isAbsolute, join, resolve } from "node:path";
import { Codes, ForgeError } from "../../errors.js";

export type ServiceTarget = "launchd" | "systemd";
export type ServiceScope = "system" | "user";

/** The launchd Label; the systemd unit is `${UNIT_NAME}`. */
export const DEFAULT_LABEL = "dev.forge.agent";
export const UNIT_NAME = "forge-agent.service";

/** Everything the plist or unit says, resolved to absolute paths. Built by `resolveServiceSpec`. */
export interface ServiceSpec {
  target: ServiceTarget;
  scope: ServiceScope;
  /** launchd Label (also the plist's file name); systemd uses UNIT_NAME. */
  label: string;
  /** The uid whose gui/<uid> domain a launchd user agent goes into. */
  uid: number;
  /** [absolute node, absolute bin/forge-agent.js, "run", ...]. */
  programArguments: string[];
  /** FORGE_HOME, also the working directory. */
  home: string;
  env: Record<string, string>;
  /** launchd: directory of the stdout/stderr files. systemd: null (the journal keeps the output). */
  logDir: string | null;
  /** Where the plist or unit file goes. */
  filePath: string;
  /** Seconds between restarts (launchd ThrottleInterval, systemd RestartSec). */
  restartDelayS: number;
}

/** What `status` reports, the same shape for launchd and systemd. */
export interface ServiceStatus {
  target: ServiceTarget;
  scope: ServiceScope;
  label: string;
  /** The plist or unit file. */
  path: string;
  /** The file is present. */
  installed: boolean;
  /** The service manager knows the job (launchd: bootstrapped; systemd: LoadState=loaded). */
  loaded: boolean;
  /** launchd `state` (running, not running, …); systemd `ActiveState/SubState`. */
  state: string | null;
  running: boolean;
  pid: number | null;
  /** Exit status of the last run; null when it never exited (launchd) or is unknown. */
  last_exit_code: number | null;
  /** Every top-level field the service manager printed. */
  detail: Record<string, string>;
}

export interface ServiceOptions {
  target: ServiceTarget;
  scope: ServiceScope;
  uid: number;
  homedir: string;
  /** Absolute path of the node binary (process.execPath). */
  node: string;
  /** Absolute path of bin/forge-agent.js. */
  script: string;
  /** FORGE_HOME; defaults per target and scope (see docs/service.md). */
  home?: string;
  /** Passed as `run --config FILE`. */
  config?: string;
  /** Extra environment, e.g. FORGE_COLLECTOR_URL. FORGE_HOME is always set from `home`. */
  env?: Record<string, string>;
  label?: string;
}

/** The platform's own service manager, or null where there is none we support. */
export function defaultTarget(platform: NodeJS.Platform): ServiceTarget | null {
  return platform === "darwin" ? "launchd" : platform === "linux" ? "systemd" : null;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function invalid(message: string): ForgeError {
  return new ForgeError(Codes.SERVICE_INVALID, message);
}

function absolute(path: string, what: string): string {
  if (!isAbsolute(path)) throw invalid(`${what} must be an absolute path, got '${path}'`);
  return resolve(path); // drops "//", "/./" and a trailing "/", as launchd and systemd would
}

/** Fills in the defaults for `opts.target`/`opts.scope` and checks names and paths. */
export function resolveServiceSpec(opts: ServiceOptions): ServiceSpec {
  const label = opts.label ?? DEFAULT_LABEL;
  if (!LABEL.test(label)) throw invalid(`label '${label}' may hold only letters, digits, '.', '_' and '-'`);
  const user = opts.scope === "user";
  const h = absolute(opts.homedir, "the home directory");
  let home: string;
  let logDir: string | null;
  let filePath: string;
  if (opts.target === "launchd") {
    home = user
      ? join(h, "Library/Application Support/forge-agent")
      : "/Library/Application Support/forge-agent";
    logDir = user ? join(h, "Library/Logs/forge-agent") : "/Library/Logs/forge-agent";
    filePath = user
      ? join(h, "Library/LaunchAgents", `${label}.plist`)
      : `/Library/LaunchDaemons/${label}.plist`;
  } else {
    home = user ? join(h, ".local/share/forge-agent") : "/var/lib/forge-agent";
    logDir = null;
    filePath = user ? join(h, ".config/systemd/user", UNIT_NAME) : `/etc/systemd/system/${UNIT_NAME}`;
  }
  if (opts.home !== undefined) home = absolute(opts.home, "--home");

  const programArguments = [
    absolute(opts.node, "the node binary"),
    absolute(opts.script, "bin/forge-agent.js"),
    "run",
  ];
  if (opts.config !== undefined) programArguments.push("--config", absolute(opts.config, "--config"));

  const env: Record<string, string> = {};
  // launchd starts jobs with PATH=/usr/bin:/bin:/usr/sbin:/sbin; the agent's helpers (node, ollama)
  // usually live in Homebrew's prefix, so the job gets the node binary's directory and Homebrew's.
  if (opts.target === "launchd") {
    env.PATH = [
      ...new Set([
        dirname(opts.node),
        "/opt/homebrew/bin",
        "/usr/local/bin",
        "/usr/bin",
        "/bin",
        "/usr/sbin",
        "/sbin",
      ]),
    ].join(":");
  }
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (!ENV_NAME.test(k)) throw invalid(`environment name '${k}' is not a valid variable name`);
    env[k] = v;
  }
  env.FORGE_HOME = home;

  return {
    target: opts.target,
    scope: opts.scope,
    label,
    uid: opts.uid,
    programArguments,
    home,
    env,
    logDir,
    filePath,
    restartDelayS: 10,
  };
}
