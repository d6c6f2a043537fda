/**
 * `--backend ollama`: the inference suite through the agent's facade beside the server called
 * directly, against a stand-in Ollama server on 127.0.0.1 (the CLI is a real child process).
 */
import type { Server } from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parseReport } from "../../bench/report.js";
import { startFakeOllama } from "./fake-ollama.js";
import { ensureBuilt, run } from "./helpers.js";

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
  expect(decode.baseline?.name).toBe("ollama server direct");
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
