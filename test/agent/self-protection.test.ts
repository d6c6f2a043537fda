import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../support/wait.js";
import { CLI, callFromChild, REPO, shell, tempHome, tokenHeader, UdsClient } from "./helpers.js";

/**
 * Issue 10, driven as an attacker would: a real `forge-agent run` process with the default pack
 * in the `npm start` layout (policies/ and var/ inside the working directory), a real socket,
 * real child processes, `execute: true`. Each attack must not reach ALLOW, and nothing it aimed
 * at may change on disk.
 */

const work = tempHome("fa-attack-");
const home = join(work, "var");
const sock = join(home, "agent.sock");
const tokenFile = join(home, "review.token");
const policyFile = join(work, "policies", "default.yaml");
let daemon: ChildProcess;
let out = "";
let client: UdsClient;
let agentPid: number;
/** A loopback HTTP server standing in for the collector (its review API) and one for "any local service". */
let collector: Server;
let other: Server;
const hits: string[] = [];

function listen(s: Server): Promise<number> {
  return new Promise((r) => s.listen(0, "127.0.0.1", () => r((s.address() as AddressInfo).port)));
}

/** Proposes from a child process (the attacker is not the test), with execute:true where an executor exists. */
async function attack(action: Record<string, unknown>, session = "attack") {
  const r = await callFromChild(sock, "POST", "/v1/actions", {
    session_id: session,
    proposed_action: action,
    execute: action.kind !== "tool",
  });
  expect({ status: r.status, error: r.body?.error }).toEqual({ status: 200, error: undefined });
  return r.body as {
    action_id: string;
    evaluation: string;
    state: string;
    reasons: string[];
    policy_matched: { rules: { rule_id: string }[] };
  };
}

beforeAll(async () => {
  if (!existsSync(join(REPO, "dist", "src", "agent", "daemon.js"))) {
    execFileSync("npx", ["tsc", "-p", "."], { cwd: REPO, stdio: "ignore" });
  }
  mkdirSync(join(work, "policies"), { recursive: true });
  cpSync(join(REPO, "policies", "default.yaml"), policyFile);
  writeFileSync(join(work, "README"), "hello\n");
  collector = createServer((req, res) => {
    // The agent's own shipper dials the collector (a WebSocket upgrade): that is not an attack.
    if (req.headers.upgrade !== undefined) return void res.writeHead(426).end();
    hits.push(`collector ${req.method} ${req.url}`);
    res.writeHead(404).end();
  });
  other = createServer((req, res) => {
    hits.push(`other ${req.method} ${req.url}`);
    res.writeHead(200).end("ok");
  });
  const cport = await listen(collector);
  await listen(other);
  writeFileSync(
    join(work, "config.yaml"),
    `home: var\npolicy: policies/default.yaml\nbackend: none\nhost_id: attack\ncollector_url: ws://127.0.0.1:${cport}\n`,
  );
  daemon = spawn(process.execPath, [CLI, "run", "--config", "config.yaml"], {
    cwd: work,
    stdio: ["ignore", "pipe", "pipe"],
  });
  daemon.stdout!.on("data", (c: Buffer) => (out = (out + c.toString()).slice(-20_000)));
  daemon.stderr!.on("data", (c: Buffer) => (out = (out + c.toString()).slice(-20_000)));
  client = new UdsClient(sock);
  const h = await until(
    async () => {
      if (daemon.exitCode !== null) throw new Error(`daemon exited: ${out}`);
      const r = await client.get("/v1/health");
      return r.status === 200 ? r.body : null;
    },
    "the daemon answers /v1/health",
    30_000,
  );
  agentPid = h.pid;
  // The shipper's own connection attempts are not attacks.
  hits.length = 0;
});

afterAll(async () => {
  client?.close();
  if (daemon && daemon.exitCode === null) {
    const exited = new Promise((r) => daemon.once("exit", r));
    daemon.kill("SIGKILL");
    await exited;
  }
  collector?.close();
  other?.close();
  rmSync(work, { recursive: true, force: true });
});

describe("finding 1: self-approval", () => {
  it("curl --unix-socket to the agent, nc -U, socat and a script naming the socket are DENY", async () => {
    const esc = await attack(shell("some-unknown-tool --do-things"));
    expect(esc.state).toBe("escalated");
    const body = JSON.stringify({ decision: "approve" });
    for (const cmd of [
      `curl --unix-socket ${sock} -X POST -d '${body}' http://localhost/v1/reviews/${esc.action_id}`,
      `curl --unix-socket var/agent.sock -d '${body}' http://x/v1/reviews/${esc.action_id}`,
      `printf 'POST /v1/reviews/${esc.action_id} HTTP/1.0\\r\\n\\r\\n' | nc -U ${sock}`,
      `socat - UNIX-CONNECT:${sock}`,
      `python3 -c "import socket; s=socket.socket(socket.AF_UNIX); s.connect('${sock}')"`,
    ]) {
      const r = await attack(shell(cmd));
      expect({ cmd, evaluation: r.evaluation }).toEqual({ cmd, evaluation: "DENY" });
    }
    const w = await attack({
      kind: "file.write",
      path: "r.js",
      content: `require("http").request({socketPath: "${sock}"})`,
    });
    expect(w.evaluation).toBe("DENY");
    expect(existsSync(join(work, "r.js"))).toBe(false);
    expect((await client.get(`/v1/actions/${esc.action_id}`)).body.state).toBe("escalated");
  });

  it("the proposer cannot approve its own action, even holding the review token", async () => {
    const esc = await attack(shell("some-unknown-tool --again"));
    // The same child process proposes, then approves, in one connection's lifetime.
    const script = `
      const http = require("node:http");
      const call = (method, path, body, headers) => new Promise((res) => {
        const r = http.request({ socketPath: ${JSON.stringify(sock)}, method, path, headers }, (x) => {
          let s = ""; x.on("data", (c) => (s += c)); x.on("end", () => res({ status: x.statusCode, body: JSON.parse(s) }));
        });
        r.end(body ? JSON.stringify(body) : "");
      });
      (async () => {
        const p = await call("POST", "/v1/actions", { session_id: "self", proposed_action: { kind: "shell", command: "some-unknown-tool x" }, execute: true });
        const a = await call("POST", "/v1/reviews/" + p.body.action_id, { decision: "approve" }, ${JSON.stringify(tokenHeader(tokenFile))});
        process.stdout.write(JSON.stringify({ p: p.body, a }));
      })();`;
    const r = JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" }));
    expect(r.p.state).toBe("escalated");
    expect(r.a.status).toBe(403);
    expect(r.a.body.error.code).toBe("FORGE_SELF_REVIEW");
    expect((await client.get(`/v1/actions/${r.p.action_id}`)).body.state).toBe("escalated");
    expect((await client.get(`/v1/actions/${esc.action_id}`)).body.state).toBe("escalated");
  });

  it("an executed action that reaches the socket anyway (an obfuscated script) cannot review: it descends from the agent", async () => {
    const esc = await attack(shell("some-unknown-tool --third"));
    // The path and the token file are assembled at run time, so the gate cannot see them (the
    // sandbox is what hides them: sp-exec); the review API still refuses the executed child.
    const js = [
      'const p = require("path"); const d = p.join(process.cwd(), "v" + "ar");',
      'const t = require("fs").readFileSync(p.join(d, "review" + ".tok" + "en"), "utf8").trim();',
      `const r = require("http").request({ socketPath: p.join(d, "agent" + ".so" + "ck"), method: "POST", path: "/v1/reviews/${esc.action_id}", headers: { "x-forge-review-token": t } }, (x) => { let s = ""; x.on("data", (c) => (s += c)); x.on("end", () => console.log(x.statusCode, s)); });`,
      'r.end(JSON.stringify({ decision: "approve" }));',
    ].join("\n");
    // The script already in the workspace (not written through the gate), before this session has
    // written anything there: the pack allows `node x.js`, so this exercises the review API's own
    // defence. (Once the session has written a script that uses the network, running the project's
    // code is reviewed: gate34's capability tables, below.)
    writeFileSync(join(work, "sneak2.js"), js);
    const run = await attack(shell("node sneak2.js"));
    expect(run.evaluation).toBe("ALLOW");
    const res = (await client.get(`/v1/actions/${run.action_id}`)).body.execution_result;
    // Two defences stand here: the sandbox hides var/ (the token and the socket are not there to
    // read: ENOENT), and were it off, the review API refuses a reviewer under an executed action
    // (403 FORGE_SELF_REVIEW). Either way the escalation stays undecided.
    const out = `${res.stdout.excerpt}\n${res.stderr.excerpt}`;
    expect(out).toMatch(/ENOENT|FORGE_SELF_REVIEW/);
    expect(res.stdout.excerpt).not.toMatch(/^200/m);
    const w = await attack({ kind: "file.write", path: "sneak.js", content: js });
    expect(w.evaluation).toBe("ALLOW");
    // Written by this session through the gate, the script is a session artefact: running it is
    // reviewed (issue 19), the first defence; so is running any of the project's code beside it.
    const tainted = await attack(shell("node sneak.js"));
    expect(tainted.evaluation).toBe("ESCALATE");
    expect(tainted.reasons.join("\n")).toMatch(/session-artefact: .*sneak\.js/);
    expect((await attack(shell("node sneak2.js"))).evaluation).toBe("ESCALATE");
    expect((await client.get(`/v1/actions/${esc.action_id}`)).body.state).toBe("escalated");
  });
});

describe("finding 6: SSRF", () => {
  it("the collector's review API is DENY in every spelling; other loopback services escalate", async () => {
    const cport = (collector.address() as AddressInfo).port;
    const oport = (other.address() as AddressInfo).port;
    for (const host of [
      "127.0.0.1",
      "0x7f000001",
      "2130706433",
      "127.1",
      "[::ffff:127.0.0.1]",
      "localhost",
    ]) {
      const url = `http://${host}:${cport}/v1/reviews/x`;
      const r = await attack({ kind: "http", method: "POST", url, body: '{"decision":"approve"}' });
      expect({ url, evaluation: r.evaluation }).toEqual({ url, evaluation: "DENY" });
      const c = await attack(shell(`curl -s -X POST http://${host}:${cport}/v1/reviews/x`));
      expect({ url, evaluation: c.evaluation }).toEqual({ url, evaluation: "DENY" });
    }
    // (Before the secret-reading attacks below: their labels would make any network step DENY.)
    const g = await attack({ kind: "http", method: "GET", url: `http://0x7f000001:${oport}/` }, "ssrf-clean");
    expect(g.evaluation).toBe("ESCALATE");
    expect(g.policy_matched.rules.map((m) => m.rule_id)).toContain("builtin:internal-address");
    const md = await attack({ kind: "http", method: "GET", url: "http://169.254.169.254/latest/meta-data/" });
    expect(md.evaluation).toBe("DENY");
    expect(hits).toEqual([]);
  });
});

describe("finding 2: write, chmod, run", () => {
  it("a program written into the workspace is not a read-only tool, and PATH in env is DENY", async () => {
    const marker = join(work, "pwned");
    const evil = `#!/bin/sh\ntouch ${marker}\n`;
    expect((await attack({ kind: "file.write", path: "x/cat", content: evil })).evaluation).toBe("ALLOW");
    expect((await attack(shell("chmod +x x/cat"))).evaluation).not.toBe("DENY");
    const run = await attack(shell(`${work}/x/cat README`));
    expect(run.evaluation).toBe("ESCALATE");
    expect(run.policy_matched.rules.map((m) => m.rule_id)).toContain("builtin:untrusted-program");
    const viaPath = await attack(shell("cat README", { env: { PATH: join(work, "x") } }));
    expect(viaPath.evaluation).toBe("DENY");
    expect(viaPath.reasons.join(" ")).toContain("env-injection: 'PATH'");
    const inline = await attack(shell(`PATH=${join(work, "x")} cat README`));
    expect(inline.evaluation).toBe("ESCALATE");
    for (const env of [{ LD_PRELOAD: "/tmp/x.so" }, { BASH_ENV: "x/cat" }, { GIT_SSH_COMMAND: "x/cat" }]) {
      expect((await attack(shell("ls", { env }))).evaluation).toBe("DENY");
    }
    expect(existsSync(marker)).toBe(false);
  });
});

describe("findings 3, 5, 7: protected resources", () => {
  it("no action rewrites the policy, signals the agent, or touches its evidence, keys, token or /proc", async () => {
    const policyBefore = readFileSync(policyFile, "utf8");
    const dbBefore = statSync(join(home, "evidence.db")).size;
    const cases: Record<string, unknown>[] = [
      { kind: "file.write", path: "policies/default.yaml", content: "defaults: {effect: allow}\n" },
      { kind: "file.write", path: `${work}/./policies//default.yaml`, content: "x" },
      shell("echo 'defaults: {effect: allow}' > policies/default.yaml"),
      shell("sed -i s/deny/allow/ policies/default.yaml"),
      shell(`kill -HUP ${agentPid}`),
      shell(`kill -9 ${agentPid}`),
      shell("kill -HUP $PPID"),
      shell("pkill -f forge-agent"),
      shell(`strace -p ${agentPid}`),
      shell(`gdb -p ${agentPid}`),
      shell(`cat /proc/${agentPid}/environ`),
      { kind: "file.read", path: `/proc/${agentPid}/cmdline` },
      { kind: "file.read", path: `/proc/self/root${home}/keys/host-ed25519.key` },
      { kind: "file.delete", path: "var/evidence.db" },
      { kind: "file.delete", path: "var/evidence.db-wal" },
      { kind: "file.read", path: "var/keys/host-ed25519.key" },
      { kind: "file.read", path: "var/review.token" },
      shell("cat var/../var/review.token"),
      shell("rm -rf var"),
      shell("mv var old"),
      shell("cat config.yaml"),
      { kind: "tool", name: "read_file", arguments: { path: `${home}/evidence.db` } },
    ];
    for (const a of cases) {
      const r = await attack(a);
      expect({ a, evaluation: r.evaluation, reasons: r.evaluation === "DENY" ? [] : r.reasons }).toEqual({
        a,
        evaluation: "DENY",
        reasons: [],
      });
    }
    expect(readFileSync(policyFile, "utf8")).toBe(policyBefore);
    expect(statSync(join(home, "evidence.db")).size).toBeGreaterThanOrEqual(dbBefore);
    expect(existsSync(join(home, "keys"))).toBe(true);
    expect(daemon.exitCode).toBeNull();
    expect((await client.get("/v1/health")).body.pid).toBe(agentPid);
    // With the pack rewritten on disk anyway (by the operator), SIGHUP does not widen it: a reviewer must.
    writeFileSync(
      policyFile,
      policyBefore.replace("effect: escalate\n  risk_threshold", "effect: allow\n  risk_threshold"),
    );
    const before = (await client.get("/v1/health")).body.policy;
    daemon.kill("SIGHUP");
    // (Refused either as widening or because the pack's own tests fail under an allow default.)
    await until(
      () => out.includes("allows more than the running one") || out.includes("keeping the previous policy"),
      "the reload is refused",
    );
    expect((await client.get("/v1/health")).body.policy).toEqual(before);
    writeFileSync(policyFile, policyBefore);
  });
});

describe("finding 4: symlinks", () => {
  it("ln -s is judged against the link's directory, and no link is made", async () => {
    mkdirSync(join(work, "a/b/c/d/e"), { recursive: true });
    const r = await attack(shell("cd a/b/c/d/e && ln -s ../../../../../../../../.. esc"));
    expect(r.evaluation).toBe("DENY");
    expect(existsSync(join(work, "a/b/c/d/e/esc"))).toBe(false);
    expect((await attack(shell(`ln -s ${home} v2`))).evaluation).toBe("DENY");
    expect((await attack(shell("cat /proc/self/root/etc/shadow"))).evaluation).toBe("DENY");
  });
});

describe("finding 8 and ALLOW-without-record: bounded proposals", () => {
  it("rejects deep nesting and non-finite numbers with a 400 before any verdict; innocent proposals are unaffected", async () => {
    // Built as text: JSON.stringify itself overflows on 5,000 levels.
    const deep = `${"[".repeat(5000)}1${"]".repeat(5000)}`;
    const raw = (args: string) =>
      `{"session_id":"b","execute":true,"proposed_action":{"kind":"tool","name":"read_file","arguments":${args}}}`;
    const innocent = Array.from({ length: 20 }, (_, i) =>
      client.post("/v1/actions", { session_id: `ok-${i}`, proposed_action: shell("echo ok") }),
    );
    const tooDeep = await client.call("POST", "/v1/actions", raw(`{"x":${deep}}`));
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.body.error.code).toBe("FORGE_INPUT_TOO_DEEP");
    const inf = await client.call("POST", "/v1/actions", raw('{"n":1e400}'));
    expect(inf.status).toBe(400);
    expect(inf.body.error.code).toBe("FORGE_INPUT_UNENCODABLE");
    for (const r of await Promise.all(innocent)) expect(r.body).toMatchObject({ recorded: true });
  });
});
