import { Codes, ForgeError } from "../../errors.js";
import type { ServiceSpec, ServiceStatus } from "./spec.js";

/** The properties `status` asks `systemctl show` for. */
export const SHOW_PROPERTIES = ["LoadState", "ActiveState", "SubState", "MainPID", "ExecMainStatus"] as const;

// A unit file is line-based; C0 controls and DEL have no place in a path or an environment value.
const CONTROL = /[\u0000-\u001F\u007F]/;

function checkValue(s: string, what: string): string {
  const bad = CONTROL.exec(s);
  if (bad !== null) {
    const cp = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
    throw new ForgeError(
      Codes.SERVICE_INVALID,
      `systemd: ${what} contains control character U+${cp}; remove it`,
    );
  }
  return s;
}

// WorkingDirectory= cannot be quoted; systemd strips trailing blanks from a value, and a line
// ending in a backslash continues on the next line.
function workingDirectory(path: string): string {
  checkValue(path, "the working directory");
  if (/[ \t\\]$/.test(path)) {
    throw new ForgeError(
      Codes.SERVICE_INVALID,
      `systemd: the working directory '${path}' ends in a blank or a backslash, which a unit file cannot hold; choose another --home`,
    );
  }
  return path;
}

/** `%` starts a specifier in every setting we write; `%%` is a literal percent. */
const specifiers = (s: string) => s.replace(/%/g, "%%");

/**
 * One ExecStart= word, double-quoted: backslash and quote escaped, `%` doubled (specifiers) and
 * `$` doubled (ExecStart= expands $VAR and ${VAR}), per systemd.service(5) "Command lines".
 */
export function quoteExecWord(s: string): string {
  checkValue(s, `ExecStart argument '${s}'`);
  return `"${specifiers(s)
    .replace(/[\\"]/g, (c) => `\\${c}`)
    .replace(/\$/g, "$$$$")}"`;
}

/** One Environment= assignment, double-quoted; values are not $-expanded there, only %-specifiers. */
export function quoteEnvAssignment(name: string, value: string): string {
  checkValue(value, `environment value of ${name}`);
  return `"${specifiers(`${name}=${value}`).replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The unit file's text (pure). */
export function systemdUnit(spec: ServiceSpec): string {
  const system = spec.scope === "system";
  const lines = [
    "# Written by `forge-agent install`; `forge-agent uninstall` removes it.",
    "[Unit]",
    "Description=forge-agent: governed edge inference agent",
    // The user manager has no network-online.target; system services wait for the network.
    ...(system ? ["After=network-online.target", "Wants=network-online.target"] : []),
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${spec.programArguments.map(quoteExecWord).join(" ")}`,
    `WorkingDirectory=${specifiers(workingDirectory(spec.home))}`,
    ...Object.entries(spec.env).map(([k, v]) => `Environment=${quoteEnvAssignment(k, v)}`),
    "Restart=always",
    `RestartSec=${spec.restartDelayS}`,
    // SIGTERM, then SIGKILL after this long: time for the evidence store to commit.
    "TimeoutStopSec=30",
    "",
    "[Install]",
    `WantedBy=${system ? "multi-user.target" : "default.target"}`,
    "",
  ];
  return lines.join("\n");
}

/** Reads `systemctl show -p …` output (`Key=Value` lines). */
export function parseSystemctlShow(
  text: string,
): Pick<ServiceStatus, "loaded" | "state" | "running" | "pid" | "last_exit_code" | "detail"> {
  const detail: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) detail[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  const active = detail.ActiveState;
  const sub = detail.SubState;
  const pid = /^\d+$/.test(detail.MainPID ?? "") ? Number(detail.MainPID) : 0;
  const status = /^-?\d+$/.test(detail.ExecMainStatus ?? "") ? Number(detail.ExecMainStatus) : null;
  return {
    loaded: detail.LoadState === "loaded",
    state: active === undefined ? null : sub === undefined ? active : `${active}/${sub}`,
    running: active === "active" && sub === "running" && pid > 0,
    pid: pid > 0 ? pid : null,
    last_exit_code: status,
    detail,
  };
}
