/**
 * `--backend ollama|openai`: the inference suite through the agent's facade beside a direct
 * baseline, against stand-in servers on 127.0.0.1 (Ollama and mlx_lm.server cannot be installed
 * here); the CLI is a real child process.
 */
import type { Server } from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parseReport } from "../../bench/report.js";
import { until } from "../support/wait.js";
import { startFakeOllama, startFakeOpenAi } from "./fake-ollama.js";
import { ensureBuilt, run, start } from "./helpers.js";

const DIGEST = "sha256:" + "c0".repeat(32);
let server: Server;
let url: string;
let requests: () => number;

beforeAll(async () => {
  ensureBuilt();
  ({ server, url, requests } = await startFakeOllama("tiny-chat", DIGEST));
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

it("measures through the facade and direct, with the ratio, and records the server's digest", async () => {
  const r = await run([
    "bench",
    "--suite",
    "inference",
    "--backend",
    "ollama",
    "--model",
    "tiny-chat",
    "--inference-host",
    url,
    "--duration",
    "0.2",
    "--json",
    "-",
    "--no-record",
  ]);
  expect(r.code, r.err).toBe(0);
  const report = parseReport(JSON.parse(r.out));
  const inf = report.suites[0]!;
  expect(inf.status, JSON.stringify(inf)).toBe("ok");
  expect(inf.info).toMatchObject({
    backend: "ollama",
    host: url,
    model: "tiny-chat",
    same_token_counts: true,
  });
  const decode = inf.metrics.find((m) => m.name === "decode tokens/s via facade")!;
  expect(decode.baseline?.name).toBe("ollama server direct (same client)");
  expect(decode.stats.n).toBeGreaterThanOrEqual(5);
  expect(decode.ratio).toBeGreaterThan(0);
  expect(typeof decode.met).toBe("boolean");
  expect(inf.metrics.find((m) => m.name === "ttft added by facade (paired)")?.target?.text).toBe(
    "median <= 1 ms",
  );
  // Warm-up (2) + at least 5 rounds of 2 requests, every one of them reaching the server.
  expect(requests()).toBeGreaterThanOrEqual(12);
  expect(report.machine).toMatchObject({ backend: "ollama", model: "tiny-chat", model_digest: DIGEST });
});

it("--backend ollama without --model is bad usage", async () => {
  const r = await run([
    "bench",
    "--suite",
    "inference",
    "--backend",
    "ollama",
    "--inference-host",
    url,
    "--no-record",
  ]);
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/--backend ollama needs --model NAME/);
});

it("Ctrl-C cancels the requests in flight and keeps the rounds both sides completed", async () => {
  // 10 ms a piece, 128 pieces: a request takes about 1.3 s, a round about 2.6 s.
  const slow = await startFakeOllama("slow-chat", DIGEST, 10);
  try {
    const p = start([
      "bench",
      "--suite",
      "inference",
      "--backend",
      "ollama",
      "--model",
      "slow-chat",
      "--inference-host",
      slow.url,
      "--duration",
      "600",
      "--repeat",
      "1",
      "--json",
      "-",
      "--no-record",
    ]);
    await until(
      () => p.err().includes("inference: inference rounds"),
      () => `a round: ${p.err()}`,
      60_000,
    );
    // Inside the next round's first request: it reached the server (two warm-ups, a round of two, then it).
    await until(() => slow.requests() >= 5, "the next round's first request");
    p.child.kill("SIGINT");
    const exit = await p.done;
    expect(exit.code, exit.err).toBe(130);
    const report = parseReport(JSON.parse(exit.out));
    const inf = report.suites[0]!;
    expect(inf.status).toBe("partial");
    // The rounds both sides completed before Ctrl-C took effect (one, or two when the signal lands
    // as the second round ends: the timing is the machine's), and only those.
    const rounds = (inf.info as { rounds: number }).rounds;
    expect(rounds).toBeGreaterThanOrEqual(1);
    const decode = inf.metrics.find((m) => m.name === "decode tokens/s via facade")!;
    expect(decode.stats.n).toBe(rounds);
    expect(decode.met).toBeUndefined();
    // Two warm-ups, the completed rounds of two, and at most the one interrupted: nothing started after Ctrl-C.
    expect(slow.requests()).toBeLessThanOrEqual(2 + 2 * rounds + 1);
  } finally {
    await new Promise<void>((r) => slow.server.close(() => r()));
  }
}, 90_000);

it("--backend openai: the facade beside the agent's OpenAI client alone", async () => {
  const srv = await startFakeOpenAi("mlx-community/tiny");
  try {
    const r = await run([
      "bench",
      "--suite",
      "inference",
      "--backend",
      "openai",
      "--model",
      "mlx-community/tiny",
      "--inference-host",
      srv.url,
      "--duration",
      "0.2",
      "--json",
      "-",
      "--no-record",
    ]);
    expect(r.code, r.err).toBe(0);
    const report = parseReport(JSON.parse(r.out));
    const inf = report.suites[0]!;
    expect(inf.status, JSON.stringify(inf)).toBe("ok");
    expect(inf.info).toMatchObject({ backend: "openai", same_token_counts: true });
    const decode = inf.metrics.find((m) => m.name === "decode tokens/s via facade")!;
    expect(decode.baseline?.name).toBe("the agent's OpenAI backend client alone (no facade)");
    expect(decode.stats.n).toBeGreaterThanOrEqual(5);
    expect(srv.requests()).toBeGreaterThanOrEqual(12);
    expect(report.machine.model_digest).toBeNull();
    expect(report.machine.model_digest_note).toMatch(/does not report a model digest/);
  } finally {
    await new Promise<void>((r) => srv.server.close(() => r()));
  }
});
