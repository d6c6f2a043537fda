import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { loadConfig } from "../../src/agent/config.js";
import { type AgentHandle, startAgent } from "../../src/agent/daemon.js";
import { until } from "../support/wait.js";

export const FIXTURE_POLICY = fileURLToPath(new URL("../fixtures/agent-policy.yaml", import.meta.url));
export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const CLI = join(REPO, "bin", "forge-agent.js");

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers by shape
  body: any;
  text: string;
}

/** A JSON client over a Unix socket, with keep-alive. */
export class UdsClient {
  readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });
  constructor(readonly socketPath: string) {}

  call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        { socketPath: this.socketPath, method, path, agent: this.agent, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, text });
          });
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }

  post(path: string, body: unknown) {
    return this.call("POST", path, body);
  }
  get(path: string) {
    return this.call("GET", path);
  }
  close() {
    this.agent.destroy();
  }
}

export function tempHome(prefix = "fa-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface TestAgent {
  agent: AgentHandle;
  /** The workspace: actions run here. The agent's state is under `agent.config.home`. */
  home: string;
  client: UdsClient;
  logs: string[];
  stop(): Promise<void>;
}

/**
 * Starts an agent in-process with the fixture policy and no inference backend, in the `npm start`
 * layout: `home` is the workspace (the actions' cwd), the agent's own state is `home/var` (a
 * protected resource no action may touch).
 */
export async function startTestAgent(
  config: Record<string, unknown> = {},
  home = tempHome(),
  level = "info",
): Promise<TestAgent> {
  const logs: string[] = [];
  const logger = pino({ level }, { write: (line: string) => void logs.push(line) });
  const cfg = loadConfig({
    object: { home: "var", policy: FIXTURE_POLICY, backend: "none", ...config },
    cwd: home,
    hostname: "test-host",
  });
  const agent = await startAgent(cfg, { logger });
  const client = new UdsClient(agent.socketPath);
  return {
    agent,
    home,
    client,
    logs,
    async stop() {
      client.close();
      await agent.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export const shell = (command: string, extra: Record<string, unknown> = {}) => ({
  kind: "shell",
  command,
  ...extra,
});

/**
 * Reviews `id` as a reviewer must: from another process (not the proposer, not under an executed
 * action), presenting the review token. Uses the real CLI.
 */
export function reviewAs(t: TestAgent, id: string, decision: "approve" | "deny", reason?: string) {
  return reviewCli(t.agent.socketPath, t.agent.config.review.token_file, id, decision, reason);
}

/** `forge-agent review approve|deny ID` as a separate process; never throws. */
export function reviewCli(
  socket: string,
  tokenFile: string,
  id: string,
  decision: "approve" | "deny",
  reason?: string,
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers by shape
): Promise<{ code: number; stdout: string; stderr: string; view: any }> {
  const args = [CLI, "review", decision, id, "--json", "--socket", socket, "--token-file", tokenFile];
  if (reason !== undefined) args.push("--reason", reason);
  return new Promise((resolve) => {
    execFile(process.execPath, args, { encoding: "utf8" }, (err, stdout, stderr) => {
      let view: unknown;
      try {
        view = JSON.parse(stdout);
      } catch {
        view = undefined;
      }
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr, view });
    });
  });
}

/** The token header for the review token file `path`. */
export function tokenHeader(path: string): Record<string, string> {
  return { "x-forge-review-token": readFileSync(path, "utf8").trim() };
}

/** The review token header, for tests that call reviewer routes directly. */
export function reviewHeaders(t: TestAgent): Record<string, string> {
  return tokenHeader(t.agent.config.review.token_file);
}

/** Waits until an escalation of `session_id` is in the review queue; resolves with it. */
export async function pendingReview(
  t: TestAgent,
  session_id: string,
  label: string,
): Promise<{ action_id: string; session_id: string }> {
  return await until(async () => {
    const r = (await t.client.call("GET", "/v1/reviews", undefined, reviewHeaders(t))).body.reviews as {
      action_id: string;
      session_id: string;
    }[];
    return r.find((x) => x.session_id === session_id);
  }, label);
}

/**
 * One request from a separate child process (a proposer that is not the test process, so a
 * reviewer the test spawns does not run under it). Resolves with the status and JSON body.
 */
export function callFromChild(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
  opts: { headers?: Record<string, string>; uid?: number; gid?: number } = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers by shape
): Promise<{ status: number; body: any }> {
  const script = `
    const req = require("node:http").request({ socketPath: ${JSON.stringify(socketPath)}, method: ${JSON.stringify(method)}, path: ${JSON.stringify(path)}, headers: ${JSON.stringify(opts.headers ?? {})} }, (res) => {
      let s = ""; res.on("data", (c) => (s += c)); res.on("end", () => process.stdout.write(JSON.stringify({ status: res.statusCode, body: JSON.parse(s) })));
    });
    req.on("error", (e) => process.stdout.write(JSON.stringify({ status: 0, body: { error: { code: e.code } } })));
    req.end(${JSON.stringify(body === undefined ? "" : JSON.stringify(body))});`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["-e", script], { uid: opts.uid, gid: opts.gid, cwd: "/" }, (err, stdout) =>
      err ? reject(err) : resolve(JSON.parse(stdout)),
    );
  });
}

/** Proposes from a separate child process (see callFromChild). */
export function proposeFromChild(t: TestAgent, body: Record<string, unknown>) {
  return callFromChild(t.agent.socketPath, "POST", "/v1/actions", body);
}

/** The daemon as launchd runs it: a real child process running `forge-agent run`. */
export interface AgentProcess {
  proc: ChildProcess;
  out: string[];
  client: UdsClient;
  exited: Promise<number | null>;
}

/**
 * Spawns `forge-agent run --home HOME --backend none ARGS` with FORGE_POLICY=HOME/policy.yaml and
 * resolves once its health answers; adds it to `running` (for the caller's afterEach).
 */
export async function spawnAgentProcess(
  home: string,
  args: string[],
  running: Set<AgentProcess>,
  env: Record<string, string> = {},
  /** The daemon's working directory (its default executors.cwd, the workspace). */
  cwd?: string,
): Promise<AgentProcess> {
  const proc = spawn(process.execPath, [CLI, "run", "--home", home, "--backend", "none", ...args], {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, FORGE_POLICY: join(home, "policy.yaml"), ...env },
  });
  const out: string[] = [];
  proc.stdout!.on("data", (c: Buffer) => out.push(c.toString()));
  proc.stderr!.on("data", (c: Buffer) => out.push(c.toString()));
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  const d: AgentProcess = { proc, out, client: new UdsClient(join(home, "agent.sock")), exited };
  running.add(d);
  // Health answers (not listening yet: the call throws), or the daemon exited.
  await until(
    async () => proc.exitCode !== null || (await d.client.get("/v1/health")).status === 200,
    () => `daemon to come up: ${out.join("")}`,
    30_000,
  );
  if (proc.exitCode !== null) throw new Error(`daemon exited: ${out.join("")}`);
  return d;
}

/** Stops a spawned agent (SIGTERM unless told) and resolves with its exit code. */
export async function stopAgentProcess(
  d: AgentProcess,
  signal: NodeJS.Signals,
  running: Set<AgentProcess>,
): Promise<number | null> {
  d.client.close();
  if (d.proc.exitCode === null && d.proc.signalCode === null) d.proc.kill(signal);
  const code = await d.exited;
  running.delete(d);
  return code;
}
