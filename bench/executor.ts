/**
 * What containment costs: spawn-to-exit of `true` through the shell executor, unconfined and in
 * the bubblewrap sandbox (built-in profile: no network), in alternating rounds of the same run;
 * and the allowlist profile, which adds the in-sandbox forwarder (a Node start). Target: the
 * sandbox adds <= 10 ms at the median (paired differences, round by round).
 */
import { mkdtempSync } from "node:fs";
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
  const boxes: Record<string, ActionSandbox> = {
    bare: { sandbox: off, name: "off", profile: BUILTIN_PROFILE },
    bwrap: { sandbox: confined, name: "builtin", profile: BUILTIN_PROFILE },
    allowlist: {
      sandbox: confined,
      name: "allowlist",
      profile: SandboxProfileSchema.parse({ network: { mode: "allowlist", hosts: ["example.org"] } }),
    },
  };
  const once = async (box: ActionSandbox) => {
    const t0 = nowNs();
    const r = await execute({ kind: "shell", command: "true" }, limits, box);
    if (r.status !== "ok") throw new Error(`true failed under ${box.name}: ${JSON.stringify(r)}`);
    return (nowNs() - t0) / 1e6;
  };
  for (const b of Object.values(boxes)) for (let i = 0; i < 5; i++) await once(b);
  const t: Record<string, number[]> = { bare: [], bwrap: [], allowlist: [] };
  const diffs: number[] = [];
  const rounds = Math.max(20, Math.round(ctx.durationS * 15));
  for (let i = 0; i < rounds && !ctx.signal.aborted; i++) {
    ctx.progress(i / rounds, "spawn-to-exit of `true`");
    const b = await once(boxes.bare!);
    const s = await once(boxes.bwrap!);
    t.bare!.push(b);
    t.bwrap!.push(s);
    diffs.push(s - b);
    if (i % 4 === 0) t.allowlist!.push(await once(boxes.allowlist!));
  }
  const bare = stats(t.bare!);
  const metrics: Metric[] = [
    {
      name: "shell `true`, bubblewrap (built-in profile)",
      unit: "ms",
      stats: stats(t.bwrap!),
      baseline: { name: "shell `true`, unconfined", stats: bare },
      ratio: stats(t.bwrap!).median / bare.median,
      ratio_of: "median sandboxed / median unconfined (lower is better)",
    },
    judge(
      {
        name: "added by the sandbox (paired, per round)",
        unit: "ms",
        stats: stats(diffs),
        notes: "sandboxed minus unconfined in the same round",
      },
      { text: "median <= 10 ms", stat: "median", op: "<=", value: 10 },
    ),
    {
      name: "shell `true`, bubblewrap + allowlist proxy",
      unit: "ms",
      stats: stats(t.allowlist!),
      baseline: { name: "shell `true`, unconfined", stats: bare },
      ratio: stats(t.allowlist!).median / bare.median,
      ratio_of: "median allowlist / median unconfined (lower is better)",
    },
  ];
  ctx.progress(1, "done");
  return { suite: "executor", metrics, info: { rounds } };
};

if (import.meta.url === `file://${process.argv[1]}`) await runStandalone("executor", suite);
