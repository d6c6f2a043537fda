import type { SandboxPlan } from "./plan.js";

/** The uid/gid the action runs as inside its user namespace (`nobody`): no capabilities. */
export const SANDBOX_UID = 65534;

/**
 * bubblewrap arguments for a plan, up to and including `--`: the caller appends the command.
 * Layout: the host's root read-only; fresh /dev, /proc (of the sandbox's own PID namespace, so the
 * agent's /proc/<pid> does not exist there) and /tmp; the write roots bound read-write; every hidden
 * path covered last (an empty tmpfs for a directory, /dev/null for a file), so a write root that
 * contains the agent's home still cannot reach it. Namespaces: user (uid nobody, no caps), pid,
 * ipc, uts, cgroup, and net unless the network is open. --die-with-parent and a PID namespace mean
 * every descendant dies with the action.
 */
export function bwrapArgs(plan: SandboxPlan, readOnly: readonly string[] = []): string[] {
  const a: string[] = [
    "--unshare-user",
    "--uid",
    String(SANDBOX_UID),
    "--gid",
    String(SANDBOX_UID),
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--die-with-parent",
    "--new-session",
    "--ro-bind",
    "/",
    "/",
    "--dev",
    "/dev",
    "--proc",
    "/proc",
    "--tmpfs",
    "/tmp",
    "--tmpfs",
    "/run",
  ];
  if (plan.network.mode !== "open") a.push("--unshare-net");
  for (const w of plan.write) a.push("--bind", w, w);
  // Files the wrapper itself runs (node and the proxy forwarder): visible even when they live under
  // /tmp, which the sandbox replaces with its own.
  for (const r of readOnly) a.push("--ro-bind", r, r);
  // The agent's code and packaged pack: their own content, not writable even inside a write root.
  for (const r of plan.readOnly) a.push("--ro-bind", r, r);
  // The private temp dir is bound after /tmp's tmpfs so `$TMP` under /tmp stays the one we made.
  for (const h of plan.hide) {
    if (h.dir) a.push("--tmpfs", h.path, "--remount-ro", h.path);
    else a.push("--ro-bind", "/dev/null", h.path);
  }
  a.push("--chdir", plan.cwd, "--");
  return a;
}

/** prlimit arguments applying the plan's limits to the command that follows (when /bin/sh's ulimit cannot). */
export function prlimitArgs(plan: SandboxPlan): string[] {
  const l = plan.limits;
  return [
    `--cpu=${l.cpu_seconds}`,
    `--as=${l.memory_bytes}`,
    `--nproc=${l.processes}`,
    `--nofile=${l.open_files}`,
    `--fsize=${l.file_bytes}`,
    "--",
  ];
}

/**
 * How a `/bin/sh` spells the limits in `ulimit`: the flag for RLIMIT_NPROC and the unit of `-f`
 * (dash and busybox ash: `-p`, 512-byte blocks; bash as sh, POSIX mode: `-u`, 512; bash: `-u`,
 * 1024). `-v` is KiB in all of them. Which one the host's sh is, is verified once (ulimitDialect).
 */
export interface UlimitDialect {
  processes: "-p" | "-u";
  fileBlock: 512 | 1024;
}

export const ULIMIT_DIALECTS: readonly UlimitDialect[] = [
  { processes: "-p", fileBlock: 512 },
  { processes: "-u", fileBlock: 512 },
  { processes: "-u", fileBlock: 1024 },
];

/**
 * The sh commands setting the limits (soft and hard) for the shell and all it execs, joined with
 * `&&` so a limit that cannot be set stops the action. Sizes round down to the unit.
 */
export function ulimitScript(l: SandboxPlan["limits"], d: UlimitDialect): string {
  return [
    `ulimit -t ${l.cpu_seconds}`,
    `ulimit -v ${Math.floor(l.memory_bytes / 1024)}`,
    `ulimit ${d.processes} ${l.processes}`,
    `ulimit -n ${l.open_files}`,
    `ulimit -f ${Math.floor(l.file_bytes / d.fileBlock)}`,
  ].join(" && ");
}

/** The rows of /proc/self/limits that ulimitScript sets, as "soft hard" per limit. */
const LIMIT_ROWS = {
  cpu_seconds: "Max cpu time",
  memory_bytes: "Max address space",
  processes: "Max processes",
  open_files: "Max open files",
  file_bytes: "Max file size",
} as const;

/**
 * True when `/proc/self/limits` text shows exactly `l` (soft = hard = the value) for every limit
 * ulimitScript sets: the check that a dialect means what we think on this host's sh.
 */
export function limitsShow(text: string, l: SandboxPlan["limits"]): boolean {
  return (Object.keys(LIMIT_ROWS) as (keyof typeof LIMIT_ROWS)[]).every((k) => {
    const row = text.split("\n").find((line) => line.startsWith(LIMIT_ROWS[k]));
    const [soft, hard] = row?.slice(LIMIT_ROWS[k].length).trim().split(/\s+/) ?? [];
    return soft === String(l[k]) && hard === String(l[k]);
  });
}
