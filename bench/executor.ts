/**
 * What containment costs: spawn-to-exit of `true` through the shell executor, unconfined, in a
 * bubblewrap sandbox started for the action (cold) and in one started ahead of time and waiting
 * for it (warm; built-in profile: no network), interleaved in the same rounds (order rotating);
 * and the allowlist profile, which adds the in-sandbox forwarder (a Node start), cold and warm
 * (its own pool), the warm one paired with an unconfined run just before it. Landlock is on (the
 * default) wherever the kernel offers it: the cold path then starts the launcher too. Target: the sandbox adds <= 10 ms at the median (paired differences, round by round). The
 * warm sandbox's replacement is awaited before its round (not timed): the figure is for an action
 * that finds one waiting.
 */
import { mkdtempSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { type ActionSandbox, type ExecutorLimits, execute } from "../src/agent/executors/index.js";
import { Sandbox, type SandboxConfig } from "../src/agent/sandbox/index.js";
import { BUILTIN_PROFILE, SandboxProfileSchema } from "../src/gate/sandbox-profile.js";
import { judge, type Metric, nowNs, runStandalone, type Suite, stats } from "./harness.js";

const CFG: SandboxConfig = {
  engine: "bwrap",
  bwrap_path: "/usr/bin/bwrap",
  prlimit_path: "/usr/bin/prlimit",
  on_unavailable: "deny",
};

export const suite: Suite = async (ctx) => {
  const ws = mkdtempSync(join(ctx.tmpDir, "ws-"));
  const confined = new Sandbox(CFG, {
    workspace: ws,
    home: ctx.tmpDir,
    protect: [join(ctx.tmpDir, "agent")],
  });
  const probe = confined.probe();
  if (!probe.ok) return { suite: "executor", skipped: probe.reason, metrics: [] };
  const warmed = new Sandbox(
    { ...CFG, warm: 1 },
    { workspace: ws, home: ctx.tmpDir, protect: [join(ctx.tmpDir, "agent")] },
  );
  // Cold without Landlock (bwrap alone, no launcher in front): what the second layer costs a cold start.
  const bwrapOnly = new Sandbox(
    { ...CFG, landlock: false },
    { workspace: ws, home: ctx.tmpDir, protect: [join(ctx.tmpDir, "agent")] },
  );
  // Its own pool: a pool follows one profile, and the allowlist one is another.
  const allowWarmed = new Sandbox(
    { ...CFG, warm: 1 },
    { workspace: ws, home: ctx.tmpDir, protect: [join(ctx.tmpDir, "agent")] },
  );
  const off = new Sandbox(
    { ...CFG, engine: "off", on_unavailable: "unconfined" },
    { workspace: ws, home: ctx.tmpDir, protect: [] },
  );
  const limits: ExecutorLimits = {
    cwd: ws,
    shell_timeout_ms: 10_000,
    excerpt_bytes: 256,
    max_output_bytes: 1 << 20,
    http_timeout_ms: 5_000,
    http_max_bytes: 1 << 20,
    file_max_bytes: 1 << 20,
    file_timeout_ms: 5_000,
    base_env: { PATH: "/usr/bin:/bin", HOME: ctx.tmpDir, LANG: "C.UTF-8" },
  };
  const allowlistProfile = SandboxProfileSchema.parse({
    network: { mode: "allowlist", hosts: ["example.org"] },
  });
  const boxes: Record<string, ActionSandbox> = {
    bare: { sandbox: off, name: "off", profile: BUILTIN_PROFILE },
    bwrap: { sandbox: confined, name: "builtin", profile: BUILTIN_PROFILE },
    warm: { sandbox: warmed, name: "builtin", profile: BUILTIN_PROFILE },
    allowlist: { sandbox: confined, name: "allowlist", profile: allowlistProfile },
    allowlistWarm: { sandbox: allowWarmed, name: "allowlist", profile: allowlistProfile },
    bwrapOnly: { sandbox: bwrapOnly, name: "builtin", profile: BUILTIN_PROFILE },
  };
  const warmBoxes = new Set([boxes.warm, boxes.allowlistWarm]);
  const once = async (box: ActionSandbox) => {
    // The warm box's replacement starts in the background: let it finish before any timed run, so
    // it does not slow the next one (whichever box that is).
    await warmed.ready();
    await allowWarmed.ready();
    const t0 = nowNs();
    const r = await execute({ kind: "shell", command: "true" }, limits, box);
    if (r.status !== "ok") throw new Error(`true failed under ${box.name}: ${JSON.stringify(r)}`);
    const start = (r.sandbox as { start?: string } | undefined)?.start;
    if (warmBoxes.has(box) && start !== "warm") throw new Error(`the warm box ran ${start ?? "unconfined"}`);
    return (nowNs() - t0) / 1e6;
  };
  // The daemon would have one waiting from the previous action: start the first one here.
  warmed.refill("builtin", BUILTIN_PROFILE, ws, { ...limits.base_env });
  allowWarmed.refill("allowlist", allowlistProfile, ws, { ...limits.base_env });
  for (const b of Object.values(boxes)) for (let i = 0; i < 5; i++) await once(b);
  const t: Record<string, number[]> = {
    bare: [],
    bwrap: [],
    warm: [],
    allowlist: [],
    allowlistWarm: [],
    bwrapOnly: [],
  };
  const diffs: number[] = [];
  const warmDiffs: number[] = [];
  const allowWarmDiffs: number[] = [];
  const load: number[] = [loadavg()[0]!];
  const rounds = Math.max(20, Math.round(ctx.durationS * 15));
  const order = ["bare", "bwrap", "warm"] as const;
  for (let i = 0; i < rounds && !ctx.signal.aborted; i++) {
    ctx.progress(i / rounds, "spawn-to-exit of `true`");
    const got: Record<string, number> = {};
    for (let k = 0; k < order.length; k++) {
      const name = order[(i + k) % order.length]!;
      got[name] = await once(boxes[name]!);
    }
    for (const name of order) t[name]!.push(got[name]!);
    diffs.push(got.bwrap! - got.bare!);
    warmDiffs.push(got.warm! - got.bare!);
    if (i % 4 === 0) t.allowlist!.push(await once(boxes.allowlist!));
    if (i % 4 === 2) t.bwrapOnly!.push(await once(boxes.bwrapOnly!));
    if (i % 2 === 0) {
      const bare = await once(boxes.bare!);
      const aw = await once(boxes.allowlistWarm!);
      t.allowlistWarm!.push(aw);
      allowWarmDiffs.push(aw - bare);
    }
  }
  load.push(loadavg()[0]!);
  await warmed.close();
  await allowWarmed.close();
  const bare = stats(t.bare!);
  const against = (name: string, xs: number[]): Metric => ({
    name,
    unit: "ms",
    stats: stats(xs),
    baseline: { name: "shell `true`, unconfined", stats: bare },
    ratio: stats(xs).median / bare.median,
    ratio_of: "median sandboxed / median unconfined (lower is better)",
  });
  const target = { text: "median <= 10 ms", stat: "median", op: "<=", value: 10 } as const;
  const metrics: Metric[] = [
    against("shell `true`, bubblewrap, cold start (built-in profile)", t.bwrap!),
    against("shell `true`, bubblewrap, warm start (built-in profile)", t.warm!),
    against("shell `true`, bubblewrap without Landlock, cold start", t.bwrapOnly!),
    {
      name: "added by the sandbox, cold start (paired, per round)",
      unit: "ms",
      stats: stats(diffs),
      notes: "cold sandboxed minus unconfined in the same round",
    },
    judge(
      {
        name: "added by the sandbox, warm start (paired, per round)",
        unit: "ms",
        stats: stats(warmDiffs),
        notes: "warm sandboxed minus unconfined in the same round; its replacement awaited before, untimed",
      },
      target,
    ),
    against("shell `true`, bubblewrap + allowlist proxy (cold start)", t.allowlist!),
    against("shell `true`, bubblewrap + allowlist proxy (warm start)", t.allowlistWarm!),
    {
      name: "added by the sandbox, allowlist warm start (paired)",
      unit: "ms",
      stats: stats(allowWarmDiffs),
      notes: "allowlist warm minus an unconfined run just before it",
    },
  ];
  ctx.progress(1, "done");
  return {
    suite: "executor",
    metrics,
    info: {
      rounds,
      load1_start: load[0],
      load1_end: load[1],
      cores: cpus().length,
      landlock: confined.landlockState,
    },
  };
};

if (import.meta.url === `file://${process.argv[1]}`) await runStandalone("executor", suite);
