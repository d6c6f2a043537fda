import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll } from "vitest";
import { stringify } from "yaml";
import { hashSecret, upsertOperatorLine } from "../../src/collector/operators.js";
import { REPO, UdsClient } from "../agent/helpers.js";
import { until } from "../support/wait.js";

export const AGENT_BIN = join(REPO, "bin", "forge-agent.js");
export const COLLECTOR_BIN = join(REPO, "bin", "forge-collector.js");

export { ensureBuilt } from "../support/build.js";

/** A list of stops run (newest first) after the file's tests, whatever failed. */
export function stopsAfterAll(): Array<() => Promise<void>> {
  const stops: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
  });
  return stops;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface Proc {
  child: ChildProcess;
  stderr: string[];
  stop(): Promise<void>;
}

function track(child: ChildProcess): Proc {
  const stderr: string[] = [];
  child.stderr?.on("data", (d: Buffer) => {
    stderr.push(d.toString());
    if (stderr.length > 200) stderr.shift();
  });
  return {
    child,
    stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await gone;
      clearTimeout(t);
    },
  };
}

/**
 * An operators file for `forge-collector run --operators-file`, written as `forge-collector operator
 * add` writes it (scrypt hashes only); returns its path.
 */
export function operatorsFile(dir: string, operators: Array<{ name: string; password: string }>): string {
  const file = join(dir, "operators");
  let text = "";
  for (const o of operators) text = upsertOperatorLine(text, o.name, hashSecret(o.password));
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

export interface CollectorProc extends Proc {
  url: string;
  http: string;
  /** The `sha256:` fingerprint of the key it signs acks with (the key agents pin). */
  fingerprint: string;
}

/** `forge-collector run` as a child process on 127.0.0.1:0; resolves once it printed its address. */
export async function startCollectorProcess(
  dir: string,
  args: string[] = [],
  env: Record<string, string> = {},
  /** `defaultDatabase`: pass no --database (the collector picks its default), run in `cwd`. */
  opts: { defaultDatabase?: boolean; cwd?: string } = {},
): Promise<CollectorProc> {
  const database = opts.defaultDatabase ? [] : ["--database", `sqlite:${join(dir, "collector.db")}`];
  const child = spawn(
    process.execPath,
    [COLLECTOR_BIN, "run", ...database, "--listen", "127.0.0.1:0", ...args],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
      cwd: opts.cwd,
    },
  );
  const p = track(child);
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`collector exited ${code}: ${p.stderr.join("")}`)));
  });
  const { url, http, fingerprint } = JSON.parse(line) as { url: string; http: string; fingerprint: string };
  return { ...p, url, http, fingerprint };
}

export interface AgentProc extends Proc {
  home: string;
  hostId: string;
  client: UdsClient;
}

/**
 * `forge-agent run --config` as a child process in the `npm start` layout: `home` is its working
 * directory (the workspace), its state lives in `home/var`. Resolves once /v1/health answers.
 */
export async function startAgentProcess(
  hostId: string,
  config: Record<string, unknown>,
  home = tempDir(`fa-fleet-${hostId}-`),
): Promise<AgentProc> {
  const file = join(home, "config.yaml");
  writeFileSync(file, stringify({ home: join(home, "var"), host_id: hostId, log_level: "warn", ...config }));
  const child = spawn(process.execPath, [AGENT_BIN, "run", "--config", file], {
    stdio: ["ignore", "ignore", "pipe"],
    cwd: home,
  });
  const p = track(child);
  const client = new UdsClient(join(home, "var", "agent.sock"));
  await until(
    async () => {
      if (child.exitCode !== null)
        throw new Error(`agent ${hostId} exited ${child.exitCode}: ${p.stderr.join("")}`);
      return (await client.get("/v1/health")).status === 200;
    },
    `agent ${hostId} to come up`,
    30_000,
  );
  return {
    ...p,
    home,
    hostId,
    client,
    async stop() {
      client.close();
      await p.stop();
    },
  };
}

/** fetch with JSON in and out. */
export async function http(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
