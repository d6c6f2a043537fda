// The real sandbox (bubblewrap) around the built-in executors: what an ALLOWed action can and
// cannot do once it runs. Each case runs real processes; the daemon cases go through the socket.
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createNetServer, type Server as NetServer } from "node:net";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ActionSandbox,
  type ExecutionResult,
  type ExecutorLimits,
  execute,
} from "../../src/agent/executors/index.js";
import { limitsShow } from "../../src/agent/sandbox/bwrap.js";
import { Sandbox } from "../../src/agent/sandbox/index.js";
import type { Action } from "../../src/gate/actions.js";
import type { SandboxProfile } from "../../src/gate/sandbox-profile.js";
import { missing } from "../support/tools.js";
import { until } from "../support/wait.js";
import { REPO, shell, startTestAgent, type TestAgent } from "./helpers.js";
import { BWRAP_CONFIG, profile, testLimits } from "./sandbox-fixtures.js";

// Not under /tmp (nor under the checkout, which may itself be under /tmp): inside the sandbox /tmp is
// a fresh tmpfs, so a write "outside" must be tested on a real, read-only-bound directory of the host.
const ROOT = "/var/tmp";
const base = mkdtempSync(join(ROOT, "sbx-"));
const workspace = join(base, "ws");
const agentHome = join(base, "agent-home");
const outside = join(base, "outside");
const secrets = join(base, "secrets");
for (const d of [workspace, agentHome, outside, secrets]) mkdirSync(d, { recursive: true });
writeFileSync(join(secrets, "id_rsa"), "-----BEGIN OPENSSH PRIVATE KEY-----\nsecret\n");
writeFileSync(join(agentHome, "host-ed25519.key"), "agent key");

const CFG = BWRAP_CONFIG;
const agentSock = join(agentHome, "agent.sock");
// The packaged pack inside the workspace, as with `npm start` in a clone: read-only, never hidden.
const pack = join(workspace, "policies", "default.yaml");
mkdirSync(join(workspace, "policies"));
writeFileSync(pack, "rules: []\n");
const own = { workspace, home: base, protect: [agentHome, agentSock], readOnly: [pack] };
/** The two ways a shell action's sandbox starts: for it (cold), or ahead of time, waiting for it (warm). */
const PATHS = { cold: new Sandbox(CFG, own), warm: new Sandbox({ ...CFG, warm: 1 }, own) } as const;
type StartPath = keyof typeof PATHS;
const limits = testLimits(workspace, base);
/**
 * Runs `a` on the given start path: on the warm one, a sandbox for exactly this profile is started
 * and ready first, and the record must say the warm one ran (else the case proves nothing about it).
 */
const runOn =
  (path: StartPath) =>
  async (
    a: Action,
    p: SandboxProfile = profile(),
    sb: Sandbox = PATHS[path],
    l: Partial<ExecutorLimits> = {},
  ): Promise<ExecutionResult> => {
    const lim = { ...limits, ...l };
    const ours = sb === PATHS[path] && a.kind === "shell";
    const warmable = ours && path === "warm";
    if (warmable) {
      sb.refill("t", p, resolve(lim.cwd, a.cwd ?? "."), { ...lim.base_env });
      await sb.ready();
      expect(sb.warmCount).toBe(1);
    }
    const r = await execute(a, lim, { sandbox: sb, name: "t", profile: p } satisfies ActionSandbox);
    if (ours && r.sandbox !== undefined)
      expect((r.sandbox as { start?: string }).start).toBe(warmable ? "warm" : "cold");
    return r;
  };
afterAll(() => {
  for (const sb of Object.values(PATHS)) sb.close();
});
const out = (r: ExecutionResult, s: "stdout" | "stderr" = "stdout") => (r[s] as { excerpt: string }).excerpt;

/** Processes on the host whose command line contains `marker`. */
function hostProcesses(marker: string): string[] {
  try {
    return execFileSync("pgrep", ["-af", marker], { encoding: "utf8" })
      .split("\n")
      .filter((l) => l.trim() !== "" && !l.includes("pgrep"));
  } catch {
    return [];
  }
}

afterAll(() => rmSync(base, { recursive: true, force: true }));

describe.skipIf(missing("bwrap")).each(["cold", "warm"] as const)(
  "bubblewrap sandbox around the executors (%s start)",
  (path) => {
    const run = runOn(path);
    const sandbox = PATHS[path];
    it("a write outside the workspace fails, the workspace write lands, and the record says how it ran", async () => {
      const r = await run(
        shell(`echo in > ${workspace}/ok.txt; echo out > ${outside}/escaped.txt`) as Action,
      );
      expect(r.status).toBe("failed");
      expect(out(r, "stderr")).toMatch(/Read-only file system/);
      expect(readFileSync(join(workspace, "ok.txt"), "utf8")).toBe("in\n");
      expect(existsSync(join(outside, "escaped.txt"))).toBe(false);
      expect(r.sandbox).toMatchObject({
        engine: "bwrap",
        profile: "t",
        confined: true,
        network: { mode: "none" },
      });
    });

    it("the packaged pack in the workspace reads as it is and cannot be written, not even by a writable workspace", async () => {
      const r = await run(
        shell(`cat ${pack}; echo x >> ${pack} || echo refused; rm -f ${pack} || echo kept`) as Action,
      );
      expect(out(r)).toBe("rules: []\nrefused\nkept\n");
      expect(readFileSync(pack, "utf8")).toBe("rules: []\n");
    });

    it("a denied credential path reads as nothing, and runs as an unprivileged uid", async () => {
      const r = await run(
        shell(`id -u; cat ${secrets}/id_rsa; ls -A ${secrets} | wc -l`) as Action,
        profile({ deny_read: [secrets] }),
      );
      expect(out(r)).not.toContain("secret");
      expect(out(r).split("\n")[0]).toBe("65534");
      expect(out(r, "stderr")).toMatch(/No such file/);
    });

    it("the agent's home, keys and socket are unreachable whatever the profile says", async () => {
      const server: NetServer = createNetServer((c) =>
        c.end("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nagent"),
      );
      await new Promise<void>((r) => server.listen(agentSock, r));
      try {
        // Even a profile that makes the agent's home writable cannot reach it.
        const r = await run(
          shell(
            `ls -A ${agentHome} | wc -l; cat ${agentHome}/host-ed25519.key; curl -s --max-time 3 --unix-socket ${agentSock} http://x/ || echo no-socket`,
          ) as Action,
          profile({ write: ["$WORKSPACE", agentHome] }),
        );
        expect(out(r)).not.toContain("agent key");
        expect(out(r)).not.toMatch(/^agent$/m);
        expect(out(r)).toMatch(/^0$/m);
        expect(out(r)).toContain("no-socket");
      } finally {
        server.close();
      }
    });

    describe("network", () => {
      let allowed: Server;
      let other: Server;
      let pa = 0;
      let pb = 0;
      beforeAll(async () => {
        allowed = createHttpServer((_q, s) => s.end("allowed-server"));
        other = createHttpServer((_q, s) => s.end("other-server"));
        await new Promise<void>((r) => allowed.listen(0, "127.0.0.1", r));
        await new Promise<void>((r) => other.listen(0, "127.0.0.1", r));
        pa = (allowed.address() as { port: number }).port;
        pb = (other.address() as { port: number }).port;
      });
      afterAll(() => {
        allowed.close();
        other.close();
      });

      it("none: no connection at all, not even to loopback", async () => {
        const r = await run(
          shell(`curl -s --max-time 3 http://127.0.0.1:${pa}/ || echo unreachable`) as Action,
        );
        expect(out(r)).toContain("unreachable");
        expect(out(r)).not.toContain("allowed-server");
      });

      it("allowlist: the listed server is reached through the proxy, an unlisted one is refused", async () => {
        const p = profile({ network: { mode: "allowlist", hosts: [`127.0.0.1:${pa}`] } });
        const r = await run(
          shell(
            `curl -sf --max-time 5 http://127.0.0.1:${pa}/; echo; curl -sf --max-time 5 http://127.0.0.1:${pb}/ || echo refused; curl -s --noproxy '*' --max-time 3 http://127.0.0.1:${pb}/ || echo direct-unreachable`,
          ) as Action,
          p,
        );
        expect(out(r)).toContain("allowed-server");
        expect(out(r)).not.toContain("other-server");
        expect(out(r)).toContain("refused");
        expect(out(r)).toContain("direct-unreachable");
        expect((r.sandbox as { refused?: string[] }).refused?.[0]).toMatch(/not on the allowlist/);
      });
    });

    it("a fork bomb is stopped by the process limit", async () => {
      const r = await run(
        shell(`bomb() { bomb | bomb & }; bomb; sleep 1; echo survived`) as Action,
        profile({ limits: { processes: 64 } }),
        sandbox,
        { shell_timeout_ms: 3_000, excerpt_bytes: 256 << 10 },
      );
      expect(out(r, "stderr")).toMatch(/Cannot fork|Resource temporarily unavailable/i);
      // As root, RLIMIT_NPROC binds nothing: the pids cgroup is what holds the line.
      if (process.getuid?.() === 0) expect(r.sandbox).toMatchObject({ process_limit: "cgroup" });
    });

    it("a memory hog is stopped by the memory limit", async () => {
      const r = await run(
        shell(`/usr/bin/python3 -c 'x = bytearray(1 << 30); print("allocated")'`) as Action,
        profile({ limits: { memory_bytes: 256 << 20 } }),
      );
      expect(r.status).toBe("failed");
      expect(out(r)).not.toContain("allocated");
      expect(out(r, "stderr")).toMatch(/MemoryError/);
    });

    it("the profile's limits are in force inside the sandbox, the defaults too", async () => {
      const defaults = await run(shell("cat /proc/self/limits") as Action);
      expect(limitsShow(out(defaults), profile().limits)).toBe(true);
      // 2 GiB by default: a positive byte count, not one that wrapped around in 32 bits.
      expect(out(defaults)).toMatch(/^Max address space\s+2147483648\s+2147483648\s/m);
      const own = profile({
        limits: {
          cpu_seconds: 9,
          memory_bytes: 300 << 20,
          processes: 99,
          open_files: 77,
          file_bytes: 5 << 20,
        },
      });
      const r = await run(shell("cat /proc/self/limits") as Action, own);
      expect(r.status).toBe("ok");
      expect(limitsShow(out(r), own.limits)).toBe(true);
    });

    it("a background child does not outlive the action, even under its own process group", async () => {
      const marker = `1005.${process.pid}${Date.now() % 1000}`;
      const r = await run(
        shell(`timeout 1000 sleep ${marker} & setsid sleep ${marker} & echo started`) as Action,
      );
      expect(r.status).toBe("ok");
      await until(() => hostProcesses(`sleep ${marker}`).length === 0, "no sleep left on the host", 10_000);
    });

    it("FIFOs and devices never hang the file executor; later file actions still run", async () => {
      const fifo = join(workspace, `pipe-${path}`);
      execFileSync("mkfifo", [fifo]);
      const r = await run({ kind: "file.read", path: fifo });
      expect(r).toMatchObject({ status: "failed", error: { code: "FORGE_EXEC_NOT_REGULAR" } });
      const w = await run({ kind: "file.write", path: fifo, content: "x" });
      expect(w.status).toBe("failed");
      const ok = await run({ kind: "file.write", path: "after.txt", content: "fine" });
      expect(ok.status).toBe("ok");
    });

    it("file actions do not follow a symlink out of the judged path", async () => {
      symlinkSync(join(secrets, "id_rsa"), join(workspace, `link-${path}`));
      symlinkSync(outside, join(workspace, `outdir-${path}`));
      const r = await run({ kind: "file.read", path: `link-${path}` });
      expect(r.status).toBe("failed");
      expect(JSON.stringify(r)).not.toContain("secret");
      const w = await run({ kind: "file.write", path: `outdir-${path}/planted.txt`, content: "x" });
      expect(w).toMatchObject({ status: "failed", error: { code: "FORGE_EXEC_PATH_DENIED" } });
      expect(existsSync(join(outside, "planted.txt"))).toBe(false);
      const h = await run(
        { kind: "file.read", path: join(secrets, "id_rsa") },
        profile({ deny_read: [secrets] }),
      );
      expect(h).toMatchObject({ status: "failed", error: { code: "FORGE_EXEC_PATH_DENIED" } });
    });

    it("the http executor refuses a name that resolves to loopback unless the allowlist names it", async () => {
      const srv = createHttpServer((_q, s) => s.end("local"));
      await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
      const port = (srv.address() as { port: number }).port;
      try {
        const denied = await run({ kind: "http", method: "GET", url: `http://localhost:${port}/` });
        expect(denied).toMatchObject({ status: "failed", error: { code: "FORGE_EXEC_NETWORK_DENIED" } });
        const hex = await run({ kind: "http", method: "GET", url: `http://0x7f000001:${port}/` });
        expect(hex).toMatchObject({ status: "failed", error: { code: "FORGE_EXEC_NETWORK_DENIED" } });
        const ok = await run(
          { kind: "http", method: "GET", url: `http://localhost:${port}/` },
          profile({ network: { mode: "allowlist", hosts: [`localhost:${port}`] } }),
        );
        expect(ok).toMatchObject({ status: "ok", status_code: 200 });
      } finally {
        srv.close();
      }
    });

    it("without bubblewrap: deny refuses to run; unconfined runs and says so", async () => {
      const gone = new Sandbox(
        { ...CFG, bwrap_path: join(base, "no-bwrap") },
        { workspace, home: base, protect: [] },
      );
      const r = await run(shell(`echo ran > ${workspace}/gone.txt`) as Action, profile(), gone);
      expect(r).toMatchObject({ status: "error", error: { code: "FORGE_SANDBOX_UNAVAILABLE" } });
      expect(existsSync(join(workspace, "gone.txt"))).toBe(false);
      const loose = new Sandbox(
        { ...CFG, bwrap_path: join(base, "no-bwrap"), on_unavailable: "unconfined" },
        { workspace, home: base, protect: [] },
      );
      const u = await run(shell("echo ran") as Action, profile(), loose);
      expect(u).toMatchObject({ status: "ok", sandbox: { engine: "none", confined: false } });
      expect((u.sandbox as { reason: string }).reason).toMatch(/bubblewrap not found/);
    });
  },
);

describe.skipIf(missing("bwrap") || !existsSync("/usr/bin/python3"))(
  "a warm sandbox is used only for exactly its confinement",
  () => {
    const sb = PATHS.warm;
    const start = (r: ExecutionResult) => (r.sandbox as { start?: string }).start;
    const warmFor = async (p: SandboxProfile) => {
      sb.refill("t", p, workspace, { ...limits.base_env });
      await sb.ready();
      expect(sb.warmCount).toBe(1);
    };
    const exec = (a: Action, p: SandboxProfile) =>
      execute(a, limits, { sandbox: sb, name: "t", profile: p } satisfies ActionSandbox);

    it("another profile runs cold, and the pool follows the profile last used", async () => {
      await warmFor(profile());
      const other = profile({ limits: { open_files: 99 } });
      const r = await exec(shell("ulimit -n") as Action, other);
      expect(start(r)).toBe("cold");
      expect(out(r).trim()).toBe("99");
      await sb.ready();
      const again = await exec(shell("ulimit -n") as Action, other);
      expect(start(again)).toBe("warm");
      expect(out(again).trim()).toBe("99");
    });

    it("a credential dir created after the warm start is hidden: the plan changed, so it runs cold", async () => {
      const late = join(base, `late-${process.pid}`);
      const p = profile({ deny_read: [late] });
      await warmFor(p);
      mkdirSync(late);
      writeFileSync(join(late, "token"), "late-secret");
      const r = await exec(shell(`cat ${late}/token || echo hidden`) as Action, p);
      expect(start(r)).toBe("cold");
      expect(out(r)).toContain("hidden");
      expect(out(r)).not.toContain("late-secret");
    });

    it("a warm sandbox that died while waiting is not used: the action runs cold", async () => {
      await warmFor(profile());
      // Our own child (bwrap, which the wrapper shell became) whose command is the launcher.
      const pids = execFileSync("pgrep", ["-P", String(process.pid), "-f", "os.write"], { encoding: "utf8" })
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map(Number);
      expect(pids.length).toBeGreaterThan(0);
      for (const pid of pids) process.kill(pid, "SIGKILL");
      await until(() => sb.warmCount === 0, "the dead warm sandbox left the pool", 10_000);
      const r = await exec(shell("echo ran") as Action, profile());
      expect(r.status).toBe("ok");
      expect(start(r)).toBe("cold");
    });

    it("argv and env reach the command as data, not as shell text", async () => {
      await warmFor(profile());
      const r = await execute(
        { ...(shell('printf "%s" "$ODD"') as Action), env: { ODD: "a'b\"c; $(id) `x`\n" } } as Action,
        limits,
        { sandbox: sb, name: "t", profile: profile() },
      );
      expect(start(r)).toBe("warm");
      expect(out(r)).toBe("a'b\"c; $(id) `x`\n");
    });

    it("a close while a refill is starting leaves no sandbox running (the daemon's stop waits for none)", async () => {
      await sb.ready(); // the shared pool's own launcher, counted before
      const launchers = () =>
        execFileSync("sh", ["-c", `pgrep -P ${process.pid} -f os.write || true`], { encoding: "utf8" })
          .split("\n")
          .filter((l) => l.trim() !== "").length;
      const before = launchers();
      const closing = new Sandbox({ ...CFG, warm: 2 }, own);
      closing.refill("t", profile(), workspace, { ...limits.base_env });
      // Close once its first sandbox is spawned and still starting (not yet waiting for a command).
      await until(() => launchers() > before, "the refill's first sandbox spawned", 10_000);
      await closing.close();
      await closing.ready();
      expect(closing.warmCount).toBe(0);
      await until(() => launchers() <= before, "no launcher of the closed pool left running", 10_000);
    });
  },
);

describe.skipIf(missing("bwrap"))("the daemon contains what it executes", () => {
  let t: TestAgent;
  afterAll(async () => t?.stop());

  it("an ALLOWed write outside the workspace fails and the record shows the profile", async () => {
    t = await startTestAgent({ executors: { cwd: workspace } });
    const r = await t.client.post("/v1/actions", {
      session_id: "sbx",
      proposed_action: shell(`touch ${outside}/daemon-escape`),
      execute: true,
    });
    expect(r.status).toBe(200);
    expect(r.body.evaluation).toBe("ALLOW");
    expect(r.body.execution_result).toMatchObject({
      status: "failed",
      sandbox: { engine: "bwrap", confined: true },
    });
    expect(existsSync(join(outside, "daemon-escape"))).toBe(false);
  });

  it("a secret an allowed command prints is redacted before it is recorded", async () => {
    writeFileSync(join(workspace, "notes.txt"), "token ghp_0123456789abcdefghijklmnopqrstuvwxyzAB\n");
    const r = await t.client.post("/v1/actions", {
      session_id: "sbx",
      proposed_action: shell("cat notes.txt"),
      execute: true,
    });
    expect(r.body.execution_result.stdout.excerpt).toBe("token [REDACTED:github-token]\n");
    expect(r.body.execution_result.stdout.redacted).toEqual([{ kind: "github-token", count: 1 }]);
    const trace = await t.client.get("/v1/sessions/sbx/trace");
    expect(trace.text).not.toContain("ghp_0123456789");
  });

  it("the packaged default pack, in the workspace of a clone: read as it is, never written", async () => {
    // As `npm start` in a clone: no policy configured, the repository is the workspace.
    await t?.stop();
    t = await startTestAgent({ policy: undefined, executors: { cwd: REPO } });
    const size = statSync(join(REPO, "policies", "default.yaml")).size;
    const read = await t.client.post("/v1/actions", {
      session_id: "sbx",
      proposed_action: shell("wc -c < policies/default.yaml"),
      execute: true,
    });
    expect(read.body.evaluation).toBe("ALLOW");
    expect(read.body.execution_result.stdout.excerpt.trim()).toBe(String(size));
    const write = await t.client.post("/v1/actions", {
      session_id: "sbx",
      proposed_action: shell("echo 'defaults: {effect: allow}' >> policies/default.yaml"),
      execute: true,
    });
    expect(write.body.evaluation).toBe("DENY");
    expect(statSync(join(REPO, "policies", "default.yaml")).size).toBe(size);
  });

  it("with bubblewrap missing, an executed shell action is DENY sandbox-unavailable", async () => {
    await t?.stop();
    t = await startTestAgent({ executors: { cwd: workspace }, sandbox: { bwrap_path: join(base, "none") } });
    const r = await t.client.post("/v1/actions", {
      session_id: "sbx",
      proposed_action: shell(`touch ${workspace}/never`),
      execute: true,
    });
    expect(r.body.evaluation).toBe("DENY");
    expect(r.body.reasons.join(" ")).toMatch(/sandbox-unavailable/);
    expect(existsSync(join(workspace, "never"))).toBe(false);
  });
});
