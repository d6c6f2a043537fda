// `forge-agent doctor` through the built CLI, against real counterparts: a fresh per-user home, a
// broken policy file, a socket left open to every user, and a running agent whose collector is down.
import { execFile, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Check } from "../../src/cli/doctor.js";
import {
  type AgentProcess,
  CLI,
  FIXTURE_POLICY,
  spawnAgentProcess,
  stopAgentProcess,
} from "../agent/helpers.js";
import { startFakeOllama } from "../bench/fake-ollama.js";
import { ensureBuilt } from "../support/build.js";

let dir: string;
const running = new Set<AgentProcess>();

const options = (env: Record<string, string>) => ({
  encoding: "utf8" as const,
  cwd: dir,
  env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: join(dir, "user"), ...env },
});

function result(stdout: string, code: number | null) {
  const doc = JSON.parse(stdout) as { ok: boolean; checks: Check[] };
  const by = Object.fromEntries(doc.checks.map((c) => [c.name, c]));
  return { code, doc, by };
}

function doctor(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, "doctor", "--json", ...args], options(env));
  return result(r.stdout, r.status);
}

/** doctor without blocking this process: the servers the doctor probes answer from here. */
function doctorAsync(args: string[], env: Record<string, string> = {}) {
  return new Promise<ReturnType<typeof doctor>>((resolve, reject) =>
    execFile(process.execPath, [CLI, "doctor", "--json", ...args], options(env), (err, stdout) => {
      if (err !== null && typeof err.code !== "number") return reject(err);
      resolve(result(stdout, err === null ? 0 : (err.code as number)));
    }),
  );
}

/** A config file for an ollama/openai backend at `url` serving `model`. */
function backendConfig(name: string, backend: string, url: string, model: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `backend: ${backend}\ninference_host: ${url}\nmodel: ${model}\n`);
  return file;
}

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), "forge-doctor-"));
});
afterEach(async () => {
  for (const a of [...running]) await stopAgentProcess(a, "SIGTERM", running);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("forge-agent doctor", () => {
  it("on a fresh host: every check runs, nothing fails, exit 0; what is missing is a warning with its fix", () => {
    const r = doctor([]);
    expect(r.code).toBe(0);
    expect(r.doc.ok).toBe(true);
    expect(Object.keys(r.by)).toEqual([
      "node",
      "addon",
      "config",
      "policy",
      "home",
      "socket",
      "agent",
      "collector",
      "collector-key",
      "disk",
      "model",
      "backend",
    ]);
    // The built-in llama backend has no server to reach.
    expect(r.by.backend!.status).toBe("skip");
    for (const n of ["node", "addon", "config", "policy", "disk", "model"])
      expect(r.by[n]!.status, n).toBe("ok");
    // The per-user home, not ./var under the current directory.
    expect(r.by.home!.detail).toContain(join(dir, "user", ".local", "share", "forge-agent"));
    expect(r.by.agent!.status).toBe("warn");
    expect(r.by.agent!.fix).toMatch(/npm start|forge-agent run/);
    for (const c of r.doc.checks)
      if (c.status === "warn" || c.status === "fail") expect(c.fix, c.name).toBeTruthy();
    // People get the same checks as text.
    const text = spawnSync(process.execPath, [CLI, "doctor"], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", HOME: join(dir, "user") },
    });
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^ok {4}node /m);
    expect(text.stdout).toMatch(/all checks passed \(\d warnings?\)/);
  });

  it("probes an ollama backend through the official client: reachable, and serving the configured model", async () => {
    // An Ollama server's /api/tags, as the official client's list() reads it.
    const ollama = await startFakeOllama("qwen2.5:0.5b", "sha256:abc");
    try {
      const served = await doctorAsync([
        "--config",
        backendConfig("ol-ok", "ollama", ollama.url, "qwen2.5:0.5b"),
      ]);
      expect(served.by.backend).toMatchObject({
        status: "ok",
        detail: `ollama at ${ollama.url} serves qwen2.5:0.5b`,
      });
      const absent = await doctorAsync([
        "--config",
        backendConfig("ol-absent", "ollama", ollama.url, "llama3"),
      ]);
      expect(absent.code).toBe(1);
      expect(absent.by.backend!.status).toBe("fail");
      expect(absent.by.backend!.detail).toContain("does not serve 'llama3' (it lists qwen2.5:0.5b)");
      expect(absent.by.backend!.fix).toBe("ollama pull llama3, or set model (FORGE_MODEL) to one it lists");
    } finally {
      await new Promise((r) => ollama.server.close(r));
    }
    // Nothing listens there any more.
    const down = await doctorAsync([
      "--config",
      backendConfig("ol-down", "ollama", ollama.url, "qwen2.5:0.5b"),
    ]);
    expect(down.code).toBe(1);
    expect(down.by.backend!.status).toBe("fail");
    expect(down.by.backend!.detail).toMatch(/is not reachable/);
    expect(down.by.backend!.fix).toMatch(/ollama serve/);
  });

  it("probes an OpenAI-compatible backend's GET /v1/models", async () => {
    const seen: string[] = [];
    // What llama-server and mlx_lm.server answer.
    const server = createHttpServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.method === "GET" && req.url === "/v1/models") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            object: "list",
            data: [
              {
                id: "mlx-community/Qwen2.5-0.5B-4bit",
                object: "model",
                created: 1733443200,
                owned_by: "system",
              },
            ],
          }),
        );
      } else {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "not found", type: "invalid_request_error" } }));
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const served = await doctorAsync([
        "--config",
        backendConfig("oa-ok", "openai", url, "mlx-community/Qwen2.5-0.5B-4bit"),
      ]);
      expect(served.by.backend).toMatchObject({ status: "ok" });
      expect(seen).toContain("GET /v1/models");
      const absent = await doctorAsync(["--config", backendConfig("oa-absent", "openai", url, "gpt-4o")]);
      expect(absent.by.backend!.status).toBe("fail");
      expect(absent.by.backend!.detail).toContain("does not serve 'gpt-4o'");
      expect(absent.by.backend!.fix).toContain("start the server with gpt-4o");
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("fails on a policy that does not load, naming the fix; exit 1", () => {
    const bad = join(dir, "bad-policy.yaml");
    writeFileSync(bad, "rules:\n  - id: x\n    effect: allw\n");
    const r = doctor([], { FORGE_POLICY: bad });
    expect(r.code).toBe(1);
    expect(r.doc.ok).toBe(false);
    expect(r.by.policy!.status).toBe("fail");
    expect(r.by.policy!.detail).toMatch(/FORGE_POLICY_INVALID/);
    expect(r.by.policy!.fix).toContain(`forge-agent policy test ${bad}`);
  });

  it("fails on a config that does not load, and skips what depends on it", () => {
    const cfg = join(dir, "bad.yaml");
    writeFileSync(cfg, "backnd: llama\n");
    const r = doctor(["--config", cfg]);
    expect(r.code).toBe(1);
    expect(r.by.config!.status).toBe("fail");
    expect(r.by.config!.detail).toMatch(/did you mean 'backend'/);
    expect(r.by.socket!.status).toBe("skip");
  });

  it("fails on a socket every local user may open, with the chmod that fixes it", async () => {
    const home = join(dir, "loose");
    mkdirSync(home, { mode: 0o750 });
    const sock = join(home, "agent.sock");
    const server: Server = createServer((c) => c.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"));
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      chmodSync(sock, 0o666);
      const r = doctor([], { FORGE_HOME: home });
      expect(r.code).toBe(1);
      expect(r.by.socket!.status).toBe("fail");
      expect(r.by.socket!.detail).toMatch(/open to every local user \(mode 666\)/);
      expect(r.by.socket!.fix).toBe(
        `chmod 660 ${sock} (the agent sets 660 itself: was it changed, or made by something else?)`,
      );
      // What listens there is not an agent.
      expect(r.by.agent!.status).toBe("warn");
      chmodSync(sock, 0o660);
      expect(doctor([], { FORGE_HOME: home }).by.socket!.status).toBe("ok");
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("asks a running agent: its pid, its model, and its collector's failure with the agent's own fix", async () => {
    const home = join(dir, "agent");
    mkdirSync(home, { mode: 0o750 });
    copyFileSync(FIXTURE_POLICY, join(home, "policy.yaml"));
    // A port nothing listens on: bind one, note it, close it.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const a = await spawnAgentProcess(home, ["--collector-url", `ws://127.0.0.1:${port}`], running, {
      HOME: join(dir, "user"),
    });
    const r = doctor(["--socket", join(home, "agent.sock"), "--home", home], {
      FORGE_POLICY: join(home, "policy.yaml"),
    });
    expect(r.by.agent!.status).toBe("ok");
    expect(r.by.agent!.detail).toContain(`pid ${a.proc.pid}`);
    expect(r.by.socket!.status).toBe("ok");
    expect(r.by.model!.status).toBe("warn"); // backend none
    expect(r.by.collector!.status).toBe("fail");
    expect(r.by.collector!.detail).toContain(`ws://127.0.0.1:${port}`);
    expect(r.by.collector!.fix).toBeTruthy();
    expect(r.by["collector-key"]!.status).toBe("warn"); // trust on first use, nothing pinned yet
    expect(r.code).toBe(1);
  });
});
