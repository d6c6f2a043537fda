// The real CLI (node bin/forge-agent.js, built by `npx tsc -p .`) with the real ServiceHost:
// real files under a temporary HOME, and stand-in `launchctl`/`systemctl` scripts first on PATH
// that log their arguments, since neither can run in this container.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const BIN = join(import.meta.dirname, "../../bin/forge-agent.js");
const SCRIPT_ABS = BIN;

let root: string;
let home: string;
let log: string;
let fakeBin: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "forge-svc-cli-"));
  home = join(root, "home");
  mkdirSync(home);
  log = join(root, "calls.log");
  fakeBin = join(root, "bin");
  mkdirSync(fakeBin);
  for (const name of ["launchctl", "systemctl"]) {
    const p = join(fakeBin, name);
    writeFileSync(
      p,
      `#!/bin/sh
printf '%s' "${name}" >> "$FAKE_LOG"
for a in "$@"; do printf ' [%s]' "$a" >> "$FAKE_LOG"; done
echo >> "$FAKE_LOG"
case "$*" in
  *" show "*) printf 'LoadState=loaded\\nActiveState=active\\nSubState=running\\nMainPID=777\\nExecMainStatus=0\\n' ;;
  print*) printf 'gui/0/dev.forge.agent = {\\n\\tstate = running\\n\\tpid = 888\\n\\tlast exit code = (never exited)\\n}\\n' ;;
esac
exit 0
`,
    );
    chmodSync(p, 0o755);
  }
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    // A HOME-only user: the per-user home is HOME/.local/share/forge-agent.
    env: {
      ...process.env,
      HOME: home,
      XDG_DATA_HOME: "",
      XDG_CONFIG_HOME: "",
      PATH: `${fakeBin}:${process.env.PATH}`,
      FAKE_LOG: log,
    },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const calls = () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []);

describe("forge-agent install/uninstall/status (CLI)", () => {
  it("--dry-run prints the file and the exact commands and runs nothing", () => {
    for (const target of ["launchd", "systemd"]) {
      for (const scope of [[], ["--user"]]) {
        const r = cli("install", "--dry-run", "--target", target, ...scope);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        if (target === "launchd") {
          expect(r.stdout).toContain("<key>ProgramArguments</key>");
          expect(r.stdout).toContain(`<string>${process.execPath}</string>`);
          expect(r.stdout).toContain(`<string>${SCRIPT_ABS}</string>`);
          expect(r.stdout).toMatch(
            scope.length
              ? /launchctl bootstrap gui\/\d+ /
              : /launchctl bootstrap system \/Library\/LaunchDaemons\/dev\.forge\.agent\.plist/,
          );
          expect(r.stdout).toContain("launchctl kickstart -k");
        } else {
          expect(r.stdout).toContain(`ExecStart="${process.execPath}" "${SCRIPT_ABS}" "run"`);
          expect(r.stdout).toContain(
            scope.length
              ? "systemctl --user enable --now forge-agent.service"
              : "systemctl enable --now forge-agent.service",
          );
        }
      }
    }
    for (const cmd of ["uninstall", "status"]) {
      const r = cli(cmd, "--dry-run", "--target", "launchd", "--user");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(cmd === "status" ? "launchctl print gui/" : "launchctl bootout gui/");
    }
    expect(calls()).toEqual([]);
    expect(existsSync(join(home, "Library"))).toBe(false);
    expect(existsSync(join(home, ".config"))).toBe(false);
    expect(existsSync(join(home, ".local"))).toBe(false);
  });

  it("--dry-run --json is one JSON document with the steps", () => {
    const r = cli("install", "--dry-run", "--json", "--target", "systemd", "--user");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ dry_run: true, action: "install", target: "systemd", scope: "user" });
    expect(doc.steps.map((s: { kind: string }) => s.kind)).toEqual(["mkdir", "write", "run", "run"]);
  });

  it("systemd --user: install writes the unit 0644 and calls systemctl; status reads it; uninstall reverses", () => {
    const i = cli(
      "install",
      "--user",
      "--target",
      "systemd",
      "--env",
      "FORGE_COLLECTOR_URL=ws://127.0.0.1:7070",
    );
    expect(i.stderr).toBe("");
    expect(i.code).toBe(0);
    const unit = join(home, ".config/systemd/user/forge-agent.service");
    expect(statSync(unit).mode & 0o777).toBe(0o644);
    expect(readFileSync(unit, "utf8")).toContain('Environment="FORGE_COLLECTOR_URL=ws://127.0.0.1:7070"');
    expect(existsSync(join(home, ".local/share/forge-agent"))).toBe(true);
    expect(calls()).toEqual([
      "systemctl [--user] [daemon-reload]",
      "systemctl [--user] [enable] [--now] [forge-agent.service]",
    ]);

    const again = cli("install", "--user", "--target", "systemd");
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("FORGE_SERVICE_ALREADY_INSTALLED");

    const s = cli("status", "--user", "--target", "systemd", "--json");
    expect(s.code).toBe(0);
    expect(JSON.parse(s.stdout)).toMatchObject({
      installed: true,
      loaded: true,
      running: true,
      pid: 777,
      state: "active/running",
    });

    const u = cli("uninstall", "--user", "--target", "systemd");
    expect(u.code).toBe(0);
    expect(existsSync(unit)).toBe(false);
    expect(existsSync(join(home, ".local/share/forge-agent"))).toBe(true); // state is kept
    expect(calls().slice(-3)).toEqual([
      "systemctl [--user] [show] [-p] [LoadState,ActiveState,SubState,MainPID,ExecMainStatus] [forge-agent.service]",
      "systemctl [--user] [disable] [--now] [forge-agent.service]",
      "systemctl [--user] [daemon-reload]",
    ]);
    const gone = cli("uninstall", "--user", "--target", "systemd");
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("FORGE_SERVICE_NOT_INSTALLED");
  });

  it("launchd --user: plist under ~/Library/LaunchAgents, launchctl enable/bootstrap/kickstart, status parses print", () => {
    const i = cli("install", "--user", "--target", "launchd");
    expect(i.code).toBe(0);
    const plist = join(home, "Library/LaunchAgents/dev.forge.agent.plist");
    expect(readFileSync(plist, "utf8")).toContain("<key>KeepAlive</key>");
    expect(existsSync(join(home, "Library/Logs/forge-agent"))).toBe(true);
    const uid = process.getuid!();
    expect(calls()).toEqual([
      `launchctl [enable] [gui/${uid}/dev.forge.agent]`,
      `launchctl [bootstrap] [gui/${uid}] [${plist}]`,
      `launchctl [kickstart] [-k] [gui/${uid}/dev.forge.agent]`,
    ]);
    const s = cli("status", "--user", "--target", "launchd");
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/state:\s+running/);
    expect(s.stdout).toMatch(/pid:\s+888/);
  });

  it("bad usage exits 2", () => {
    expect(cli("install", "--target", "upstart").code).toBe(2);
    expect(cli("install", "--env", "NOEQUALS", "--dry-run").code).toBe(2);
    expect(cli("install", "--bogus").code).toBe(2);
    expect(calls()).toEqual([]);
  });
});
