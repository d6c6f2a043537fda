/**
 * `forge-agent bench` end to end, with real suites at tiny durations: the --json report validates
 * against the schema, the benchmark record lands in the evidence store, an absent dependency is a
 * skip (not a failure), bad usage exits 2, and a running agent keeps its store to itself.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BENCH_SESSION_ID, parseReport, type Report } from "../../bench/report.js";
import { startTestAgent } from "../agent/helpers.js";
import { ensureBuilt, run } from "./helpers.js";

let dir: string;

beforeAll(async () => {
  ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), "forge-bench-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A TCP port on 127.0.0.1 that nothing listens on (bound, read, closed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe("a real run", () => {
  let report: Report;
  let home: string;
  let exit: Awaited<ReturnType<typeof run>>;

  beforeAll(async () => {
    home = join(dir, "home");
    const file = join(dir, "out", "report.json");
    exit = await run([
      "bench",
      "--suite",
      "inference,metrics",
      "--duration",
      "0.2",
      "--repeat",
      "1",
      "--json",
      file,
      "--home",
      home,
    ]);
    report = parseReport(JSON.parse(readFileSync(file, "utf8")));
  }, 120_000);

  it("exits 0 and writes a report that validates against the schema", () => {
    expect(exit.code, exit.err).toBe(0);
    expect(report.partial).toBe(false);
    expect(report.intent).toEqual({
      suites: ["inference", "metrics"],
      duration_s: 0.2,
      backend: "llama",
      model: null,
    });
    expect(report.suites.map((s) => [s.suite, s.status])).toEqual([
      ["inference", "ok"],
      ["metrics", "ok"],
    ]);
  });

  it("reports median, p99, min, max and a same-run baseline with its ratio", () => {
    for (const s of report.suites) {
      const withBaseline = s.metrics.filter((m) => m.baseline !== undefined && m.ratio !== undefined);
      expect(withBaseline.length, s.suite).toBeGreaterThan(0);
      for (const m of s.metrics) {
        expect(m.stats.n).toBeGreaterThan(0);
        expect(m.stats.min!).toBeLessThanOrEqual(m.stats.median!);
        expect(m.stats.median!).toBeLessThanOrEqual(m.stats.p99!);
        expect(m.stats.p99!).toBeLessThanOrEqual(m.stats.max!);
      }
    }
  });

  it("judges the issue targets and says whether each was met", () => {
    const judged = report.suites.flatMap((s) => s.metrics.filter((m) => m.target !== undefined));
    expect(judged.length).toBeGreaterThan(0);
    for (const m of judged) {
      expect(typeof m.met, m.name).toBe("boolean");
      expect(typeof m.margin, m.name).toBe("number");
    }
    expect(report.summary.targets).toBe(judged.length);
    expect(report.summary.targets).toBe(report.summary.met + report.summary.missed);
    expect(exit.out).toMatch(/targets: \d+ of \d+ met/);
  });

  it("records the machine, the addon build and the model digest", () => {
    const m = report.machine;
    expect(m.cores.logical).toBeGreaterThan(0);
    expect(m.memory_bytes).toBeGreaterThan(0);
    expect(m.node.version).toBe(process.version);
    expect(m.addon.loaded).toBe(true);
    expect(m.model_digest).toMatch(/^[0-9a-f]{64}$/);
    expect(m.model_bytes).toBeGreaterThan(0);
  });

  it("says why power rails and MLX are absent instead of failing", () => {
    const inf = report.suites.find((s) => s.suite === "inference")!;
    const power = inf.metrics.some((m) => m.unit === "tok/J");
    const skipped = inf.skipped_parts.find((p) => p.part === "power");
    expect(power || skipped?.why.startsWith("skipped: ")).toBe(true);
    if (!report.machine.addon.mlx)
      expect(inf.skipped_parts.find((p) => p.part === "mlx")?.why).toMatch(/^skipped: /);
  });

  it("appends the report as one benchmark record to <home>/evidence.db", () => {
    expect(report.record).toMatchObject({ written: true, path: join(home, "evidence.db"), seq: 1 });
    const db = new Database(join(home, "evidence.db"), { readonly: true });
    try {
      const rows = db.prepare("SELECT seq, kind, body, hash FROM records").all() as Array<{
        seq: number;
        kind: string;
        body: string;
        hash: string;
      }>;
      expect(rows.map((r) => [r.seq, r.kind])).toEqual([[1, "benchmark"]]);
      expect(rows[0]!.hash).toBe(report.record!.hash);
      const body = JSON.parse(rows[0]!.body);
      expect(body.session_id).toBe("forge-bench");
      expect(body.proposed_action).toEqual(report.intent);
      expect(body.evaluation).toBeNull();
      const { record: _r, ...withoutRecord } = report;
      expect(body.execution_result).toEqual(withoutRecord);
    } finally {
      db.close();
    }
  });

  it("leaves a chain that forge-agent verify accepts", async () => {
    const v = await run(["verify", "--home", home]);
    expect(v.code, v.out + v.err).toBe(0);
  });
});

describe("absent dependencies", () => {
  it("--backend ollama with no server: the inference suite says 'skipped: why' and the run succeeds", async () => {
    const host = `http://127.0.0.1:${await closedPort()}`;
    const r = await run([
      "bench",
      "--suite",
      "inference",
      "--backend",
      "ollama",
      "--model",
      "llama3.2",
      "--inference-host",
      host,
      "--json",
      "-",
      "--no-record",
    ]);
    expect(r.code, r.err).toBe(0);
    const report = parseReport(JSON.parse(r.out));
    expect(report.suites).toHaveLength(1);
    expect(report.suites[0]).toMatchObject({ suite: "inference", status: "skipped" });
    expect(report.suites[0]!.skipped).toContain(`no Ollama server at ${host}`);
    expect(report.summary.skipped).toEqual(["inference"]);
    expect(report.record).toBeUndefined();
    expect(report.machine.model_digest).toBeNull();
    expect(r.err).toMatch(/inference: skipped: no Ollama server/);
  });
});

describe("usage", () => {
  it.each([
    [["--suite", "gate,nope"], /unknown suite 'nope'/],
    [["--duration", "0"], /--duration/],
    [["--backend", "mlx"], /--backend must be one of/],
    [["--model", "/nonexistent/model.gguf"], /no such GGUF file/],
    [["extra"], /unexpected argument/],
  ])("%j exits 2", async (args, message) => {
    const r = await run(["bench", ...args, "--home", join(dir, "usage"), "--no-record"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });
});

describe("the evidence store has one writer (issue 21 item 4)", () => {
  let server: Server;
  afterAll(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it("refuses before measuring when something that is not an agent answers on the socket", async () => {
    const home = join(dir, "busy");
    mkdirSync(home, { recursive: true });
    // Not an agent: it reads what it is sent (so the connection can close) and answers nothing.
    server = createServer((s) => {
      s.resume();
      s.end();
    });
    await new Promise<void>((r) => server.listen(join(home, "agent.sock"), r));
    const file = join(home, "r.json");
    const r = await run(["bench", "--suite", "metrics", "--duration", "0.2", "--home", home, "--json", file]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/is not an agent that takes benchmark records: stop it, or pass --no-record/);
    // Nothing was measured: no suite ran, no report was written.
    expect(r.err).not.toMatch(/metrics: /);
    expect(existsSync(file)).toBe(false);
  });

  it("records through the running agent's socket (as with `npm start` running)", async () => {
    const t = await startTestAgent();
    try {
      const home = join(t.home, "var");
      const file = join(dir, "through-agent.json");
      const r = await run([
        "bench",
        "--suite",
        "metrics",
        "--duration",
        "0.2",
        "--home",
        home,
        "--json",
        file,
      ]);
      expect(r.code, r.err).toBe(0);
      expect(r.err).toContain(`an agent runs on ${t.agent.socketPath}: the record goes through it`);
      const report = parseReport(JSON.parse(readFileSync(file, "utf8")));
      expect(report.record).toMatchObject({ written: true, path: t.agent.config.evidence.path });
      const trace = (await t.client.get(`/v1/sessions/${BENCH_SESSION_ID}/trace`)).body;
      expect(trace.steps).toHaveLength(1);
      expect(trace.steps[0]).toMatchObject({
        kind: "benchmark",
        seq: report.record!.seq,
        hash: report.record!.hash,
        proposed_action: report.intent,
        evaluation: null,
      });
      // The agent names who sent it (the bench process), from the socket's peer credentials.
      expect(trace.steps[0].principal).toMatch(/^uid:\d+ pid:\d+$/);
      // A body that is not a benchmark run is refused with a clear error.
      const bad = await t.client.post("/v1/benchmarks", { action_id: "x", intent: {}, result: {} });
      expect(bad.status).toBe(400);
    } finally {
      await t.stop();
    }
  });
});
