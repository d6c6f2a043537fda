import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SandboxProfile } from "../../gate/sandbox-profile.js";
import {
  bwrapArgs,
  limitsShow,
  prlimitArgs,
  ULIMIT_DIALECTS,
  type UlimitDialect,
  ulimitScript,
} from "./bwrap.js";
import { type ActionCgroup, makeCgroup, pidsCgroupRoot } from "./cgroup.js";
import { planSandbox, type SandboxPlan } from "./plan.js";
import { AllowlistProxy } from "./proxy.js";
import { seatbeltProfile } from "./seatbelt.js";
import {
  discard,
  launcherArgv,
  planDigest,
  sendCommand,
  spawnWaiting,
  usable,
  type WarmEntry,
  waitReady,
} from "./warm.js";

export { HostAllowlist, resolveAllowed } from "./allowlist.js";
export { planSandbox, type SandboxPlan, within } from "./plan.js";

/** config `sandbox.*`. */
export interface SandboxConfig {
  /** auto: bwrap on Linux, Seatbelt on macOS; off: no containment (recorded as such on every run). */
  engine: "auto" | "bwrap" | "seatbelt" | "off";
  bwrap_path: string;
  prlimit_path: string;
  /** What an executed action gets when the sandbox cannot be set up: DENY, or an unconfined run recorded as such. */
  on_unavailable: "deny" | "unconfined";
  /** Sandboxes kept started ahead of time for the last profile a shell action used (0: none; docs/sandbox.md). */
  warm?: number;
}

/** What the record says about how an action ran (`execution_result.sandbox`). */
export interface SandboxApplied {
  engine: "bwrap" | "seatbelt" | "none";
  profile: string;
  confined: boolean;
  /** Why it ran unconfined, when it did. */
  reason?: string;
  write?: string[];
  hidden?: number;
  network?: SandboxProfile["network"];
  limits?: SandboxProfile["limits"];
  /** How the process limit is enforced: a pids cgroup, RLIMIT_NPROC, or not at all. */
  process_limit?: string;
  /** Connections the allowlist proxy refused. */
  refused?: string[];
  /** How the sandbox was started: for this action (cold) or ahead of time, waiting for it (warm). */
  start?: "cold" | "warm";
}

/** A prepared run: the argv to spawn instead of the bare command, and what to clean up after. */
export interface SandboxRun {
  file: string;
  args: string[];
  applied: SandboxApplied;
  plan: SandboxPlan | null;
  finish(): Promise<SandboxApplied>;
}

/** The compiled forwarder (under vitest this module runs from src/, the forwarder always from dist/). */
const FORWARDER = (() => {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith(".ts")
    ? join(dirname(here), "../../../dist/src/agent/sandbox/forwarder.js")
    : join(dirname(here), "forwarder.js");
})();
const PROXY_PORT = 3128;
/** A warm sandbox older than this is dropped unused (and replaced) rather than trusted. */
const WARM_MAX_AGE_MS = 60_000;
/** A warm sandbox not waiting for its command within this is dropped (the next action runs cold). */
const WARM_READY_MS = 10_000;

/** A warm sandbox an action took: its process (already running), what the record says, and the hand-over. */
export interface WarmRun {
  child: import("node:child_process").ChildProcess;
  applied: SandboxApplied;
  /** Gives it the command (as data) and starts it. */
  send(cmd: { argv: string[]; env: Record<string, string>; cwd: string }): void;
  finish(): Promise<SandboxApplied>;
}

/**
 * The agent's containment of executed actions. Built once by the daemon with the paths it must
 * hide (its own state); `probe()` tells once whether the engine works here.
 */
export class Sandbox {
  readonly engine: "bwrap" | "seatbelt" | "none";
  private status: { ok: true } | { ok: false; reason: string } | null = null;
  private cgroupRoot: string | null | undefined;
  /** How /bin/sh's ulimit sets the limits here (probed); null: prlimit does, one exec more. */
  private dialect: UlimitDialect | null = null;

  constructor(
    private readonly cfg: SandboxConfig,
    private readonly o: {
      workspace: string;
      home: string;
      protect: readonly string[];
      /** Bound read-only inside every sandbox (the gate's readOnly: the agent's code, its packaged pack). */
      readOnly?: readonly string[];
      platform?: NodeJS.Platform;
    },
  ) {
    const platform = o.platform ?? process.platform;
    this.engine =
      cfg.engine === "off"
        ? "none"
        : cfg.engine === "auto"
          ? platform === "darwin"
            ? "seatbelt"
            : platform === "linux"
              ? "bwrap"
              : "none"
          : cfg.engine;
  }

  /** The user's home (for `~` in profiles). */
  get home(): string {
    return this.o.home;
  }

  /** The agent's own state, hidden from every action. */
  get protected(): readonly string[] {
    return this.o.protect;
  }

  get onUnavailable(): "deny" | "unconfined" {
    return this.cfg.on_unavailable;
  }

  /** Whether the engine can confine an action here (probed once: a real bwrap run of `true`). */
  probe(): { ok: true } | { ok: false; reason: string } {
    if (this.status !== null) return this.status;
    this.status = this.tryProbe();
    return this.status;
  }

  private tryProbe(): { ok: true } | { ok: false; reason: string } {
    if (this.cfg.engine === "off") return { ok: false, reason: "sandbox.engine is off" };
    if (this.engine === "none") return { ok: false, reason: `no sandbox engine for ${process.platform}` };
    if (this.engine === "seatbelt") {
      return existsSync("/usr/bin/sandbox-exec")
        ? { ok: true }
        : { ok: false, reason: "/usr/bin/sandbox-exec not found" };
    }
    this.dialect = ulimitDialect();
    const tools: [string, string][] = [["bubblewrap", this.cfg.bwrap_path]];
    if (this.dialect === null) tools.push(["prlimit", this.cfg.prlimit_path]);
    for (const [what, p] of tools) {
      if (!existsSync(p))
        return {
          ok: false,
          reason: `${what} not found at ${p} (Debian: apt-get install bubblewrap util-linux)`,
        };
    }
    try {
      execFileSync(
        this.cfg.bwrap_path,
        [
          "--unshare-user",
          "--unshare-pid",
          "--unshare-net",
          "--die-with-parent",
          "--ro-bind",
          "/",
          "/",
          "--proc",
          "/proc",
          "true",
        ],
        { stdio: "pipe", timeout: 10_000 },
      );
      return { ok: true };
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string };
      return {
        ok: false,
        reason: `bubblewrap cannot create namespaces here: ${err.stderr?.toString().trim() || err.message}`,
      };
    }
  }

  /**
   * Wraps `argv` (e.g. ["/bin/sh", "-c", cmd]) for one action under `profile`. Returns null when
   * the engine is unavailable and the config says deny (the caller refuses to run).
   */
  async prepare(
    name: string,
    profile: SandboxProfile,
    cwd: string,
    argv: string[],
  ): Promise<SandboxRun | null> {
    const st = this.probe();
    if (!st.ok) {
      if (this.cfg.on_unavailable === "deny") return null;
      const applied: SandboxApplied = { engine: "none", profile: name, confined: false, reason: st.reason };
      return { file: argv[0]!, args: argv.slice(1), applied, plan: null, finish: async () => applied };
    }
    return this.wrap(name, profile, cwd, argv, mkdtempSync(join(tmpdir(), "forge-sbx-")), "cold");
  }

  /**
   * A warm sandbox for exactly this action's confinement, or null (none ready, a profile or plan
   * that differs, a dead or stale one, an allowlist profile, warm off): the caller then runs cold.
   * The plan is resolved again now and must match the warm one's digest, so nothing that changed on
   * disk since it started (a new credential dir, a moved symlink) is missed.
   */
  takeWarm(name: string, profile: SandboxProfile, cwd: string): WarmRun | null {
    const now = Date.now();
    for (const e of [...this.warm]) {
      if (!usable(e, WARM_MAX_AGE_MS, now)) {
        this.drop(e);
        continue;
      }
      if (planDigest(name, this.plan(name, profile, cwd, e.tmp)) !== e.digest) continue;
      this.warm.splice(this.warm.indexOf(e), 1);
      const run = this.runs.get(e)!;
      this.runs.delete(e);
      return {
        child: e.child,
        applied: run.applied,
        send: (cmd) => sendCommand(e, cmd),
        finish: run.finish,
      };
    }
    return null;
  }

  /**
   * Keeps up to `sandbox.warm` sandboxes started for this profile (the one most likely next):
   * those for another profile are dropped. Runs in the background; an error only means cold runs.
   */
  refill(name: string, profile: SandboxProfile, cwd: string, env: Record<string, string>): void {
    const size = this.cfg.warm ?? 0;
    const launcher = launcherArgv();
    if (size <= 0 || launcher === null || this.closed || profile.network.mode === "allowlist") return;
    if (!this.probe().ok || this.engine !== "bwrap") return;
    this.filling = this.filling.then(async () => {
      // After the action's result is delivered: starting the replacement (a fork) is not its cost.
      await new Promise((r) => setImmediate(r));
      try {
        const keep = this.warm.filter(
          (e) => planDigest(name, this.plan(name, profile, cwd, e.tmp)) === e.digest,
        );
        for (const e of this.warm) if (!keep.includes(e)) this.drop(e);
        while (!this.closed && this.warm.length < size)
          await this.startWarm(name, profile, cwd, env, launcher);
      } catch {
        // a warm sandbox that cannot start leaves the cold path, which reports its own errors
      }
    });
  }

  /** Resolves once the pending refills are done (bench and tests wait on it; actions never do). */
  ready(): Promise<void> {
    return this.filling;
  }

  /** Warm sandboxes waiting now. */
  get warmCount(): number {
    return this.warm.length;
  }

  /**
   * Kills every waiting sandbox; no more are started or pooled. Resolves once a refill that was
   * under way has ended too (startWarm drops the sandbox it was starting, not left running).
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const e of [...this.warm]) this.drop(e);
    await this.filling;
  }

  private warm: WarmEntry[] = [];
  private runs = new Map<WarmEntry, SandboxRun>();
  private filling: Promise<void> = Promise.resolve();
  private closed = false;

  private async startWarm(
    name: string,
    profile: SandboxProfile,
    cwd: string,
    env: Record<string, string>,
    launcher: string[],
  ): Promise<void> {
    const tmp = mkdtempSync(join(tmpdir(), "forge-sbx-"));
    const run = await this.wrap(name, profile, cwd, launcher, tmp, "warm");
    if (this.closed) {
      await run.finish();
      return;
    }
    const child = spawnWaiting(run.file, run.args, cwd, env);
    let released = false;
    const e: WarmEntry = {
      digest: planDigest(name, run.plan!),
      tmp,
      child,
      startedMs: Date.now(),
      taken: false,
      ready: false,
      release: () => {
        if (released) return;
        released = true;
        void run.finish();
      },
    };
    // Dead while waiting: out of the pool (the next action runs cold) and cleaned up.
    child.on("error", () => this.drop(e));
    child.on("exit", () => {
      if (!e.taken) this.drop(e);
    });
    child.stdio[3]?.on("error", () => {
      if (!e.taken) this.drop(e);
    });
    this.runs.set(e, run);
    // In the pool only once it waits (a launcher still starting would put its start in the action's time).
    if ((await waitReady(e, WARM_READY_MS)) && !this.closed) this.warm.push(e);
    else this.drop(e);
  }

  private drop(e: WarmEntry): void {
    const i = this.warm.indexOf(e);
    if (i >= 0) this.warm.splice(i, 1);
    this.runs.delete(e);
    discard(e);
  }

  /** The plan for one action with its private temp dir `tmp`. */
  private plan(name: string, profile: SandboxProfile, cwd: string, tmp: string): SandboxPlan {
    return planSandbox({
      name,
      profile,
      workspace: this.o.workspace,
      tmp,
      cwd,
      home: this.o.home,
      protect: this.o.protect,
      readOnly: this.o.readOnly ?? [],
    });
  }

  /** The one way an action's sandbox is built, cold or warm: plan, proxy, cgroup, limits, bwrap arguments. */
  private async wrap(
    name: string,
    profile: SandboxProfile,
    cwd: string,
    argv: string[],
    tmp: string,
    start: "cold" | "warm",
  ): Promise<SandboxRun> {
    const plan = this.plan(name, profile, cwd, tmp);
    let proxy: AllowlistProxy | null = null;
    const sock = join(tmp, ".forge-proxy.sock");
    if (plan.network.mode === "allowlist") {
      proxy = new AllowlistProxy(plan.network.hosts);
      await proxy.listen(sock);
    }
    // The process limit: a pids cgroup where we can make one (it binds root too), else RLIMIT_NPROC.
    if (this.cgroupRoot === undefined) this.cgroupRoot = this.engine === "bwrap" ? pidsCgroupRoot() : null;
    let cgroup: ActionCgroup | null = null;
    if (this.cgroupRoot !== null) {
      try {
        cgroup = makeCgroup(this.cgroupRoot, plan.limits.processes);
      } catch {
        cgroup = null;
      }
    }
    const applied: SandboxApplied = {
      engine: this.engine === "seatbelt" ? "seatbelt" : "bwrap",
      process_limit:
        cgroup !== null ? "cgroup" : process.getuid?.() === 0 ? "none (root ignores RLIMIT_NPROC)" : "rlimit",
      profile: name,
      confined: true,
      write: plan.write,
      hidden: plan.hide.length,
      network: plan.network,
      limits: plan.limits,
      start,
    };
    const finish = async (): Promise<SandboxApplied> => {
      if (proxy !== null) {
        await proxy.close();
        if (proxy.refused.length > 0) applied.refused = proxy.refused.slice(0, 16);
      }
      rmSync(tmp, { recursive: true, force: true });
      cgroup?.remove();
      return applied;
    };
    const l = plan.limits;
    // On Linux the limits are set by the shell that starts bwrap (below) when its ulimit is verified.
    const inner =
      this.engine === "seatbelt"
        ? // macOS has no prlimit: the same limits through the shell's ulimit (bash's -u is RLIMIT_NPROC).
          [
            "/bin/bash",
            "-c",
            `ulimit -t ${l.cpu_seconds} -u ${l.processes} -n ${l.open_files} && exec "$@"`,
            "forge-limits",
            ...argv,
          ]
        : this.dialect === null
          ? [this.cfg.prlimit_path, ...prlimitArgs(plan), ...argv]
          : argv;
    const viaProxy =
      proxy === null ? inner : [process.execPath, FORWARDER, sock, String(PROXY_PORT), "--", ...inner];
    if (this.engine === "seatbelt") {
      return {
        file: "/usr/bin/sandbox-exec",
        args: ["-p", seatbeltProfile(plan, PROXY_PORT), ...viaProxy],
        applied,
        plan,
        finish,
      };
    }
    const argv2 = [
      this.cfg.bwrap_path,
      ...bwrapArgs(plan, proxy === null ? [] : [process.execPath, FORWARDER]),
      ...viaProxy,
    ];
    // A shell joins the cgroup (every process of the action is counted) and sets the limits, then
    // becomes bwrap: the limits bind bwrap and everything it starts.
    const steps = [
      ...(cgroup === null ? [] : ['echo $$ > "$0"']),
      ...(this.dialect === null ? [] : [ulimitScript(l, this.dialect)]),
    ];
    if (steps.length === 0) return { file: argv2[0]!, args: argv2.slice(1), applied, plan, finish };
    return {
      file: "/bin/sh",
      args: ["-c", `${steps.join(" && ")} && exec "$@"`, cgroup?.procs ?? "forge-sandbox", ...argv2],
      applied,
      plan,
      finish,
    };
  }
}

/** Values for the dialect check: sizes in whole KiB so a wrong `-f` unit shows; below usual hard limits. */
const PROBE_LIMITS: SandboxPlan["limits"] = {
  cpu_seconds: 7,
  memory_bytes: (1 << 30) + 3072,
  processes: 1029,
  open_files: 515,
  file_bytes: 1 << 20,
};

/** The ulimit dialect of this host's /bin/sh, verified in /proc/self/limits; null when none fits. */
function ulimitDialect(): UlimitDialect | null {
  for (const d of ULIMIT_DIALECTS) {
    try {
      const text = execFileSync(
        "/bin/sh",
        ["-c", `${ulimitScript(PROBE_LIMITS, d)} && exec cat /proc/self/limits`],
        { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 },
      );
      if (limitsShow(text, PROBE_LIMITS)) return d;
    } catch {
      // this dialect's flags are refused by this sh: try the next
    }
  }
  return null;
}
