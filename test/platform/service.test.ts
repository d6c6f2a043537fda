// install/uninstall/status through the ServiceHost seam: launchctl and systemctl cannot run here
// (no macOS, no running systemd), so a recording host answers them and the test asserts the calls.
import { describe, expect, it } from "vitest";
import {
  installService,
  parseLaunchctlPrint,
  parseSystemctlShow,
  planInstall,
  planStatus,
  planUninstall,
  type RunResult,
  resolveServiceSpec,
  type ServiceHost,
  type ServiceScope,
  type ServiceTarget,
  serviceStatus,
  uninstallService,
} from "../../src/platform/service/index.js";

type Call =
  | { op: "run"; cmd: string; args: string[] }
  | { op: "write"; path: string; mode: number }
  | { op: "remove"; path: string }
  | { op: "mkdir"; path: string };

function recordingHost(opts: {
  uid: number;
  files?: string[];
  answer?: (cmd: string, args: readonly string[]) => RunResult | undefined;
}) {
  const calls: Call[] = [];
  const files = new Map<string, string>((opts.files ?? []).map((f) => [f, "existing"]));
  const host: ServiceHost = {
    run(cmd, args) {
      calls.push({ op: "run", cmd, args: [...args] });
      return opts.answer?.(cmd, args) ?? { code: 0, stdout: "", stderr: "" };
    },
    writeFile(path, content, mode) {
      calls.push({ op: "write", path, mode });
      files.set(path, content);
    },
    removeFile(path) {
      calls.push({ op: "remove", path });
      files.delete(path);
    },
    exists: (path) => files.has(path),
    mkdir(path) {
      calls.push({ op: "mkdir", path });
    },
    uid: () => opts.uid,
    platform: () => "darwin",
    homedir: () => "/Users/alice",
  };
  return { host, calls, files };
}

const runs = (calls: Call[]) =>
  calls
    .filter((c) => c.op === "run")
    .map((c) => [(c as { cmd: string }).cmd, ...(c as { args: string[] }).args].join(" "));

function spec(target: ServiceTarget, scope: ServiceScope, uid = scope === "user" ? 501 : 0) {
  return resolveServiceSpec({
    target,
    scope,
    uid,
    homedir: "/Users/alice",
    node: "/opt/homebrew/bin/node",
    script: "/opt/forge/bin/forge-agent.js",
  });
}

describe("install", () => {
  it("launchd system: writes the daemon plist 0644, then enable, bootstrap system, kickstart -k", () => {
    const { host, calls, files } = recordingHost({ uid: 0 });
    const s = spec("launchd", "system");
    installService(host, s);
    expect(calls).toEqual([
      { op: "mkdir", path: "/Library/Application Support/forge-agent" },
      { op: "mkdir", path: "/Library/Logs/forge-agent" },
      { op: "write", path: "/Library/LaunchDaemons/dev.forge.agent.plist", mode: 0o644 },
      { op: "run", cmd: "launchctl", args: ["enable", "system/dev.forge.agent"] },
      {
        op: "run",
        cmd: "launchctl",
        args: ["bootstrap", "system", "/Library/LaunchDaemons/dev.forge.agent.plist"],
      },
      { op: "run", cmd: "launchctl", args: ["kickstart", "-k", "system/dev.forge.agent"] },
    ]);
    expect(files.get("/Library/LaunchDaemons/dev.forge.agent.plist")).toContain(
      "<string>dev.forge.agent</string>",
    );
  });

  it("launchd user: the agent goes to ~/Library/LaunchAgents and the gui/<uid> domain, no root needed", () => {
    const { host, calls } = recordingHost({ uid: 501 });
    installService(host, spec("launchd", "user"));
    expect(calls.find((c) => c.op === "write")).toEqual({
      op: "write",
      path: "/Users/alice/Library/LaunchAgents/dev.forge.agent.plist",
      mode: 0o644,
    });
    expect(runs(calls)).toEqual([
      "launchctl enable gui/501/dev.forge.agent",
      "launchctl bootstrap gui/501 /Users/alice/Library/LaunchAgents/dev.forge.agent.plist",
      "launchctl kickstart -k gui/501/dev.forge.agent",
    ]);
  });

  it("systemd system and user: daemon-reload then enable --now, --user for the user manager", () => {
    const sys = recordingHost({ uid: 0 });
    installService(sys.host, spec("systemd", "system"));
    expect(sys.calls.find((c) => c.op === "write")).toMatchObject({
      path: "/etc/systemd/system/forge-agent.service",
    });
    expect(runs(sys.calls)).toEqual([
      "systemctl daemon-reload",
      "systemctl enable --now forge-agent.service",
    ]);

    const usr = recordingHost({ uid: 1000 });
    installService(usr.host, spec("systemd", "user", 1000));
    expect(usr.calls.find((c) => c.op === "write")).toMatchObject({
      path: "/Users/alice/.config/systemd/user/forge-agent.service",
    });
    expect(runs(usr.calls)).toEqual([
      "systemctl --user daemon-reload",
      "systemctl --user enable --now forge-agent.service",
    ]);
  });

  it("runs exactly the steps the dry-run plan shows", () => {
    for (const target of ["launchd", "systemd"] as const) {
      const { host, calls } = recordingHost({ uid: 0 });
      const s = spec(target, "system");
      installService(host, s);
      const planned = planInstall(s).steps.map((st) =>
        st.kind === "run"
          ? { op: "run", cmd: st.cmd, args: st.args }
          : st.kind === "write"
            ? { op: "write", path: st.path, mode: st.mode }
            : { op: st.kind, path: st.path },
      );
      expect(calls).toEqual(planned);
    }
  });

  it("system scope without root: FORGE_SERVICE_NOT_ROOT naming sudo and --user; nothing touched", () => {
    for (const target of ["launchd", "systemd"] as const) {
      const { host, calls } = recordingHost({ uid: 501 });
      let err: unknown;
      try {
        installService(host, spec(target, "system", 501));
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: "FORGE_SERVICE_NOT_ROOT" });
      expect((err as Error).message).toMatch(/sudo/);
      expect((err as Error).message).toMatch(/--user/);
      expect(calls).toEqual([]);
    }
  });

  it("already installed: FORGE_SERVICE_ALREADY_INSTALLED, nothing run or overwritten", () => {
    const s = spec("launchd", "user");
    const { host, calls, files } = recordingHost({ uid: 501, files: [s.filePath] });
    expect(() => installService(host, s)).toThrow(
      expect.objectContaining({ code: "FORGE_SERVICE_ALREADY_INSTALLED" }),
    );
    expect(calls).toEqual([]);
    expect(files.get(s.filePath)).toBe("existing");
  });

  it("a failing launchctl call is reported with its stderr and the install is rolled back", () => {
    const s = spec("launchd", "user");
    const { host, calls, files } = recordingHost({
      uid: 501,
      answer: (_cmd, args) =>
        args[0] === "bootstrap"
          ? { code: 5, stdout: "", stderr: "Bootstrap failed: 5: Input/output error\n" }
          : args[0] === "bootout"
            ? {
                code: 113,
                stdout: "",
                stderr: 'Could not find service "dev.forge.agent" in domain for user gui: 501\n',
              }
            : undefined,
    });
    let err: unknown;
    try {
      installService(host, s);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: "FORGE_SERVICE_COMMAND_FAILED" });
    expect((err as Error).message).toContain("launchctl bootstrap gui/501");
    expect((err as Error).message).toContain("Input/output error");
    expect((err as Error).message).toContain("rolled back");
    expect(files.has(s.filePath)).toBe(false);
    expect(runs(calls)).toEqual([
      "launchctl enable gui/501/dev.forge.agent",
      "launchctl bootstrap gui/501 /Users/alice/Library/LaunchAgents/dev.forge.agent.plist",
      "launchctl bootout gui/501/dev.forge.agent",
    ]);
  });

  it("a missing launchctl binary (could not start) fails closed with FORGE_SERVICE_COMMAND_FAILED", () => {
    const s = spec("systemd", "system");
    const { host, files } = recordingHost({
      uid: 0,
      answer: () => ({ code: -1, stdout: "", stderr: "spawnSync systemctl ENOENT" }),
    });
    expect(() => installService(host, s)).toThrow(
      expect.objectContaining({ code: "FORGE_SERVICE_COMMAND_FAILED" }),
    );
    expect(files.has(s.filePath)).toBe(false);
  });
});

describe("uninstall", () => {
  it("launchd: bootout then remove the file; FORGE_HOME is kept", () => {
    const s = spec("launchd", "system");
    const { host, calls, files } = recordingHost({ uid: 0, files: [s.filePath] });
    uninstallService(host, s);
    expect(calls).toEqual([
      { op: "run", cmd: "launchctl", args: ["bootout", "system/dev.forge.agent"] },
      { op: "remove", path: "/Library/LaunchDaemons/dev.forge.agent.plist" },
    ]);
    expect(files.size).toBe(0);
  });

  it("launchd: a plist present but not loaded is still removed", () => {
    const s = spec("launchd", "user");
    const { host, files } = recordingHost({
      uid: 501,
      files: [s.filePath],
      answer: () => ({ code: 3, stdout: "", stderr: "Boot-out failed: 3: No such process\n" }),
    });
    uninstallService(host, s);
    expect(files.has(s.filePath)).toBe(false);
  });

  it("launchd: neither a file nor a loaded job is FORGE_SERVICE_NOT_INSTALLED", () => {
    const s = spec("launchd", "user");
    const { host } = recordingHost({
      uid: 501,
      answer: () => ({
        code: 113,
        stdout: "",
        stderr: 'Could not find service "dev.forge.agent" in domain for user gui: 501\n',
      }),
    });
    expect(() => uninstallService(host, s)).toThrow(
      expect.objectContaining({ code: "FORGE_SERVICE_NOT_INSTALLED" }),
    );
  });

  it("launchd: any other bootout failure is an error and the file stays", () => {
    const s = spec("launchd", "system");
    const { host, files } = recordingHost({
      uid: 0,
      files: [s.filePath],
      answer: () => ({
        code: 150,
        stdout: "",
        stderr:
          "Boot-out failed: 150: Operation not permitted while System Integrity Protection is engaged\n",
      }),
    });
    expect(() => uninstallService(host, s)).toThrow(
      expect.objectContaining({ code: "FORGE_SERVICE_COMMAND_FAILED" }),
    );
    expect(files.has(s.filePath)).toBe(true);
  });

  it("systemd user: disable --now, remove, daemon-reload", () => {
    const s = spec("systemd", "user", 1000);
    const { host, calls } = recordingHost({ uid: 1000, files: [s.filePath] });
    uninstallService(host, s);
    expect(calls).toEqual([
      { op: "run", cmd: "systemctl", args: ["--user", "disable", "--now", "forge-agent.service"] },
      { op: "remove", path: "/Users/alice/.config/systemd/user/forge-agent.service" },
      { op: "run", cmd: "systemctl", args: ["--user", "daemon-reload"] },
    ]);
    expect(planUninstall(s).steps).toHaveLength(3);
  });

  it("systemd: no unit file is FORGE_SERVICE_NOT_INSTALLED without running systemctl; system scope needs root", () => {
    const s = spec("systemd", "system");
    const root = recordingHost({ uid: 0 });
    expect(() => uninstallService(root.host, s)).toThrow(
      expect.objectContaining({ code: "FORGE_SERVICE_NOT_INSTALLED" }),
    );
    expect(root.calls).toEqual([]);
    const user = recordingHost({ uid: 1000, files: [s.filePath] });
    expect(() => uninstallService(user.host, spec("systemd", "system", 1000))).toThrow(
      expect.objectContaining({ code: "FORGE_SERVICE_NOT_ROOT" }),
    );
    expect(user.calls).toEqual([]);
  });
});

// The shape of `launchctl print` on macOS 13/14, as published in vendor docs and bug reports
// (e.g. Sumo Logic's otelcol-sumo install guide): tab-indented `key = value` at the top level,
// nested blocks (environment, coalitions) one tab deeper. Our label and paths are substituted.
const PRINT_RUNNING = `system/dev.forge.agent = {
\tactive count = 1
\tpath = /Library/LaunchDaemons/dev.forge.agent.plist
\ttype = LaunchDaemon
\tstate = running

\tprogram = /opt/homebrew/bin/node
\targuments = {
\t\t/opt/homebrew/bin/node
\t\t/opt/forge/bin/forge-agent.js
\t\trun
\t}

\tworking directory = /Library/Application Support/forge-agent

\tstdout path = /Library/Logs/forge-agent/forge-agent.out.log
\tstderr path = /Library/Logs/forge-agent/forge-agent.err.log
\tdefault environment = {
\t\tPATH => /usr/bin:/bin:/usr/sbin:/sbin
\t}

\tenvironment = {
\t\tFORGE_HOME => /Library/Application Support/forge-agent
\t\tXPC_SERVICE_NAME => dev.forge.agent
\t}

\tdomain = system
\tminimum runtime = 10
\texit timeout = 30
\truns = 2
\tpid = 54109
\timmediate reason = speculative
\tforks = 2
\texecs = 1
\tinitialized = 1
\ttrampolined = 1
\tstarted suspended = 0
\tproxy started suspended = 0
\tlast exit code = 1

\tresource coalition = {
\t\tID = 397
\t\ttype = resource
\t\tstate = active
\t\tactive count = 1
\t\tname = dev.forge.agent
\t}

\tspawn type = daemon (3)
\tjetsam priority = 40
\tjetsam memory limit (active) = (unlimited)
\tprobabilistic guard malloc policy = {
\t\tactivation rate = 1/1000
\t\tsample rate = 1/0
\t}

\tproperties = keepalive | runatload | inferred program
}
`;

const PRINT_EXITED = `gui/501/dev.forge.agent = {
\tactive count = 0
\tpath = /Users/alice/Library/LaunchAgents/dev.forge.agent.plist
\ttype = LaunchAgent
\tstate = not running

\tprogram = /opt/homebrew/bin/node
\tdomain = gui/501 [100005]
\tasid = 100005
\tminimum runtime = 10
\texit timeout = 30
\truns = 7
\tlast exit code = 78: EX_CONFIG

\tspawn type = daemon (3)
\tproperties = keepalive | runatload | inferred program
}
`;

describe("status", () => {
  it("parses launchctl print: state, pid and last exit code from the top level only", () => {
    const p = parseLaunchctlPrint(PRINT_RUNNING);
    expect(p.state).toBe("running"); // not the coalition's "active"
    expect(p.pid).toBe(54109);
    expect(p.running).toBe(true);
    expect(p.last_exit_code).toBe(1);
    expect(p.detail.runs).toBe("2");
    expect(p.detail["working directory"]).toBe("/Library/Application Support/forge-agent");
    expect(p.detail.name).toBeUndefined(); // nested
    expect(p.detail.ID).toBeUndefined(); // nested

    const q = parseLaunchctlPrint(PRINT_EXITED);
    expect(q).toMatchObject({ state: "not running", pid: null, running: false, last_exit_code: 78 });
    expect(
      parseLaunchctlPrint(PRINT_RUNNING.replace("last exit code = 1", "last exit code = (never exited)"))
        .last_exit_code,
    ).toBeNull();
  });

  it("launchd: runs launchctl print <domain>/<label> and reports what it says", () => {
    const s = spec("launchd", "system");
    const { host, calls } = recordingHost({
      uid: 501, // status does not need root
      files: [s.filePath],
      answer: () => ({ code: 0, stdout: PRINT_RUNNING, stderr: "" }),
    });
    const st = serviceStatus(host, s);
    expect(runs(calls)).toEqual(["launchctl print system/dev.forge.agent"]);
    expect(st).toMatchObject({
      target: "launchd",
      scope: "system",
      installed: true,
      loaded: true,
      state: "running",
      running: true,
      pid: 54109,
      last_exit_code: 1,
    });
    expect(planStatus(s).steps).toEqual([
      { kind: "run", cmd: "launchctl", args: ["print", "system/dev.forge.agent"], notLoadedOk: true },
    ]);
  });

  it("launchd: 'Could not find service' is not loaded, not an error; other failures are errors", () => {
    const s = spec("launchd", "user");
    const missing = recordingHost({
      uid: 501,
      answer: () => ({
        code: 113,
        stdout: "",
        stderr: 'Bad request.\nCould not find service "dev.forge.agent" in domain for user gui: 501\n',
      }),
    });
    expect(serviceStatus(missing.host, s)).toMatchObject({
      installed: false,
      loaded: false,
      running: false,
      pid: null,
      state: null,
    });
    const broken = recordingHost({
      uid: 501,
      answer: () => ({ code: -1, stdout: "", stderr: "spawnSync launchctl ENOENT" }),
    });
    expect(() => serviceStatus(broken.host, s)).toThrow(
      expect.objectContaining({ code: "FORGE_SERVICE_COMMAND_FAILED" }),
    );
  });

  it("systemd: runs systemctl show -p … and parses it", () => {
    const s = spec("systemd", "user", 1000);
    const { host, calls } = recordingHost({
      uid: 1000,
      files: [s.filePath],
      answer: () => ({
        code: 0,
        stdout: "LoadState=loaded\nActiveState=active\nSubState=running\nMainPID=4242\nExecMainStatus=0\n",
        stderr: "",
      }),
    });
    expect(serviceStatus(host, s)).toMatchObject({
      loaded: true,
      state: "active/running",
      running: true,
      pid: 4242,
      last_exit_code: 0,
    });
    expect(runs(calls)).toEqual([
      "systemctl --user show -p LoadState,ActiveState,SubState,MainPID,ExecMainStatus forge-agent.service",
    ]);
  });

  it("parses systemctl show for a failed and for an unknown unit", () => {
    expect(
      parseSystemctlShow(
        "LoadState=loaded\nActiveState=failed\nSubState=failed\nMainPID=0\nExecMainStatus=203\n",
      ),
    ).toMatchObject({ loaded: true, state: "failed/failed", running: false, pid: null, last_exit_code: 203 });
    expect(
      parseSystemctlShow(
        "LoadState=not-found\nActiveState=inactive\nSubState=dead\nMainPID=0\nExecMainStatus=0\n",
      ),
    ).toMatchObject({ loaded: false, state: "inactive/dead", running: false, pid: null });
    expect(parseSystemctlShow("")).toMatchObject({
      loaded: false,
      state: null,
      running: false,
      last_exit_code: null,
    });
  });
});

describe("spec", () => {
  it("refuses relative paths, bad labels and bad environment names with FORGE_SERVICE_INVALID", () => {
    const base = {
      target: "launchd",
      scope: "user",
      uid: 501,
      homedir: "/Users/alice",
      node: "/usr/bin/node",
      script: "/opt/forge/bin/forge-agent.js",
    } as const;
    expect(() => resolveServiceSpec({ ...base, node: "node" })).toThrow(
      expect.objectContaining({ code: "FORGE_SERVICE_INVALID" }),
    );
    expect(() => resolveServiceSpec({ ...base, home: "var" })).toThrow(
      expect.objectContaining({ code: "FORGE_SERVICE_INVALID" }),
    );
    expect(() => resolveServiceSpec({ ...base, label: "dev/forge" })).toThrow(
      expect.objectContaining({ code: "FORGE_SERVICE_INVALID" }),
    );
    expect(() => resolveServiceSpec({ ...base, env: { "A-B": "x" } })).toThrow(
      expect.objectContaining({ code: "FORGE_SERVICE_INVALID" }),
    );
    // FORGE_HOME always follows --home, whatever --env says.
    expect(
      resolveServiceSpec({ ...base, home: "/srv/forge", env: { FORGE_HOME: "/elsewhere" } }).env.FORGE_HOME,
    ).toBe("/srv/forge");
  });
});
