import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { canonicalHost, classifyHost } from "../../src/gate/hosts.js";
import {
  defaultPolicyPath,
  Gate,
  initGate,
  loadPolicy,
  loadPolicyText,
  type PolicyBundle,
} from "../../src/gate/index.js";
import type { ProtectedResources } from "../../src/gate/protect.js";
import { wideningReasons } from "../../src/gate/widening.js";

/**
 * The built-in self-protection rules at the gate level (fast): the default pack, an agent whose
 * workspace is /w with its state in /w/var (the `npm start` layout), pid 4242.
 */
const W = "/w";
const HOME = "/home/dev";
const PROTECT: ProtectedResources = {
  paths: [
    `${W}/var`,
    `${W}/var/agent.sock`,
    `${W}/var/evidence.db*`,
    `${W}/policies/default.yaml`,
    `${W}/config.yaml`,
  ],
  readOnly: ["/opt/forge/dist"],
  names: ["agent.sock", "review.token"],
  pids: [4242],
  pgids: [4240],
  processNames: ["forge-agent", "node"],
  endpoints: [{ host: "127.0.0.1", port: 7777 }],
};
/** What must stay out of reach, absolute. */
const TARGETS = [
  `${W}/var/agent.sock`,
  `${W}/var/evidence.db`,
  `${W}/var/evidence.db-wal`,
  `${W}/var/keys/host-ed25519.key`,
  `${W}/var/review.token`,
  `${W}/var/policy/active.json`,
  `${W}/policies/default.yaml`,
  `${W}/config.yaml`,
  "/proc/4242/environ",
  "/proc/4242/mem",
  "/proc/4242/task/4243/environ",
  "/proc/4243/environ",
];

let bundle: PolicyBundle;
const mk = () => new Gate(bundle, { home: HOME, cwd: W, protect: PROTECT });
beforeAll(async () => {
  await initGate();
  bundle = loadPolicy(defaultPolicyPath());
});

/** Every way of spelling `abs` that names the same file for the kernel, from the cwd `W`. */
function spellings(abs: string): fc.Arbitrary<string> {
  const segs = abs.split("/").filter(Boolean);
  return fc.oneof(
    fc.constant(abs),
    fc.constant(`/proc/self/root${abs}`),
    fc.constant(`/proc/1/root${abs}`),
    fc.constant(`/proc/thread-self/root/proc/self/root${abs}`),
    fc
      .integer({ min: 0, max: segs.length - 1 })
      .map((i) => `/${[...segs.slice(0, i), ".", ...segs.slice(i)].join("/")}`),
    fc
      .integer({ min: 0, max: segs.length - 1 })
      .map((i) => `/${[...segs.slice(0, i), "zz", "..", ...segs.slice(i)].join("//")}`),
    fc.constant(abs.startsWith(`${W}/`) ? abs.slice(W.length + 1) : abs),
    fc.constant(abs.startsWith(`${W}/`) ? `./${abs.slice(W.length + 1)}` : abs),
    fc.constant(abs.startsWith(`${W}/`) ? `../w/${abs.slice(W.length + 1)}` : abs),
  );
}

const target = fc.constantFrom(...TARGETS).chain(spellings);
const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/** One step aimed at a protected resource: write, chmod, run, link, read, signal, loopback HTTP. */
const attackStep: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  target.map((p) => ({ kind: "file.write", path: p, content: "x" })),
  target.map((p) => ({ kind: "file.read", path: p })),
  target.map((p) => ({ kind: "file.delete", path: p })),
  target.map((p) => ({ kind: "tool", name: "read_file", arguments: { path: p } })),
  fc
    .tuple(
      target,
      fc.constantFrom(
        "cat P",
        "head -c 10 P",
        "echo x > P",
        "echo x >> P",
        "tee P < /dev/null",
        "cp README P",
        "mv P /tmp/x",
        "sed -i s/a/b/ P",
        "chmod +x P",
        "chmod 777 P",
        "P",
        "sh P",
        "rm -f P",
        "ln -s P /tmp/link",
        "ln -s /tmp/x P",
        "curl --unix-socket P http://x/v1/reviews/1",
        "nc -U P",
        "socat - UNIX-CONNECT:P",
        "python3 -c 'open(\"P\").read()'",
        "cat <<EOF > x.py\nopen('P')\nEOF",
      ),
    )
    // A bare name as the command is looked up in PATH, not the cwd: run it as `./name`.
    .map(([p, t]) => [t === "P" && !p.includes("/") ? `./${p}` : p, t] as const)
    .map(([p, t]) => ({
      kind: "shell",
      command: t.replaceAll("P", t.includes("'") || t.includes("\n") ? p : q(p)),
    })),
  fc
    .constantFrom(
      "kill -HUP 4242",
      "kill -9 4242",
      "kill -- -4240",
      "kill -s TERM 4242",
      "kill -HUP $PPID",
      "kill $(pgrep node)",
      "pkill -f forge-agent",
      "killall node",
      "strace -p 4242",
      "gdb -p 4242",
      "gdb --pid=4242",
      "ltrace -p4242",
      "cat /proc/4242/cmdline",
      "ps eww",
    )
    .map((command) => ({ kind: "shell", command })),
  fc
    .tuple(
      fc.constantFrom(
        "127.0.0.1",
        "0x7f000001",
        "2130706433",
        "127.1",
        "0177.0.0.1",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "localhost",
        "0.0.0.0",
      ),
      fc.constantFrom("GET", "POST"),
    )
    .chain(([h, m]) =>
      fc.constantFrom(
        { kind: "http", method: m, url: `http://${h}:7777/v1/reviews/abc` },
        { kind: "shell", command: `curl -X ${m} http://${h}:7777/v1/reviews/abc` },
      ),
    ),
  fc.constantFrom(
    { kind: "http", method: "GET", url: "http://169.254.169.254/latest/meta-data/iam/" },
    { kind: "http", method: "GET", url: "http://[fd00:ec2::254]/latest/" },
    { kind: "http", method: "GET", url: "http://metadata.google.internal/computeMetadata/v1/" },
    { kind: "shell", command: "curl -s http://169.254.169.254/latest/meta-data/" },
  ),
);

/** Steps that are fine on their own, mixed in so a sequence looks like real work. */
const benign: fc.Arbitrary<Record<string, unknown>> = fc.constantFrom(
  { kind: "shell", command: "git status" },
  { kind: "shell", command: "ls -la src" },
  { kind: "file.write", path: "src/a.ts", content: "x" },
  { kind: "shell", command: "chmod +x build/run.sh" },
  { kind: "shell", command: "ln -s ../lib/x.so build/x.so" },
  { kind: "http", method: "GET", url: "https://registry.npmjs.org/x" },
);

describe("built-in self-protection", () => {
  it("property: no multi-step sequence over the protected resources reaches ALLOW; each aimed step is DENY", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), attackStep, benign), { minLength: 1, maxLength: 12 }),
        fc.string({ minLength: 1, maxLength: 8 }),
        (steps, session) => {
          const g = mk();
          for (const [withBenign, a, b] of steps) {
            if (withBenign) g.evaluate({ session_id: session, action: b });
            const d = g.evaluate({ session_id: session, action: a });
            if (d.evaluation === "ALLOW") throw new Error(`ALLOW: ${JSON.stringify(a)}`);
            // A pid only known at run time (`kill $(pgrep node)`) can only be escalated, not proven.
            const aimed = !String(a.command ?? "").includes("$(");
            if (aimed && d.evaluation !== "DENY")
              throw new Error(`${d.evaluation} (not DENY): ${JSON.stringify(a)}: ${d.reasons.join("; ")}`);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("a policy cannot allow what the built-ins deny: an allow-everything pack still denies them", () => {
    const open = loadPolicyText(
      "bundle: {id: open, version: 1}\ndefaults: {effect: allow}\nrules:\n  - {id: all, match: {kind: [shell, file.read, file.write, file.delete, http, tool]}, effect: allow}\n",
      "open.yaml",
    );
    const g = new Gate(open, { home: HOME, cwd: W, protect: PROTECT });
    const ev = (action: unknown) => g.evaluate({ session_id: "o", action });
    expect(ev({ kind: "shell", command: "echo hi" }).evaluation).toBe("ALLOW");
    expect(ev({ kind: "file.read", path: "var/keys/host-ed25519.key" }).evaluation).toBe("DENY");
    expect(ev({ kind: "shell", command: "kill -HUP 4242" }).evaluation).toBe("DENY");
    expect(ev({ kind: "http", method: "POST", url: "http://0x7f000001:7777/v1/reviews/x" }).evaluation).toBe(
      "DENY",
    );
    expect(ev({ kind: "http", method: "GET", url: "http://10.1.2.3/" }).evaluation).toBe("ESCALATE");
    expect(ev({ kind: "shell", command: "/tmp/x/cat README" }).evaluation).toBe("ESCALATE");
    expect(ev({ kind: "shell", command: "ls", env: { PATH: "/tmp/x" } }).evaluation).toBe("DENY");
    const d = ev({ kind: "file.delete", path: "var/evidence.db-shm" });
    expect(d.evaluation).toBe("DENY");
    expect(d.policy_matched.map((m) => m.rule_id)).toContain("builtin:protected-resource");
    expect(d.reasons.join(" ")).toContain("the agent's own state");
  });

  it("ln -s is judged where the kernel resolves the target: against the link's directory", () => {
    const g = mk();
    const ev = (command: string) => g.evaluate({ session_id: "l", action: { kind: "shell", command } });
    // From the cwd this climbs to /, but the kernel resolves it from a/b (the link's directory).
    expect(ev("ln -s ../../var/review.token a/b/t").evaluation).toBe("DENY");
    expect(ev("ln -s ../../../../../.. /tmp/a/b/c/esc").evaluation).toBe("DENY");
    expect(ev("cd /tmp/a/b/c/d/e && ln -s ../../../../../.. esc").evaluation).toBe("DENY");
  });

  it("the agent's code is read-only: reading is fine, changing it is DENY", () => {
    const g = mk();
    const ev = (action: unknown) => g.evaluate({ session_id: "c", action }).evaluation;
    expect(ev({ kind: "shell", command: "cat /opt/forge/dist/src/gate/gate.js" })).not.toBe("DENY");
    expect(ev({ kind: "file.write", path: "/opt/forge/dist/src/gate/gate.js", content: "x" })).toBe("DENY");
    expect(ev({ kind: "shell", command: "sed -i s/deny/allow/ /opt/forge/dist/src/gate/gate.js" })).toBe(
      "DENY",
    );
    expect(ev({ kind: "shell", command: "rm -rf /opt/forge" })).toBe("DENY");
  });
});

describe("hosts: one canonical form and one classifier", () => {
  it("every spelling of loopback is loopback; metadata, private, link-local and public are told apart", () => {
    for (const h of [
      "127.0.0.1",
      "0x7f000001",
      "2130706433",
      "127.1",
      "0177.0.0.1",
      "::1",
      "[::1]",
      "::ffff:127.0.0.1",
      "[::ffff:7f00:1]",
      "localhost",
      "LOCALHOST.",
      "app.localhost",
      "0:0:0:0:0:0:0:1",
    ])
      expect({ h, c: classifyHost(h) }).toEqual({ h, c: "loopback" });
    for (const h of [
      "169.254.169.254",
      "fd00:ec2::254",
      "[fd00:ec2::254]",
      "metadata.google.internal",
      "0xa9fea9fe",
    ])
      expect({ h, c: classifyHost(h) }).toEqual({ h, c: "metadata" });
    for (const h of [
      "10.0.0.1",
      "172.16.5.4",
      "192.168.1.1",
      "fc00::1",
      "::ffff:10.0.0.1",
      "100.64.0.1",
      "printer.local",
    ])
      expect({ h, c: classifyHost(h) }).toEqual({ h, c: "private" });
    for (const h of ["169.254.1.1", "fe80::1"])
      expect({ h, c: classifyHost(h) }).toEqual({ h, c: "link-local" });
    for (const h of ["0.0.0.0", "0", "::"])
      expect({ h, c: classifyHost(h) }).toEqual({ h, c: "unspecified" });
    for (const h of ["93.184.216.34", "2606:2800:220:1::"]) expect(classifyHost(h)).toBe("public");
    expect(classifyHost("example.com")).toBe("name");
    expect(canonicalHost("0x7f000001")).toBe("127.0.0.1");
    expect(canonicalHost("[::FFFF:127.0.0.1]")).toBe("::ffff:7f00:1");
  });

  it("property: any 32-bit address in decimal, hex or dotted form classifies like its dotted quad", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (n) => {
        const quad = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
        const c = classifyHost(quad);
        expect(classifyHost(String(n))).toBe(c);
        expect(classifyHost(`0x${n.toString(16)}`)).toBe(c);
        expect(classifyHost(`::ffff:${quad}`)).toBe(c);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("widening: what a reload may not do without a reviewer", () => {
  it("names a looser default, a removed deny, a weakened rule and a new allow; a stricter file widens nothing", () => {
    const base =
      "bundle: {id: p, version: 1}\ndefaults: {effect: escalate}\nrules:\n  - {id: d, match: {kind: shell, program: rm}, effect: deny}\n  - {id: a, match: {kind: shell, program: ls}, effect: allow}\n";
    const b = loadPolicyText(base, "p.yaml");
    const w = (text: string) => wideningReasons(b, loadPolicyText(text, "p.yaml"));
    expect(w(base)).toEqual([]);
    expect(w(`${base}  - {id: e, match: {kind: shell, program: dd}, effect: deny}\n`)).toEqual([]);
    expect(w(base.replace("effect: escalate", "effect: allow"))).toEqual([
      "the default effect goes from escalate to allow",
    ]);
    expect(w(base.replace("program: rm}, effect: deny", "program: rm}, effect: escalate"))).toEqual([
      "rule 'd' goes from deny to escalate",
    ]);
    expect(w(base.replace("program: rm}", "program: rmdir}"))).toEqual(["deny rule 'd' matches differently"]);
    expect(w(`${base}  - {id: n, match: {kind: shell, program: curl}, effect: allow}\n`)).toEqual([
      "allow rule 'n' is new",
    ]);
    expect(w(base.replace("  - {id: d, match: {kind: shell, program: rm}, effect: deny}\n", ""))).toEqual([
      "deny rule 'd' is removed",
    ]);
  });
});
