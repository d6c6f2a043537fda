import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURE_POLICY } from "../agent/helpers.js";
import {
  COLLECTOR_BIN,
  type CollectorProc,
  ensureBuilt,
  http,
  operatorsFile,
  startAgentProcess,
  startCollectorProcess,
  tempDir,
} from "./helpers.js";

/**
 * Issue 10 finding 5 and issue 20 (Files, Secrets off the command line, Sign-in), as a local user
 * or a password guesser would probe them: real collector and agent processes, real files.
 */

const mode = (p: string) => statSync(p).mode & 0o777;
const ALICE = "correct horse battery";
const BOB = "bob-password-42";

beforeAll(() => ensureBuilt(), 120_000);

describe("secrets stay off the command line, and are stored hashed", () => {
  it("refuses the old --operator flag with exit 2, naming the replacement", () => {
    const r = spawnSync(process.execPath, [COLLECTOR_BIN, "run", "--operator", "alice=secret-secret"], {
      encoding: "utf8",
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /--operator NAME=SECRET is gone.*operator add NAME --file FILE.*--operators-file FILE/,
    );
  });

  it("operator add reads the password from stdin and writes only its scrypt hash, 0600", () => {
    const dir = tempDir("fa-secrets-");
    const file = join(dir, "operators");
    const add = (name: string, password: string) =>
      spawnSync(process.execPath, [COLLECTOR_BIN, "operator", "add", name, "--file", file], {
        input: `${password}\n`,
        encoding: "utf8",
      });
    expect(add("alice", ALICE).status).toBe(0);
    expect(add("bob", "old-password").status).toBe(0);
    expect(add("bob", BOB).status).toBe(0); // replaces bob's line
    expect(add("carol", "short").status).toBe(2);
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain(ALICE);
    expect(
      text
        .trim()
        .split("\n")
        .map((l) => l.split(":")[0]),
    ).toEqual(["alice", "bob"]);
    expect(text).toMatch(/^alice:\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/m);
    expect(mode(file)).toBe(0o600);
  });
});

describe("a collector started with an operators file", () => {
  let dir: string;
  let c: CollectorProc;
  beforeAll(async () => {
    dir = tempDir("fa-secrets-");
    const file = join(dir, "operators");
    for (const [name, pw] of [
      ["alice", ALICE],
      ["bob", BOB],
    ] as const) {
      spawnSync(process.execPath, [COLLECTOR_BIN, "operator", "add", name, "--file", file], {
        input: `${pw}\n`,
      });
    }
    // An existing database another version left world-readable is tightened at open.
    writeFileSync(join(dir, "collector.db"), "");
    chmodSync(join(dir, "collector.db"), 0o644);
    c = await startCollectorProcess(dir, ["--operators-file", file]);
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  it("shows no secret in /proc/PID/cmdline, and keeps collector.db and its WAL files 0600", () => {
    const cmdline = readFileSync(`/proc/${c.child.pid}/cmdline`, "utf8");
    expect(cmdline).toContain("--operators-file");
    expect(cmdline).not.toContain(ALICE);
    expect(cmdline).not.toContain(BOB);
    for (const f of ["collector.db", "collector.db-wal", "collector.db-shm"])
      expect(mode(join(dir, f)), f).toBe(0o600);
  });

  it("locks an account out with backoff after 5 wrong passwords, records it, and a lockout is no oracle", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      statuses.push(
        (await http("POST", `${c.http}/v1/session`, { name: "alice", password: `guess-${i}` })).status,
      );
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    // The right password while locked: the same 429, with Retry-After.
    const locked = await http("POST", `${c.http}/v1/session`, { name: "alice", password: ALICE });
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe("FORGE_RATE_LIMITED");
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another account from the same source is not locked (the source allows 20 failures).
    const bob = await http("POST", `${c.http}/v1/session`, { name: "bob", password: BOB });
    expect(bob.status).toBe(200);
    const cookie = bob.headers.get("set-cookie")!.split(";")[0]!;
    const alerts = (await http("GET", `${c.http}/v1/alerts`, undefined, { cookie })).body.alerts;
    expect(alerts).toEqual([expect.objectContaining({ code: "sign-in-locked", host_id: null })]);
    expect(alerts[0].message).toMatch(/account alice/);
    const metrics = await (await fetch(`${c.http}/metrics`)).text();
    expect(metrics).toMatch(/forge_collector_sign_in_failures_total 5/);
  });

  it("locks a source out after 20 failures across accounts and bearer tokens", async () => {
    for (let i = 0; i < 12; i++)
      await http("POST", `${c.http}/v1/session`, { name: `nobody${i}`, password: "x".repeat(9) });
    let last = 0;
    for (let i = 0; i < 4; i++)
      last = (
        await http("GET", `${c.http}/v1/fleet`, undefined, { authorization: `Bearer wrong-token-${i}` })
      ).status;
    expect(last).toBe(429);
    expect((await http("POST", `${c.http}/v1/session`, { name: "bob", password: BOB })).status).toBe(429);
  });
});

describe("the agent's files", () => {
  it("creates evidence.db, its WAL files, the key and their directories private, and tightens old ones at open", async () => {
    const first = await startAgentProcess("files-host", { policy: FIXTURE_POLICY, backend: "none" });
    // The npm start layout: the agent's state is under <workspace>/var.
    const home = join(first.home, "var");
    const files = ["evidence.db", "evidence.db-wal", "evidence.db-shm", "keys/host-ed25519.key"];
    for (const f of files) expect(mode(join(home, f)), f).toBe(0o600);
    expect(mode(join(home, "keys"))).toBe(0o700);
    first.child.kill("SIGKILL");
    await new Promise((r) => first.child.once("exit", r));
    // As an older version (umask 022) left them.
    for (const f of ["evidence.db", "evidence.db-wal", "evidence.db-shm"]) chmodSync(join(home, f), 0o644);
    const again = await startAgentProcess(
      "files-host",
      { policy: FIXTURE_POLICY, backend: "none" },
      first.home,
    );
    try {
      for (const f of ["evidence.db", "evidence.db-wal", "evidence.db-shm"])
        expect(mode(join(home, f)), f).toBe(0o600);
    } finally {
      await again.stop();
    }
  });
});

describe("cross-site requests and reads from other hosts", () => {
  let dir: string;
  let c: CollectorProc;
  let open: CollectorProc;
  /** This machine's non-loopback IPv4 address: a request to it arrives from a non-loopback source. */
  const lan = Object.values(networkInterfaces())
    .flat()
    .find((i) => i !== undefined && i.family === "IPv4" && !i.internal)?.address;
  beforeAll(async () => {
    dir = tempDir("fa-csrf-");
    c = await startCollectorProcess(dir, [
      "--operators-file",
      operatorsFile(dir, [{ name: "alice", password: ALICE }]),
    ]);
    const openDir = tempDir("fa-open-");
    open = await startCollectorProcess(openDir, ["--listen", "0.0.0.0:0"], {
      FORGE_COLLECTOR_METRICS_TOKEN: "scrape-token-1",
    });
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
    await open?.stop();
  });

  it("refuses a post from another origin (another local port too), a text/plain body, and a cookie write without Origin", async () => {
    const evil = await http(
      "POST",
      `${c.http}/v1/session`,
      { name: "alice", password: ALICE },
      { origin: "http://127.0.0.1:9" },
    );
    expect(evil.status).toBe(403);
    expect(evil.body.error.message).toMatch(/cross-origin request refused/);
    const plain = await fetch(`${c.http}/v1/session`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({ name: "alice", password: ALICE }),
    });
    expect(plain.status).toBe(415);
    const own = new URL(c.http).origin;
    const ok = await http(
      "POST",
      `${c.http}/v1/session`,
      { name: "alice", password: ALICE },
      { origin: own },
    );
    expect(ok.status).toBe(200);
    const cookie = ok.headers.get("set-cookie")!.split(";")[0]!;
    expect(ok.headers.get("set-cookie")).toMatch(/HttpOnly; SameSite=Strict; Path=\//);
    const noOrigin = await http("POST", `${c.http}/v1/reviews/abc`, { decision: "approve" }, { cookie });
    expect(noOrigin.status).toBe(403);
    expect(noOrigin.body.error.message).toMatch(/must carry an Origin/);
    const sameOrigin = await http(
      "POST",
      `${c.http}/v1/reviews/abc`,
      { decision: "approve" },
      { cookie, origin: own },
    );
    expect(sameOrigin.status).toBe(404); // past the guards: there is no such review
  });

  it.skipIf(lan === undefined)(
    "without operators, answers reads on loopback only; /metrics off loopback needs the scrape token",
    async () => {
      const port = new URL(open.http).port;
      expect((await http("GET", `http://127.0.0.1:${port}/v1/fleet`)).status).toBe(200);
      const remote = await http("GET", `http://${lan}:${port}/v1/records`);
      expect(remote.status).toBe(401);
      expect(remote.body.error.message).toMatch(/loopback only/);
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
      expect((await fetch(`http://${lan}:${port}/metrics`)).status).toBe(401);
      const scraped = await fetch(`http://${lan}:${port}/metrics`, {
        headers: { authorization: "Bearer scrape-token-1" },
      });
      expect(scraped.status).toBe(200);
    },
  );
});
