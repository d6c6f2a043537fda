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
  // The private temp dir is bound after /tmp's tmpfs so `$TMP` under /tmp stays the one we made.
  for (const h of plan.hide) {
    if (h.dir) a.push("--tmpfs", h.path, "--remount-ro", h.path);
    else a.push("--ro-bind", "/dev/null", h.path);
  }
  a.push("--chdir", plan.cwd, "--");
  return a;
}

/** prlimit arguments applying the plan's limits to the command that follows. */
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
