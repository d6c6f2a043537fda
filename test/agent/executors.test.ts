import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ActionSandbox,
  type ExecutionResult,
  type ExecutorLimits,
  execute as run,
} from "../../src/agent/executors/index.js";
import { Sandbox } from "../../src/agent/sandbox/index.js";
import type { Action } from "../../src/gate/actions.js";
import { SandboxProfileSchema } from "../../src/gate/sandbox-profile.js";
import { until } from "../support/wait.js";

const dir = mkdtempSync(join(tmpdir(), "fa-exec-"));
const limits: ExecutorLimits = {
  cwd: dir,
  shell_timeout_ms: 5_000,
  excerpt_bytes: 16,
  max_output_bytes: 1 << 20,
  http_timeout_ms: 2_000,
  http_max_bytes: 1024,
  file_max_bytes: 1 << 20,
  base_env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, LANG: "C.UTF-8" },
  file_timeout_ms: 5_000,
};
// These tests are about the executors themselves: shell runs unconfined (recorded as such; the
// sandbox has its own tests in sandbox.test.ts), http may reach the test's loopback server.
const unconfined = new Sandbox(
  {
    engine: "off",
    bwrap_path: "/usr/bin/bwrap",
    prlimit_path: "/usr/bin/prlimit",
    on_unavailable: "unconfined",
  },
  { workspace: dir, home: dir, protect: [] },
);
const box: ActionSandbox = {
  sandbox: unconfined,
  name: "test",
  profile: SandboxProfileSchema.parse({ network: { mode: "allowlist", hosts: ["127.0.0.1"] } }),
};
const execute = (a: Action, l: ExecutorLimits): Promise<ExecutionResult> => run(a, l, box);
const sha256 = (b: string | Buffer) => createHash("sha256").update(b).digest("hex");

/** Gone, or a zombie waiting for init: either way no longer running. */
function notRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("shell executor", () => {
  it("runs in cwd, hashes all output and keeps a bounded excerpt", async () => {
    const r = await execute({ kind: "shell", command: "pwd; head -c 5000 /dev/zero | tr '\\0' a" }, limits);
    expect(r.status).toBe("ok");
    const out = r.stdout as { sha256: string; bytes: number; excerpt: string; truncated: boolean };
    const expected = `${dir}\n${"a".repeat(5000)}`;
    expect(out.bytes).toBe(Buffer.byteLength(expected));
    expect(out.sha256).toBe(sha256(expected));
    expect(out.excerpt).toBe(expected.slice(0, 16));
    expect(out.truncated).toBe(true);
  });

  it("kills the whole process group on timeout, grandchildren included", async () => {
    const pidFile = join(dir, "grandchild.pid");
    const r = await execute(
      { kind: "shell", command: `sleep 30 & echo $! > ${pidFile}; wait` },
      { ...limits, shell_timeout_ms: 300 },
    );
    expect(r).toMatchObject({ status: "timeout", timed_out: true, signal: "SIGKILL" });
    const pid = Number(readFileSync(pidFile, "utf8"));
    const gone = await until(() => notRunning(pid), "the grandchild to be gone", 10_000).catch(() => false);
    expect(gone).toBe(true);
  });

  it("kills a command whose output passes max_output_bytes", async () => {
    const r = await execute({ kind: "shell", command: "yes" }, { ...limits, max_output_bytes: 100_000 });
    expect(r.status).not.toBe("ok");
    expect(r.output_limit_exceeded).toBe(true);
  });

  it("reports a spawn failure (missing cwd) as an error result, never a throw", async () => {
    const r = await execute({ kind: "shell", command: "true", cwd: join(dir, "nope") }, limits);
    expect(r.status).toBe("error");
    expect((r.error as { code: string }).code).toBe("FORGE_EXEC_SPAWN");
  });
});

describe("file executors", () => {
  it("writes, reads and deletes, checking content_sha256", async () => {
    const w = await execute({ kind: "file.write", path: "a.txt", content: "hello" }, limits);
    expect(w).toMatchObject({ status: "ok", bytes: 5, sha256: sha256("hello"), path: join(dir, "a.txt") });
    const bad = await execute(
      { kind: "file.write", path: "b.txt", content: "x", content_sha256: sha256("y") },
      limits,
    );
    expect(bad.status).toBe("error");
    expect(existsSync(join(dir, "b.txt"))).toBe(false);
    const r = await execute({ kind: "file.read", path: join(dir, "a.txt") }, limits);
    expect(r.content).toMatchObject({ sha256: sha256("hello"), bytes: 5, excerpt: "hello" });
    const d = await execute({ kind: "file.delete", path: "a.txt" }, limits);
    expect(d.status).toBe("ok");
    expect(existsSync(join(dir, "a.txt"))).toBe(false);
    const missing = await execute({ kind: "file.read", path: "a.txt" }, limits);
    expect(missing).toMatchObject({ status: "failed", error: { code: "FORGE_EXEC_ENOENT" } });
  });

  it("refuses files over file_max_bytes", async () => {
    writeFileSync(join(dir, "big"), Buffer.alloc(2048));
    const r = await execute({ kind: "file.read", path: "big" }, { ...limits, file_max_bytes: 1024 });
    expect(r).toMatchObject({ status: "error", error: { code: "FORGE_EXEC_TOO_LARGE" } });
  });
});

describe("http executor", () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === "/big") res.end(Buffer.alloc(10_000, 1));
      else if (req.url === "/slow") setTimeout(() => res.end("late"), 3_000);
      else res.end(`you sent ${req.method}`);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const a = server.address() as { port: number };
    base = `http://127.0.0.1:${a.port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it("records status and a hashed, bounded body", async () => {
    const r = await execute({ kind: "http", method: "POST", url: `${base}/x`, body: "hi" }, limits);
    expect(r).toMatchObject({ status: "ok", status_code: 200 });
    expect(r.body).toMatchObject({
      sha256: sha256("you sent POST"),
      bytes: 13,
      excerpt: "you sent POST".slice(0, 16),
    });
  });

  it("stops reading past http_max_bytes", async () => {
    const r = await execute({ kind: "http", method: "GET", url: `${base}/big` }, limits);
    expect(r).toMatchObject({ status: "failed", size_limit_exceeded: true });
  });

  it("times out", async () => {
    const r = await execute(
      { kind: "http", method: "GET", url: `${base}/slow` },
      { ...limits, http_timeout_ms: 200 },
    );
    expect(r).toMatchObject({ status: "timeout", timed_out: true });
  });
});
