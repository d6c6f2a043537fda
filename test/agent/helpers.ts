import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { loadConfig } from "../../src/agent/config.js";
import { type AgentHandle, startAgent } from "../../src/agent/daemon.js";

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
  home: string;
  client: UdsClient;
  logs: string[];
  stop(): Promise<void>;
}

/** Starts an agent in-process on a temp home with the fixture policy and no inference backend. */
export async function startTestAgent(
  config: Record<string, unknown> = {},
  home = tempHome(),
): Promise<TestAgent> {
  const logs: string[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void logs.push(line) });
  const cfg = loadConfig({
    object: { home, policy: FIXTURE_POLICY, backend: "none", ...config },
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

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
