/**
 * The dashboard's benchmark panel, end to end without a browser: two hosts append `benchmark`
 * records (real reports from the runner) to real evidence stores, real shippers deliver them to a
 * real collector, and the panel module (the file the collector serves) renders from the real API.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { stats } from "../../bench/harness.js";
import { BENCH_SESSION_ID, type Machine, type Report } from "../../bench/report.js";
import { runBench } from "../../bench/run.js";
import * as panel from "../../src/collector/dashboard/static/benchmarks.js";
import { fleetPlugin } from "../../src/collector/fleet-plugin.js";
import { type Collector, startCollector } from "../../src/collector/index.js";
import { EvidenceStore } from "../../src/evidence/index.js";
import { Shipper } from "../../src/evidence/shipper.js";
import { nowRfc3339 } from "../../src/protocol/record.js";
import { launchHeadless } from "../support/chromium.js";
import { missing } from "../support/tools.js";
import { until } from "../support/wait.js";

let dir: string;
let collector: Collector;
const SECRET = "bench-operator-token";

function machine(host: string, chip: string): Machine {
  return {
    hostname: host,
    chip,
    cores: { logical: 8, physical: 8, performance: 4, efficiency: 4 },
    memory_bytes: 16 * 2 ** 30,
    os: { platform: "darwin", arch: "arm64", release: "24", name: "macOS 15" },
    node: { version: process.version, v8: "0", abi: "115" },
    addon: { path: "/x.node", loaded: true, abi: 2, mlx: false },
    backend: "llama",
    model: "tiny",
    model_digest: "ab".repeat(32),
    model_bytes: 1,
    load_average: { start: [0.5, 0.4, 0.3], end: null },
    date: new Date().toISOString(),
  };
}

/** A real report from the runner, with a gate-like figure of `p99` µs judged against 15 µs. */
async function report(host: string, chip: string, p99: number): Promise<Report> {
  return runBench({
    suites: ["gate"],
    durationS: 0.1,
    backend: "llama",
    signal: new AbortController().signal,
    tmpRoot: dir,
    machine: async () => machine(host, chip),
    load: async () => async () => ({
      suite: "gate",
      metrics: [
        {
          name: "structured action decision",
          unit: "us",
          stats: { ...stats([1, 2, 3]), p99 },
          target: { text: "p99 <= 15 us", stat: "p99", op: "<=", value: 15 },
          met: p99 <= 15,
          margin: (15 - p99) / 15,
        },
      ],
    }),
  });
}

async function ship(host: string, r: Report): Promise<void> {
  const store = EvidenceStore.open({
    path: join(dir, host, "evidence.db"),
    hostId: host,
    keyDir: join(dir, host, "keys"),
  });
  await store.append({
    kind: "benchmark",
    session_id: BENCH_SESSION_ID,
    action_id: `bench-${host}`,
    timestamp: nowRfc3339(),
    prompt_hash: null,
    proposed_action: r.intent,
    evaluation: null,
    policy_matched: { bundle: null, rules: [] },
    composition_state: null,
    execution_result: r,
    principal_review: null,
    latency_ms: 0,
  });
  const shipper = new Shipper({ store, url: collector.url });
  shipper.start();
  await until(() => store.ackedSeq() >= 1, `${host}: the collector's ack of the benchmark record`);
  await shipper.stop();
  await store.close();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "forge-bench-dash-"));
  collector = await startCollector({
    database: `sqlite:${join(dir, "collector.db")}`,
    listen: "127.0.0.1:0",
    plugins: [fleetPlugin({ operators: [{ name: "ops", secret: SECRET }] }).plugin],
  });
  await ship("mac-studio", await report("mac-studio", "Apple M2 Ultra", 4.2));
  await ship("mbp-m1", await report("mbp-m1", "Apple M1", 21.5));
}, 60_000);

afterAll(async () => {
  await collector?.close();
  await rm(dir, { recursive: true, force: true });
});

it("the collector serves the panel and the dashboard links to it", async () => {
  const js = await fetch(`${collector.httpUrl}/dashboard/benchmarks.js`);
  expect(js.status).toBe(200);
  expect(js.headers.get("content-type")).toMatch(/javascript/);
  expect(await js.text()).toContain("export async function benchmarksView");
  expect(await (await fetch(`${collector.httpUrl}/`)).text()).toContain('href="#/benchmarks"');
  expect(await (await fetch(`${collector.httpUrl}/dashboard/app.js`)).text()).toContain(
    "/dashboard/benchmarks.js",
  );
});

it("compares the latest run of each host from the shipped records", async () => {
  const api = async (path: string) => {
    const res = await fetch(`${collector.httpUrl}${path}`, {
      headers: { authorization: `Bearer ${SECRET}` },
    });
    expect(res.status, path).toBe(200);
    return (await res.json()) as { records: unknown[] };
  };
  const { records } = await api(`/v1/records?session_id=${BENCH_SESSION_ID}`);
  const runs = panel.benchmarkRuns(records);
  expect(runs.map((r: { host: string }) => r.host).sort()).toEqual(["mac-studio", "mbp-m1"]);
  const latest = panel.latestPerHost(runs);
  const rows = panel.comparison(latest);
  expect(rows).toHaveLength(1);
  expect(rows[0].key).toBe("gate · structured action decision");
  expect(rows[0].cells.map((c: { value: number; met: boolean }) => [c.value, c.met])).toEqual([
    [4.2, true],
    [21.5, false],
  ]);

  const view = { innerHTML: "", querySelector: () => null };
  const esc = (v: unknown) => String(v ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const fmt = (v: number, d = 1) => v.toFixed(d);
  await panel.benchmarksView({ api, view, esc, fmt });
  expect(view.innerHTML).toContain("Apple M2 Ultra");
  expect(view.innerHTML).toContain("Apple M1");
  expect(view.innerHTML).toContain("4.20 ✓");
  expect(view.innerHTML).toContain("21.5 ✗");
  expect(view.innerHTML).toContain("p99 &#60;= 15 us");
});

it("ignores records that are not bench reports, and shows a hint when there are none", async () => {
  expect(
    panel.benchmarkRuns([{ kind: "action", host_id: "h", seq: 1, timestamp: "t", execution_result: {} }]),
  ).toEqual([]);
  const view = { innerHTML: "", querySelector: () => null };
  await panel.benchmarksView({
    api: async () => ({ records: [] }),
    view,
    esc: String,
    fmt: (v: number) => String(v),
  });
  expect(view.innerHTML).toContain("no benchmark runs");
});

it.skipIf(missing("chromium"))(
  "renders in headless Chromium after an operator signs in",
  async () => {
    const { browser, page } = await launchHeadless();
    try {
      await page.goto(`${collector.httpUrl}/`);
      await page.fill('input[name="name"]', "ops");
      await page.fill('input[name="password"]', SECRET);
      await page.click('button[type="submit"]');
      await page.locator("#nav").waitFor();
      await page.click('a[data-nav="benchmarks"]');
      await page.locator("#bench-hosts").waitFor();
      const hosts = await page.textContent("#bench-hosts");
      expect(hosts).toContain("mac-studio");
      expect(hosts).toContain("Apple M1");
      const compare = await page.textContent("table.bench-compare");
      expect(compare).toContain("gate · structured action decision");
      expect(compare).toContain("4.20 ✓");
      expect(compare).toContain("21.5 ✗");
      if (process.env.FORGE_BENCH_SCREENSHOT)
        await page.screenshot({ path: process.env.FORGE_BENCH_SCREENSHOT, fullPage: true });
    } finally {
      await browser.close();
    }
  },
  60_000,
);
