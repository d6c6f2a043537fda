// Landlock, the second layer under bubblewrap, for real: the sandbox's launcher applies it with the
// kernel's own syscalls. One case runs the launcher with Landlock only (no bwrap) to prove the
// layer works on its own; the others run the whole sandbox and compare with `landlock: false`.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type ActionSandbox, type ExecutionResult, execute } from "../../src/agent/executors/index.js";
import { Sandbox } from "../../src/agent/sandbox/index.js";
import {
  LANDLOCK_FAILED,
  type LandlockSpec,
  launcherArgv,
  probeLandlockAbi,
} from "../../src/agent/sandbox/launcher.js";
import type { Action } from "../../src/gate/actions.js";
import type { SandboxProfile } from "../../src/gate/sandbox-profile.js";
import { missing } from "../support/tools.js";
import { shell } from "./helpers.js";
import { BWRAP_CONFIG, profile, testLimits } from "./sandbox-fixtures.js";

// Not under /tmp: inside the sandbox /tmp is a fresh tmpfs (see sandbox.test.ts).
const base = mkdtempSync(join("/var/tmp", "sbx-ll-"));
const workspace = join(base, "ws");
const outside = join(base, "outside");
const secrets = join(base, "secrets");
for (const d of [workspace, outside, secrets]) mkdirSync(d, { recursive: true });
writeFileSync(join(secrets, "token"), "landlock-secret\n");
writeFileSync(join(outside, "readable"), "public\n");
afterAll(() => rmSync(base, { recursive: true, force: true }));

const abi = existsSync("/usr/bin/python3") ? (probeLandlockAbi() ?? 0) : 0;
const noLandlock = abi === 0 || missing("bwrap");

const CFG = BWRAP_CONFIG;
const own = { workspace, home: base, protect: [join(base, "agent-home")] };
const limits = testLimits(workspace, base);
const boxes = { on: new Sandbox(CFG, own), off: new Sandbox({ ...CFG, landlock: false }, own) };
afterAll(async () => {
  for (const b of Object.values(boxes)) await b.close();
});
const run = (sb: Sandbox, cmd: string, p: SandboxProfile = profile()): Promise<ExecutionResult> =>
  execute(shell(cmd) as Action, limits, { sandbox: sb, name: "t", profile: p } satisfies ActionSandbox);
const out = (r: ExecutionResult, s: "stdout" | "stderr" = "stdout") => (r[s] as { excerpt: string }).excerpt;

/** Runs the launcher with Landlock only: on the host, no bwrap, no namespaces. */
function landlockOnly(spec: LandlockSpec, script: string) {
  const argv = launcherArgv(spec, "exec", ["/bin/sh", "-c", script])!;
  return spawnSync(argv[0]!, argv.slice(1), {
    encoding: "utf8",
    env: { PATH: "/usr/bin:/bin" },
    timeout: 20_000,
  });
}

describe.skipIf(noLandlock)("Landlock under the sandbox's launcher", () => {
  it("on its own (no bwrap): a write outside the roots and a read of a denied path are refused by Landlock", () => {
    const spec: LandlockSpec = {
      abi,
      write: [workspace, "/dev/null"],
      deny: [secrets],
      net: "none",
      port: 3128,
    };
    const r = landlockOnly(
      spec,
      `echo in > ${workspace}/ll-in && echo wrote-in; echo out > ${outside}/ll-out || echo out-refused; cat ${secrets}/token || echo secret-refused; cat ${outside}/readable`,
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("wrote-in");
    expect(r.stdout).toContain("out-refused");
    expect(r.stdout).toContain("secret-refused");
    expect(r.stdout).toContain("public");
    expect(r.stdout).not.toContain("landlock-secret");
    // On the host these are plain, writable directories (we are their owner): only Landlock said no.
    expect(r.stderr).toMatch(/ll-out: Permission denied/);
    expect(existsSync(join(outside, "ll-out"))).toBe(false);
    expect(readFileSync(join(workspace, "ll-in"), "utf8")).toBe("in\n");
    // The same script without the rules writes there: the refusal above is the layer's own.
    const free = spawnSync("/bin/sh", ["-c", `echo out > ${outside}/ll-free && echo wrote-free`], {
      encoding: "utf8",
    });
    expect(free.stdout).toContain("wrote-free");
  });

  it("a write the bwrap mounts allow (/run, /proc/self) is refused with Landlock on, lands with it off", async () => {
    const cmd =
      "echo x > /run/ll-probe && echo run-written; echo forge > /proc/self/comm && echo comm-written; true";
    const on = await run(boxes.on, cmd);
    expect(out(on)).not.toContain("run-written");
    expect(out(on)).not.toContain("comm-written");
    expect(out(on, "stderr")).toMatch(/\/run\/ll-probe: Permission denied/);
    const off = await run(boxes.off, cmd);
    expect(out(off)).toContain("run-written");
    expect(out(off)).toContain("comm-written");
  });

  it("the warm path is under the same rules: made before the sandbox waits, in force for its command", async () => {
    const warm = new Sandbox({ ...CFG, warm: 1 }, own);
    try {
      warm.refill("t", profile(), workspace, { ...limits.base_env });
      await warm.ready();
      const r = await run(
        warm,
        `echo x > /run/ll-warm && echo run-written; echo out > ${outside}/ll-warm || echo out-refused; echo in > ${workspace}/ll-warm && echo in-written`,
      );
      expect(r.sandbox).toMatchObject({ start: "warm", landlock: { abi, enforced: true } });
      expect(out(r)).not.toContain("run-written");
      expect(out(r)).toContain("out-refused");
      expect(out(r)).toContain("in-written");
      expect(out(r, "stderr")).toMatch(/\/run\/ll-warm: Permission denied/);
    } finally {
      await warm.close();
    }
  });

  it("the record carries sandbox.landlock: the probed ABI and whether it was in force", async () => {
    const on = await run(boxes.on, "true");
    expect(on.status).toBe("ok");
    expect(on.sandbox).toMatchObject({ engine: "bwrap", landlock: { abi, enforced: true } });
    const off = await run(boxes.off, "true");
    expect(off.sandbox).toMatchObject({ landlock: { enforced: false, reason: "sandbox.landlock is off" } });
  });

  it.skipIf(abi < 4)("network none refuses TCP even on the sandbox's own loopback", async () => {
    const py = `/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); c = socket.create_connection(s.getsockname()); print("loopback-ok")'`;
    const on = await run(boxes.on, py);
    expect(out(on)).not.toContain("loopback-ok");
    expect(out(on, "stderr")).toMatch(/PermissionError/);
    const off = await run(boxes.off, py);
    expect(out(off)).toContain("loopback-ok");
  });

  it.skipIf(abi < 6)(
    "even with network open, the host's abstract Unix sockets are out of reach (scoped)",
    async () => {
      const name = `forge-ll-${process.pid}`;
      // A Python server: Node binds an abstract name with the whole sun_path as its address.
      const server = spawn("/usr/bin/python3", [
        "-c",
        `import socket\ns = socket.socket(socket.AF_UNIX)\ns.bind("\\0${name}")\ns.listen()\nprint("up", flush=True)\nwhile True:\n    c, _ = s.accept(); c.send(b"host-abstract"); c.close()`,
      ]);
      await new Promise((r) => server.stdout.once("data", r));
      try {
        const py = `/usr/bin/python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.connect("\\0${name}"); print(s.recv(64).decode())'`;
        const open = profile({ network: { mode: "open" } });
        const on = await run(boxes.on, py, open);
        expect(out(on)).not.toContain("host-abstract");
        expect(out(on, "stderr")).toMatch(/PermissionError/);
        const off = await run(boxes.off, py, open);
        expect(out(off)).toContain("host-abstract");
      } finally {
        server.kill();
      }
    },
  );

  it("writes under the write roots, the private /tmp and /dev/null still work; reads of the system too", async () => {
    const r = await run(
      boxes.on,
      `echo a > ${workspace}/ll-ok && mkdir -p ${workspace}/ll-dir && mv ${workspace}/ll-ok ${workspace}/ll-dir/ && echo t > /tmp/x && echo n > /dev/null && cat /etc/hostname > /dev/null && ls / > /dev/null && echo all-ok`,
    );
    expect(out(r, "stderr")).toBe("");
    expect(out(r)).toContain("all-ok");
    expect(existsSync(join(workspace, "ll-dir", "ll-ok"))).toBe(true);
  });

  it("a hidden path inside the workspace stays bwrap's: what the action writes next to it reads back", async () => {
    mkdirSync(join(workspace, "hid"), { recursive: true });
    writeFileSync(join(workspace, "hid", "k"), "hidden-in-ws\n");
    const p = profile({ deny_read: [join(workspace, "hid")] });
    const r = await run(
      boxes.on,
      `echo fresh > ${workspace}/next.txt && cat ${workspace}/next.txt; cat ${workspace}/hid/k || echo hid-gone`,
      p,
    );
    expect(out(r)).toContain("fresh");
    expect(out(r)).toContain("hid-gone");
    expect(out(r)).not.toContain("hidden-in-ws");
  });

  describe("rules that cannot be applied: exit 126, nothing runs (fail closed)", () => {
    // A real kernel refusal: a seccomp filter (as container runtimes install) makes the Landlock
    // syscalls fail with ENOSYS. Classic BPF: nr in [444, 446] -> ERRNO(ENOSYS), else ALLOW.
    const filter = join(base, "no-landlock.bpf");
    const ins = (code: number, jt: number, jf: number, k: number) => {
      const b = Buffer.alloc(8);
      b.writeUInt16LE(code, 0);
      b.writeUInt8(jt, 2);
      b.writeUInt8(jf, 3);
      b.writeUInt32LE(k >>> 0, 4);
      return b;
    };
    writeFileSync(
      filter,
      Buffer.concat([
        ins(0x20, 0, 0, 0), // ld [0]: the syscall number
        ins(0x35, 0, 2, 444), // jge 444
        ins(0x25, 1, 0, 446), // jgt 446
        ins(0x06, 0, 0, 0x00050000 | 38), // ret ERRNO(ENOSYS)
        ins(0x06, 0, 0, 0x7fff0000), // ret ALLOW
      ]),
    );
    const wrapper = join(base, "bwrap-seccomp");
    writeFileSync(wrapper, `#!/bin/sh\nexec /usr/bin/bwrap --seccomp 9 "$@" 9< ${filter}\n`);
    chmodSync(wrapper, 0o755);

    it("the launcher under bwrap with Landlock refused exits 126 and never runs the command", () => {
      const argv = launcherArgv({ abi, write: [workspace], deny: [], net: "none", port: 3128 }, "exec", [
        "/bin/sh",
        "-c",
        `touch ${workspace}/ran-126`,
      ])!;
      const r = spawnSync(
        wrapper,
        [
          "--unshare-user",
          "--unshare-pid",
          "--die-with-parent",
          "--ro-bind",
          "/",
          "/",
          "--bind",
          workspace,
          workspace,
          "--proc",
          "/proc",
          "--dev",
          "/dev",
          ...argv,
        ],
        { encoding: "utf8", timeout: 20_000 },
      );
      expect(r.status).toBe(126);
      expect(r.stderr.startsWith(LANDLOCK_FAILED)).toBe(true);
      expect(r.stderr).toMatch(/no Landlock/);
      expect(existsSync(join(workspace, "ran-126"))).toBe(false);
    });

    it("through the executor: an error record, sandbox-unavailable, landlock.enforced false with the reason", async () => {
      const sb = new Sandbox({ ...CFG, bwrap_path: wrapper }, own);
      try {
        const r = await run(sb, `touch ${workspace}/ran-exec-126`);
        expect(r).toMatchObject({
          status: "error",
          exit_code: 126,
          error: { code: "FORGE_SANDBOX_UNAVAILABLE" },
          sandbox: { engine: "bwrap", landlock: { abi, enforced: false } },
        });
        expect((r.error as { message: string }).message).toMatch(
          /sandbox-unavailable: Landlock: .*no Landlock/,
        );
        expect(existsSync(join(workspace, "ran-exec-126"))).toBe(false);
      } finally {
        await sb.close();
      }
    });
  });
});
