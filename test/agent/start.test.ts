import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, tempDir } from "../fleet/helpers.js";
import { until } from "../support/wait.js";
import { REPO } from "./helpers.js";

/**
 * `npm start` twice in one workspace: the second meets the first's agent on the socket before it
 * meets its collector's port, and says so with the first one's pid and socket.
 */

const START = join(REPO, "scripts", "start.js");

function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("FORGE_")) out[k] = v;
  return { ...out, FORGE_BACKEND: "none", FORGE_LOG_LEVEL: "warn", ...extra };
}

describe("npm start, twice", () => {
  const cwd = tempDir("fa-start-");
  let first: ChildProcess;
  let out = "";
  let firstExit: Promise<number | null>;

  beforeAll(async () => {
    ensureBuilt();
    first = spawn(process.execPath, [START], {
      cwd,
      env: env({ FORGE_HOME: join(cwd, "var"), FORGE_COLLECTOR_LISTEN: "127.0.0.1:0" }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    first.stdout!.on("data", (c: Buffer) => (out += c.toString()));
    firstExit = new Promise((r) => first.once("exit", r));
    await until(() => /Ctrl-C stops/.test(out), "the first npm start to be up", 60_000);
  }, 90_000);

  afterAll(async () => {
    first?.kill("SIGTERM");
    await firstExit;
    rmSync(cwd, { recursive: true, force: true });
  });

  it("the second says an agent is already running (pid, socket), not that a port is taken", async () => {
    const dashboard = /dashboard: (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
    expect(dashboard).not.toBeNull();
    const port = new URL(dashboard![1]!).port;
    const socket = /^socket: +(.+)$/m.exec(out)![1]!;
    // The same collector port the first one holds: before, this was the error the user saw.
    const second = spawn(process.execPath, [START], {
      cwd,
      env: env({ FORGE_HOME: join(cwd, "var"), FORGE_COLLECTOR_LISTEN: `127.0.0.1:${port}` }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    second.stderr!.on("data", (c: Buffer) => (err += c.toString()));
    const code = await new Promise((r) => second.once("exit", r));
    expect(code).toBe(1);
    expect(err).toContain(
      `FORGE_AGENT_RUNNING: an agent is already running (pid ${first.pid}, socket ${socket})`,
    );
    expect(err).not.toMatch(/collector could not start/);
    expect(first.exitCode).toBeNull();
  });
});
