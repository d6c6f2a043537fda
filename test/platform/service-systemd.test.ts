// The generated unit is checked by systemd itself: `systemd-analyze verify` loads it the way the
// manager would. In a container without a running systemd that works with --man=no (no man-page
// lookups), an ExecStart binary that exists (process.execPath), and for --user an
// XDG_RUNTIME_DIR. verify exits 0 even for unknown keys and unparseable values (it only logs
// "…, ignoring."), so the tests also require an empty stderr. At debug level verify dumps the
// unit as parsed on stdout, which lets the tests compare what systemd read with what we meant.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { resolveServiceSpec, type ServiceScope, UNIT_NAME } from "../../src/platform/service/spec.js";
import { systemdUnit } from "../../src/platform/service/systemd.js";
import { missing } from "../support/tools.js";

const dir = mkdtempSync(join(tmpdir(), "forge-unit-"));
const runtime = join(dir, "runtime");
mkdirSync(runtime, { mode: 0o700 });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function verify(unitText: string, scope: ServiceScope, debug = false) {
  const sub = join(dir, `u${++n}`);
  mkdirSync(sub);
  const path = join(sub, UNIT_NAME);
  writeFileSync(path, unitText);
  const r = spawnSync(
    "systemd-analyze",
    [...(scope === "user" ? ["--user"] : []), "verify", "--man=no", path],
    {
      encoding: "utf8",
      env: { ...process.env, XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_LEVEL: debug ? "debug" : "notice" },
    },
  );
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

/** What systemd parsed, from verify's debug dump of our unit (on stdout). */
function parsedBySystemd(stdout: string) {
  const start = stdout.indexOf(`-> Unit ${UNIT_NAME}:`);
  expect(start).toBeGreaterThanOrEqual(0);
  const dump = stdout.slice(start);
  const env = [...dump.matchAll(/^\t\tEnvironment: (.*)$/gm)].map((m) => m[1]!);
  const wd = /^\t\tWorkingDirectory: (.*)$/m.exec(dump)?.[1];
  const cmd = /^\t\t\tCommand Line: (.*)$/m.exec(dump)?.[1] ?? "";
  // The command line is printed shell-style: "…" words with \-escapes. `$$` is the stored form of
  // a literal `$`; systemd turns it back into `$` when it executes the command.
  const argv = [...cmd.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) =>
    (m[1] ?? m[2]!).replace(/\\(.)/g, "$1").replace(/\$\$/g, "$"),
  );
  return { env, wd, argv };
}

function spec(
  scope: ServiceScope,
  extra: { home?: string; env?: Record<string, string>; script?: string } = {},
) {
  return resolveServiceSpec({
    target: "systemd",
    scope,
    uid: 1000,
    homedir: "/home/alice",
    node: process.execPath,
    script: extra.script ?? "/opt/forge/bin/forge-agent.js",
    home: extra.home,
    env: extra.env,
    config: "/etc/forge/agent.yaml",
  });
}

describe.skipIf(missing("systemd-analyze"))("systemd unit passes systemd-analyze verify", () => {
  for (const scope of ["system", "user"] as const) {
    it(`${scope} unit: exit 0, no warnings, and systemd read our ExecStart, directory and environment`, () => {
      const s = spec(scope, { env: { FORGE_COLLECTOR_URL: "ws://10.0.0.5:7070/ingest" } });
      const text = systemdUnit(s);
      const r = verify(text, scope);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);

      const p = parsedBySystemd(verify(text, scope, true).stdout);
      expect(p.argv).toEqual([
        process.execPath,
        "/opt/forge/bin/forge-agent.js",
        "run",
        "--config",
        "/etc/forge/agent.yaml",
      ]);
      expect(p.wd).toBe(scope === "user" ? "/home/alice/.local/share/forge-agent" : "/var/lib/forge-agent");
      expect(p.env).toEqual([`FORGE_COLLECTOR_URL=ws://10.0.0.5:7070/ingest`, `FORGE_HOME=${p.wd}`]);
      expect(text).toContain(scope === "user" ? "WantedBy=default.target" : "WantedBy=multi-user.target");
      expect(s.filePath).toBe(
        scope === "user"
          ? "/home/alice/.config/systemd/user/forge-agent.service"
          : "/etc/systemd/system/forge-agent.service",
      );
    });
  }

  it("the check is not vacuous: a misspelt key or a missing binary is caught", () => {
    const good = systemdUnit(spec("system"));
    const typo = verify(good.replace("RestartSec=", "RestartSecs="), "system");
    expect(typo.stderr).toMatch(/Unknown key/);
    const missing = verify(good.replace(`"${process.execPath}"`, '"/nonexistent/node"'), "system");
    expect(missing.code).not.toBe(0);
  });

  it("odd paths and values (quotes, backslashes, %, $, spaces, Unicode) reach systemd unchanged", () => {
    const piece = fc.string({
      unit: fc.constantFrom(
        "a",
        " ",
        '"',
        "'",
        "\\",
        "%",
        "%n",
        "$",
        "$" + "{X}",
        "$$",
        ";",
        "é",
        "😀",
        "=",
        "#",
      ),
      maxLength: 10,
    });
    fc.assert(
      fc.property(piece, piece, piece, (value, dirName, scriptName) => {
        const home = resolve(`/srv/forge/${dirName}`);
        const s = spec("system", {
          home,
          script: `/opt/forge ${scriptName}/bin/forge-agent.js`,
          env: { ODD: value },
        });
        if (/[ \t\\]$/.test(home)) {
          // systemd would drop the blank, or read the backslash as a line continuation; we refuse.
          expect(() => systemdUnit(s)).toThrow(expect.objectContaining({ code: "FORGE_SERVICE_INVALID" }));
          return;
        }
        const text = systemdUnit(s);
        const r = verify(text, "system");
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        const p = parsedBySystemd(verify(text, "system", true).stdout);
        expect(p.env).toEqual([`ODD=${value}`, `FORGE_HOME=${home}`]);
        expect(p.wd).toBe(home);
        expect(p.argv[1]).toBe(`/opt/forge ${scriptName}/bin/forge-agent.js`);
      }),
      { numRuns: 40 },
    );
  });

  it("control characters are refused with FORGE_SERVICE_INVALID before a unit is written", () => {
    for (const bad of ["a\nb", "x\ry", "\u0000", "\u007F"]) {
      expect(() => systemdUnit(spec("user", { env: { X: bad } }))).toThrow(
        expect.objectContaining({ code: "FORGE_SERVICE_INVALID" }),
      );
      expect(() => systemdUnit(spec("user", { home: `/srv/${bad}` }))).toThrow(
        expect.objectContaining({ code: "FORGE_SERVICE_INVALID" }),
      );
    }
  });
});
