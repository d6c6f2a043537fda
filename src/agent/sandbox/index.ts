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
import { LAUNCHER_PATH, landlockSpec, launcherArgv, probeLandlockAbi } from "./launcher.js";
import { planSandbox, type SandboxPlan } from "./plan.js";
import { AllowlistProxy } from "./proxy.js";
import { seatbeltProfile } from "./seatbelt.js";
import {
  discard,
  handedOver,
  planDigest,
  sendCommand,
  spawnWaiting,
  usable,
  type WarmEntry,
  waitReady,
} from "./warm.js";

export { HostAllowlist, resolveAllowed } from "./allowlist.js";
export { LANDLOCK_FAILED } from "./launcher.js";
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
  /** A waiting sandbox is replaced by a fresh one once it is this old (ms; default 30 s). */
  warm_renew_ms?: number;
  /** Landlock under bwrap where the kernel offers it (default on): required then, else DENY/126. */
  landlock?: boolean;
}

/** `execution_result.sandbox.landlock`: the kernel's ABI (0: none) and whether the rules were in force. */
export interface LandlockApplied {
  abi: number;
  enforced: boolean;
  reason?: string;
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
  /** Set when a warm sandbox died between being taken and running the command: it then ran cold. */
  warm_lost?: boolean;
  /** The second layer under bwrap (Linux). */
  landlock?: LandlockApplied;
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
/** How often a waiting sandbox is replaced by a fresh one (default of sandbox.warm_renew_ms). */
const WARM_RENEW_MS = 30_000;
/** How long an action waits for a warm sandbox that is starting for it before it starts one cold. */
const WARM_WAIT_MS = 2_000;
/** A warm sandbox not waiting for its command within this is dropped (the next action runs cold). */
const WARM_READY_MS = 10_000;

/** A warm sandbox an action took: its process (already running), what the record says, and the hand-over. */
export interface WarmRun {
  child: import("node:child_process").ChildProcess;
  applied: SandboxApplied;
  /**
   * Gives it the command (as data) and starts it; resolves true once the launcher has it, false
   * when the sandbox was lost first (the command never ran: the caller runs it cold).
   */
  send(cmd: { argv: string[]; env: Record<string, string>; cwd: string }): Promise<boolean>;
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
  /** Landlock here (probed with the engine; bwrap only). */
  private landlock: LandlockApplied | null = null;

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
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string };
      return {
        ok: false,
        reason: `bubblewrap cannot create namespaces here: ${err.stderr?.toString().trim() || err.message}`,
      };
    }
    return this.probeLandlock();
  }

  /**
   * Landlock is required where the kernel offers it and config leaves it on: the launcher applies
   * it, so no python3 then means no sandbox (fail closed), not a silent bwrap-only run.
   */
  private probeLandlock(): { ok: true } | { ok: false; reason: string } {
    if (this.cfg.landlock === false) {
      this.landlock = { abi: 0, enforced: false, reason: "sandbox.landlock is off" };
      return { ok: true };
    }
    let abi: number | null;
    try {
      abi = probeLandlockAbi();
    } catch (e) {
      return { ok: false, reason: `the Landlock probe failed: ${(e as Error).message}` };
    }
    if (abi === null)
      return {
        ok: false,
        reason: `Landlock needs ${LAUNCHER_PATH} for the sandbox's launcher (or set sandbox.landlock: false)`,
      };
    this.landlock =
      abi > 0
        ? { abi, enforced: true }
        : { abi: 0, enforced: false, reason: "the kernel offers no Landlock" };
    return { ok: true };
  }

  /** Landlock as probed (null before a successful probe, or off the bwrap engine). */
  get landlockState(): LandlockApplied | null {
    return this.landlock === null ? null : { ...this.landlock };
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
   * A warm sandbox for exactly this action's confinement, or null (none ready nor coming, a
   * profile or plan that differs, a dead or stale one, warm off): the caller then runs cold. One
   * still starting for it, or a refill for its profile not yet spawned (the daemon's pre-warm),
   * is waited for, up to 2 s in all, rather than starting another cold. The plan is resolved
   * again now and must match the warm one's digest, so nothing that changed on disk since it
   * started (a new credential dir, a moved symlink) is missed.
   */
  async takeWarm(name: string, profile: SandboxProfile, cwd: string): Promise<WarmRun | null> {
    const deadline = Date.now() + WARM_WAIT_MS;
    for (;;) {
      const got = this.pick(name, profile, cwd);
      if (got !== null || this.closed || !this.coming(name, profile, cwd)) return got;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.push(done);
      });
    }
  }

  /** Whether a sandbox for exactly this confinement is starting, or a refill for it is queued. */
  private coming(name: string, profile: SandboxProfile, cwd: string): boolean {
    for (const e of this.starting)
      if (!e.taken && planDigest(name, this.plan(name, profile, cwd, e.tmp)) === e.digest) return true;
    const l = this.last;
    return (
      this.queued > 0 &&
      l !== null &&
      l.name === name &&
      l.cwd === cwd &&
      JSON.stringify(l.profile) === JSON.stringify(profile)
    );
  }

  /** Wakes the actions waiting in takeWarm (the pool changed: started, ready, dropped, refill done). */
  private changed(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Takes a waiting sandbox that fits exactly (dropping dead and stale ones on the way), or null. */
  private pick(name: string, profile: SandboxProfile, cwd: string): WarmRun | null {
    const now = Date.now();
    for (const e of [...this.warm]) {
      if (!usable(e, 2 * this.renewMs, now)) {
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
        send: (cmd) => {
          const handed = handedOver(e);
          sendCommand(e, cmd);
          return handed;
        },
        finish: run.finish,
      };
    }
    return null;
  }

  /**
   * Keeps up to `sandbox.warm` sandboxes started for this profile (the one most likely next):
   * those for another profile are dropped. Runs in the background; an error only means cold runs.
   * The daemon calls it once at start for the policy's default profile (pre-warm); from then on
   * the waiting ones are renewed every `warm_renew_ms`.
   */
  refill(name: string, profile: SandboxProfile, cwd: string, env: Record<string, string>): void {
    const size = this.cfg.warm ?? 0;
    if (size <= 0 || !existsSync(LAUNCHER_PATH) || this.closed) return;
    if (!this.probe().ok || this.engine !== "bwrap") return;
    this.last = { name, profile, cwd, env };
    if (this.renewer === null) {
      // A third of the period: a sandbox is renewed between renew_ms and 4/3 of it after its start.
      this.renewer = setInterval(() => this.renew(), Math.max(1, Math.round(this.renewMs / 3)));
      this.renewer.unref();
    }
    this.queued++;
    this.filling = this.filling.then(async () => {
      // After the action's result is delivered: starting the replacement (a fork) is not its cost.
      await new Promise((r) => setImmediate(r));
      try {
        const keep = this.warm.filter(
          (e) => planDigest(name, this.plan(name, profile, cwd, e.tmp)) === e.digest,
        );
        for (const e of this.warm) if (!keep.includes(e)) this.drop(e);
        while (!this.closed && this.warm.length < size) await this.startWarm(name, profile, cwd, env);
      } catch {
        // a warm sandbox that cannot start leaves the cold path, which reports its own errors
      } finally {
        this.queued--;
        this.changed();
      }
    });
  }

  /**
   * Replaces the waiting sandboxes older than renew_ms: the new ones start first, then the old
   * ones still waiting are dropped (one an action took meanwhile is its own, never touched).
   */
  private renew(): void {
    const last = this.last;
    if (last === null || this.closed) return;
    const now = Date.now();
    const old = this.warm.filter((e) => now - e.startedMs >= this.renewMs);
    if (old.length === 0) return;
    this.renewals++;
    this.queued++;
    this.filling = this.filling.then(async () => {
      try {
        for (let i = 0; i < old.length && !this.closed; i++)
          await this.startWarm(last.name, last.profile, last.cwd, last.env);
        for (const e of old) if (this.warm.includes(e)) this.drop(e);
      } catch {
        // as in refill: the old ones stay until they age out
      } finally {
        this.queued--;
        this.changed();
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

  /** Warm sandboxes spawned and not yet waiting. */
  get startingCount(): number {
    return this.starting.size;
  }

  /** Renewal rounds started so far (tests). */
  get renewCount(): number {
    return this.renewals;
  }

  /**
   * Kills every waiting sandbox; no more are started or pooled. Resolves once a refill that was
   * under way has ended too (startWarm drops the sandbox it was starting, not left running).
   */
  async close(): Promise<void> {
    this.closed = true;
    if (this.renewer !== null) clearInterval(this.renewer);
    // Those still starting too: a stop does not wait for a launcher to say it is ready.
    for (const e of [...this.warm, ...this.starting]) this.drop(e);
    this.changed();
    await this.filling;
  }

  private warm: WarmEntry[] = [];
  /** Spawned, not yet waiting for a command. */
  private starting = new Set<WarmEntry>();
  private runs = new Map<WarmEntry, SandboxRun>();
  private filling: Promise<void> = Promise.resolve();
  private closed = false;
  private last: { name: string; profile: SandboxProfile; cwd: string; env: Record<string, string> } | null =
    null;
  private renewer: NodeJS.Timeout | null = null;
  private renewals = 0;
  /** Refills queued or under way. */
  private queued = 0;
  /** Actions in takeWarm waiting for the pool to change. */
  private waiters: (() => void)[] = [];

  private get renewMs(): number {
    return this.cfg.warm_renew_ms ?? WARM_RENEW_MS;
  }

  private async startWarm(
    name: string,
    profile: SandboxProfile,
    cwd: string,
    env: Record<string, string>,
  ): Promise<void> {
    const tmp = mkdtempSync(join(tmpdir(), "forge-sbx-"));
    const run = await this.wrap(name, profile, cwd, null, tmp, "warm");
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
    this.starting.add(e);
    this.changed();
    const ok = await waitReady(e, WARM_READY_MS);
    this.starting.delete(e);
    if (ok && !this.closed) this.warm.push(e);
    else this.drop(e);
    this.changed();
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
    argv: string[] | null,
    tmp: string,
    start: "cold" | "warm",
  ): Promise<SandboxRun> {
    const plan = this.plan(name, profile, cwd, tmp);
    // The command, or (argv null: a warm sandbox) the launcher waiting for it; under bwrap the
    // launcher applies Landlock first when it is in force, so then it is in front of every command.
    const spec =
      this.engine === "bwrap" && this.landlock?.enforced === true
        ? landlockSpec(plan, this.landlock.abi, PROXY_PORT)
        : null;
    const cmd =
      argv === null || spec !== null ? launcherArgv(spec, argv === null ? "wait" : "exec", argv ?? []) : argv;
    if (cmd === null) throw new Error(`the sandbox's launcher needs ${LAUNCHER_PATH}`);
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
      ...(this.engine === "bwrap" && this.landlock !== null ? { landlock: { ...this.landlock } } : {}),
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
            ...cmd,
          ]
        : this.dialect === null
          ? [this.cfg.prlimit_path, ...prlimitArgs(plan), ...cmd]
          : cmd;
    // A warm launcher behind the forwarder still needs its command pipe (fd 3) passed on.
    const viaProxy =
      proxy === null
        ? inner
        : [
            process.execPath,
            FORWARDER,
            sock,
            String(PROXY_PORT),
            ...(argv === null ? ["--fd3"] : []),
            "--",
            ...inner,
          ];
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
