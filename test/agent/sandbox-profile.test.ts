// The pure parts of containment: profiles in policy, the plan, bwrap arguments, the Seatbelt text
// (macOS cannot run here: its text is what is tested), and secret redaction.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { redactSecrets } from "../../src/agent/executors/redact.js";
import { bwrapArgs, limitsShow, prlimitArgs, ulimitScript } from "../../src/agent/sandbox/bwrap.js";
import { planSandbox } from "../../src/agent/sandbox/plan.js";
import { seatbeltProfile } from "../../src/agent/sandbox/seatbelt.js";
import { Gate, initGate } from "../../src/gate/index.js";
import { compilePolicyText } from "../../src/gate/policy.js";
import { BUILTIN_PROFILE, SandboxProfileSchema } from "../../src/gate/sandbox-profile.js";

const dir = mkdtempSync(join(tmpdir(), "fa-sbxp-"));
const ws = join(dir, "ws");
const home = join(dir, "agent");
const creds = join(dir, "creds");
for (const d of [ws, home, creds]) mkdirSync(d, { recursive: true });
writeFileSync(join(home, "agent.sock"), "");
symlinkSync(home, join(ws, "alias-of-home"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const POLICY = `
sandbox:
  default: build
  profiles:
    build: {write: [$WORKSPACE, $TMP], network: {mode: none}}
    fetch: {network: {mode: allowlist, hosts: [registry.npmjs.org]}}
rules:
  - {id: npm-install, match: {kind: shell, program: npm}, effect: allow, sandbox: fetch}
  - {id: ls, match: {kind: shell, program: ls}, effect: allow}
`;

describe("sandbox profiles in policy", () => {
  it("a rule's profile, else the policy default, else the built-in one", async () => {
    await initGate();
    const gate = new Gate(compilePolicyText(POLICY, "p.yaml"), { home: "/home/u" });
    expect(gate.sandboxFor(["npm-install"]).name).toBe("fetch");
    expect(gate.sandboxFor(["npm-install"]).profile.network).toEqual({
      mode: "allowlist",
      hosts: ["registry.npmjs.org"],
    });
    expect(gate.sandboxFor(["ls"]).name).toBe("build");
    const bare = new Gate(
      compilePolicyText("rules: [{id: a, match: {kind: shell, program: ls}, effect: allow}]", "q.yaml"),
      { home: "/home/u" },
    );
    expect(bare.sandboxFor(["a"])).toEqual({ name: "builtin", profile: BUILTIN_PROFILE });
    expect(BUILTIN_PROFILE.network.mode).toBe("none");
    expect(BUILTIN_PROFILE.deny_read).toContain("~/.ssh");
  });

  it("an unknown profile name is a policy error that names the near one", () => {
    expect(() => compilePolicyText(POLICY.replace("sandbox: fetch", "sandbox: fecth"), "p.yaml")).toThrow(
      /names sandbox profile 'fecth'.*did you mean 'fetch'/,
    );
    expect(() => compilePolicyText("sandbox: {profiles: {a: {network: {mode: wide}}}}", "p.yaml")).toThrow();
  });
});

describe("plan and bubblewrap arguments", () => {
  const plan = planSandbox({
    name: "t",
    profile: SandboxProfileSchema.parse({ write: ["$WORKSPACE"], deny_read: [creds, join(dir, "absent")] }),
    workspace: ws,
    tmp: join(dir, "tmp"),
    cwd: ws,
    home: dir,
    protect: [home, join(home, "agent.sock"), join(ws, "alias-of-home")],
  });

  it("hides the agent's state (and where a symlink to it leads) after the write roots are bound", () => {
    expect(plan.write).toEqual([ws]);
    const hidden = plan.hide.map((h) => h.path);
    expect(hidden).toContain(home);
    expect(hidden).toContain(creds);
    expect(hidden).not.toContain(join(dir, "absent"));
    // The socket is inside the hidden home: one hide covers both.
    expect(hidden).not.toContain(join(home, "agent.sock"));
    const a = bwrapArgs(plan);
    const bind = a.indexOf("--bind");
    const hideHome = a.findIndex((x, i) => x === home && a[i - 1] === "--tmpfs");
    expect(bind).toBeGreaterThan(-1);
    expect(hideHome).toBeGreaterThan(bind);
    for (const f of [
      "--unshare-user",
      "--unshare-pid",
      "--unshare-net",
      "--die-with-parent",
      "--new-session",
    ])
      expect(a).toContain(f);
    expect(a.at(-1)).toBe("--");
  });

  it("open network shares the host's; limits become prlimit flags", () => {
    const open = bwrapArgs({ ...plan, network: { mode: "open", hosts: [] } });
    expect(open).not.toContain("--unshare-net");
    expect(prlimitArgs(plan)).toEqual(
      expect.arrayContaining(["--nproc=256", `--as=${2 ** 31}`, "--cpu=60", "--"]),
    );
  });

  it("limits become ulimit commands in the host sh's dialect, checked against /proc/self/limits", () => {
    expect(ulimitScript(plan.limits, { processes: "-p", fileBlock: 512 })).toBe(
      "ulimit -t 60 && ulimit -v 2097152 && ulimit -p 256 && ulimit -n 1024 && ulimit -f 2097152",
    );
    expect(ulimitScript(plan.limits, { processes: "-u", fileBlock: 1024 })).toContain(
      "ulimit -u 256 && ulimit -n 1024 && ulimit -f 1048576",
    );
    const rows = (as: string) =>
      [
        "Limit                     Soft Limit           Hard Limit           Units     ",
        "Max cpu time              60                   60                   seconds   ",
        "Max file size             1073741824           1073741824           bytes     ",
        "Max processes             256                  256                  processes ",
        "Max open files            1024                 1024                 files     ",
        `Max address space         ${as}           2147483648           bytes     `,
      ].join("\n");
    expect(limitsShow(rows("2147483648"), plan.limits)).toBe(true);
    expect(limitsShow(rows("unlimited"), plan.limits)).toBe(false);
    expect(limitsShow(rows("2147483648").replace(/^Max processes.*$/m, ""), plan.limits)).toBe(false);
  });

  it("Seatbelt: deny by default, writes only to the roots, hidden paths denied last", () => {
    const sb = seatbeltProfile(plan);
    expect(sb.startsWith("(version 1)\n(deny default)\n")).toBe(true);
    expect(sb).toContain(`(subpath "${ws}")`);
    expect(sb).not.toContain("(allow network");
    const lines = sb.trim().split("\n");
    expect(lines.at(-1)).toMatch(/^\(deny file-read\* file-write\* /);
    expect(sb.indexOf(`(deny file-read* file-write* (subpath "${home}"))`)).toBeGreaterThan(
      sb.indexOf("(allow file-read*)"),
    );
    const proxied = seatbeltProfile({ ...plan, network: { mode: "allowlist", hosts: ["x.org"] } }, 3128);
    expect(proxied).toContain('(allow network-outbound (remote tcp "localhost:3128"))');
    expect(seatbeltProfile({ ...plan, write: ['/a"b'] })).toContain('(subpath "/a\\"b")');
  });
});

describe("secret redaction in excerpts", () => {
  it("cuts known formats and says what it cut", () => {
    const pem =
      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----";
    const text = [
      "ok",
      pem,
      "AKIAIOSFODNN7EXAMPLE",
      "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      `ghp_${"a".repeat(36)}`,
      "xoxb-1234567890-abcdefghij",
      `sk-proj-${"Z".repeat(40)}`,
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ].join("\n");
    const r = redactSecrets(text);
    for (const secret of [
      "b3BlbnNzaC1rZXk",
      "AKIAIOSFODNN7EXAMPLE",
      "wJalrXUtnFEMI",
      "ghp_",
      "xoxb-",
      "sk-proj-",
      "eyJhbGci",
    ])
      expect(r.text).not.toContain(secret);
    expect(r.text.startsWith("ok\n[REDACTED:pem-private-key]")).toBe(true);
    expect(r.text).toContain("aws_secret_access_key = [REDACTED:aws-secret-access-key]");
    expect(r.redacted.map((x) => x.kind).sort()).toEqual(
      [
        "aws-access-key-id",
        "aws-secret-access-key",
        "github-token",
        "jwt",
        "openai-key",
        "pem-private-key",
        "slack-token",
      ].sort(),
    );
  });

  it("a key cut off by the excerpt's end is redacted to the end; plain text is untouched", () => {
    expect(redactSecrets("x\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow").text).toBe(
      "x\n[REDACTED:pem-private-key]",
    );
    const plain = "src/index.ts: 42 lines\nsk-short\n";
    expect(redactSecrets(plain)).toEqual({ text: plain, redacted: [] });
  });
});
