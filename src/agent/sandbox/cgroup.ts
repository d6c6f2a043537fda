import { randomUUID } from "node:crypto";
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

/**
 * A pids cgroup per action: the process limit that holds for root too. RLIMIT_NPROC does not
 * bind a process whose real uid is root in the initial user namespace (the kernel exempts it, and
 * a user namespace does not change the real uid), so an agent running as root needs this.
 * cgroup v2 (`/sys/fs/cgroup` with the pids controller) or v1 (`/sys/fs/cgroup/pids`); null when
 * neither is writable here.
 */
export function pidsCgroupRoot(): string | null {
  const candidates = ["/sys/fs/cgroup/pids", "/sys/fs/cgroup"];
  for (const base of candidates) {
    const isV2 = existsSync(join(base, "cgroup.controllers"));
    if (isV2 && !readFileSync(join(base, "cgroup.controllers"), "utf8").split(/\s+/).includes("pids"))
      continue;
    if (!isV2 && !existsSync(join(base, "pids.max")) && base !== "/sys/fs/cgroup/pids") continue;
    try {
      const root = join(base, "forge-agent");
      mkdirSync(root, { recursive: true });
      accessSync(root, constants.W_OK);
      if (isV2) {
        try {
          writeFileSync(join(base, "cgroup.subtree_control"), "+pids");
          writeFileSync(join(root, "cgroup.subtree_control"), "+pids");
        } catch {
          // already enabled, or delegated differently: pids.max below tells
        }
      }
      sweepStale(root);
      return root;
    } catch {}
  }
  return null;
}

/** An action's cgroup older than this, and empty, was left by an agent that stopped mid-removal. */
const STALE_MS = 10 * 60_000;

/** Removes empty per-action cgroups left behind (rmdir refuses one that still has tasks). */
function sweepStale(root: string): void {
  const now = Date.now();
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    try {
      const st = statSync(dir);
      if (st.isDirectory() && now - st.mtimeMs > STALE_MS) rmdirSync(dir);
    } catch {
      // still in use, or not ours to remove
    }
  }
}

export interface ActionCgroup {
  /** The file a process writes its pid to, to join. */
  procs: string;
  remove(): void;
}

/** A fresh cgroup under `root` allowing `maxPids` tasks. */
export function makeCgroup(root: string, maxPids: number): ActionCgroup {
  const dir = join(root, randomUUID());
  mkdirSync(dir);
  writeFileSync(join(dir, "pids.max"), String(maxPids));
  return {
    procs: join(dir, "cgroup.procs"),
    remove() {
      // Empty once the PID namespace is gone, but the kernel tears it down asynchronously (here most
      // first tries fail with EBUSY): retry off the event loop with a growing delay instead of
      // spinning (a 20 ms busy-wait per action was most of the sandbox's cost).
      let delay = 1;
      const attempt = (): void => {
        try {
          rmdirSync(dir);
        } catch {
          if (delay > 1024) return; // left for the start-up sweep (sweepStale)
          setTimeout(attempt, delay).unref();
          delay *= 2;
        }
      };
      attempt();
    },
  };
}
