import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Collector, startCollector } from "../../src/collector/server.js";
import { verifyStore } from "../../src/evidence/index.js";
import { sleep, until } from "../support/wait.js";
import { COLLECTOR_BIN, ensureBuilt, WRITER } from "./build.js";
import { allRecords, Client, chainProblem, freshPgDatabase, getJson, pgUrl, TestHost } from "./helpers.js";
import { TcpProxy } from "./proxy.js";

/**
 * Fault tests with real processes and real files. Oracle (Vector's): a record is owed only once the
 * writer printed that its append() resolved. Each test asserts: every owed record is at the
 * collector, no seq twice, and the collector's chain verifies (plus the agent's own store).
 */

const PG = pgUrl();
let dir: string;
const children = new Set<ChildProcess>();
const cleanups: Array<() => Promise<void>> = [];

beforeAll(() => ensureBuilt(), 120_000);
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "forge-faults-"));
});
afterEach(async () => {
  for (const c of children) c.kill("SIGKILL");
  children.clear();
  for (const f of cleanups.splice(0).reverse()) await f();
  rmSync(dir, { recursive: true, force: true });
});

interface Proc {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
  waitLine(re: RegExp, ms?: number): Promise<string>;
}

function run(args: string[], owed?: Set<number>): Proc {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on("line", (l) => {
    if (owed !== undefined && l.startsWith("R ")) owed.add(Number(l.slice(2)));
    else lines.push(l);
    for (const w of waiters.splice(0)) w();
  });
  let stderr = "";
  child.stderr!.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((r) =>
    child.once("exit", (code) => {
      children.delete(child);
      for (const w of waiters.splice(0)) w();
      r(code);
    }),
  );
  return {
    child,
    lines,
    exited,
    async waitLine(re, ms = 30_000) {
      const end = Date.now() + ms;
      for (;;) {
        const l = lines.find((x) => re.test(x));
        if (l !== undefined) return l;
        if (child.exitCode !== null || child.signalCode !== null || Date.now() > end) {
          throw new Error(`no line ${re} (exit ${child.exitCode}); stderr: ${stderr.slice(-500)}`);
        }
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 100);
        });
      }
    },
  };
}

async function kill(p: Proc): Promise<void> {
  p.child.kill("SIGKILL");
  await p.exited;
}

const agentDb = () => join(dir, "agent.db");
const keys = () => join(dir, "keys");
const writer = (url: string, mode: "write" | "drain", owed?: Set<number>, host = "fault-host") =>
  run([WRITER, agentDb(), keys(), host, url, mode, "8"], owed);

/** Runs a drain child to completion and returns the seq it drained to. */
async function drain(url: string): Promise<number> {
  const d = writer(url, "drain");
  const line = await d.waitLine(/^drained /, 60_000);
  await d.exited;
  return Number(line.split(" ")[1]);
}

/** The invariants every fault test ends with. */
async function assertNothingLost(httpUrl: string, owed: Set<number>, drainedTo: number): Promise<void> {
  const got = await allRecords(httpUrl, "fault-host");
  const seqs = got.map((r) => r.seq);
  expect(new Set(seqs).size).toBe(seqs.length); // no duplicates
  expect(got.length).toBe(drainedTo); // everything the agent committed, nothing more
  const missing = [...owed].filter((s) => s > drainedTo);
  expect(missing).toEqual([]); // every resolved append is at the collector
  expect(chainProblem("fault-host", got)).toBeNull();
  expect(verifyStore(agentDb(), { keyDir: keys() }).ok).toBe(true);
  const alerts = (await getJson(`${httpUrl}/v1/alerts`)).body.alerts;
  expect(alerts).toEqual([]);
}

async function inProcessCollector(
  database = `sqlite:${join(dir, "collector.db")}`,
  identityKeyFile?: string,
): Promise<Collector> {
  const c = await startCollector({ database, listen: "127.0.0.1:0", identityKeyFile });
  cleanups.push(() => c.close());
  return c;
}

describe("fault: the agent-side writer + shipper is SIGKILLed", () => {
  it("20 times at random points under load; restarted each time; nothing owed is lost", async () => {
    const col = await inProcessCollector();
    const owed = new Set<number>();
    for (let round = 0; round < 20; round++) {
      const w = writer(col.url, "write", owed);
      await w.waitLine(/^ready$/);
      const before = owed.size;
      await sleep(30 + Math.random() * 250); // a random point: not an ordering, the kill lands anywhere
      // Make sure this round wrote something, so every kill lands under load.
      await until(() => owed.size > before, "the writer appends this round");
      await kill(w);
    }
    expect(owed.size).toBeGreaterThan(100);
    const drainedTo = await drain(col.url);
    expect(drainedTo).toBeGreaterThanOrEqual(Math.max(...owed));
    await assertNothingLost(col.httpUrl, owed, drainedTo);
  });
});

describe("fault: the collector is SIGKILLed and down for a while under load", () => {
  it("restarts, the backlog drains, nothing acked is lost", async () => {
    const cdb = `sqlite:${join(dir, "collector.db")}`;
    const startCol = async (port: number) => {
      const c = run([COLLECTOR_BIN, "run", "--database", cdb, "--listen", `127.0.0.1:${port}`]);
      const line = await c.waitLine(/^\{/);
      return { proc: c, ...(JSON.parse(line) as { url: string; http: string }) };
    };
    let col = await startCol(0);
    const port = Number(new URL(col.http).port);
    const owed = new Set<number>();
    const w = writer(col.url, "write", owed);
    await w.waitLine(/^ready$/);
    let downBacklog = 0;
    const shipped = async () => (await getJson(`${col.http}/v1/hosts/fault-host`)).body.last_seq as number;
    for (let round = 0; round < 3; round++) {
      const before = round === 0 ? 0 : await until(shipped, "the collector holds records again");
      await until(async () => (await shipped()) > before, "shipping to this collector");
      await sleep(100 + Math.random() * 200); // a random point mid-stream, not an ordering
      await kill(col.proc);
      const atKill = owed.size;
      // Down for a while: until the writer has appended 50 records the collector has not seen.
      await until(() => owed.size >= atKill + 50, "the writer appends while the collector is down");
      downBacklog = Math.max(downBacklog, owed.size - atKill);
      col = await startCol(port);
    }
    expect(downBacklog).toBeGreaterThan(0);
    // The writer reconnected to the last collector and shipped there before it is killed.
    const atRestart = await until(shipped, "the restarted collector holds records");
    await until(async () => (await shipped()) > atRestart, "shipping after the last restart");
    await kill(w);
    const drainedTo = await drain(col.url);
    await assertNothingLost(col.http, owed, drainedTo);
    col.proc.child.kill("SIGTERM");
    expect(await col.proc.exited).toBe(0);
  });
});

describe.skipIf(PG === null)("fault: two collectors over one PostgreSQL", () => {
  let db: { url: string; drop: () => Promise<void> };
  beforeAll(async () => {
    db = await freshPgDatabase(PG!, "forge_multi");
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("a host reconnecting between them, and racing both at once, is stored once with nothing lost", async () => {
    // Replicas share one collector key: the host pinned it at its first connection to either.
    const keyFile = join(dir, "replicas.key");
    const a = await inProcessCollector(db.url, keyFile);
    const b = await inProcessCollector(db.url, keyFile);
    const portOf = (c: Collector) => Number(new URL(c.httpUrl).port);
    const proxy = await new TcpProxy(portOf(a)).listen();
    cleanups.push(() => proxy.close());
    const owed = new Set<number>();
    const w = writer(proxy.url(), "write", owed);
    await w.waitLine(/^ready$/);
    // Flip the host between the two collectors, cutting its connection each time.
    const ingested = async (c: Collector) =>
      (await c.ctx.metrics.recordsIngested.get()).values[0]?.value ?? 0;
    for (let i = 0; i < 12; i++) {
      const next = i % 2 === 0 ? b : a;
      const before = await ingested(next);
      proxy.upstreamPort = portOf(next);
      proxy.cutAll();
      // The host reconnected through the proxy and shipped to the collector it now reaches.
      await until(
        async () => (await ingested(next)) > before,
        `records ingested by collector ${i % 2 === 0 ? "b" : "a"}`,
      );
    }

    // A second host sends the same batches to both collectors at the same time.
    const h = new TestHost("race-host");
    const batches = Array.from({ length: 20 }, () => h.extend(50));
    const clients = await Promise.all(
      [a, b].map(async (c) => {
        const cl = new Client(c.url);
        await cl.opened;
        const ch = await cl.next("challenge");
        cl.send(h.hello(ch!.nonce as string));
        await cl.next("ack");
        return cl;
      }),
    );
    for (const batch of batches) {
      for (const cl of clients) cl.send({ type: "records", from_seq: batch[0]!.seq, records: batch });
    }
    await Promise.all(clients.map((cl) => cl.ackAtLeast(1000)));
    const race = await allRecords(a.httpUrl, "race-host");
    expect(race.map((r) => r.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(chainProblem("race-host", race)).toBeNull();
    for (const cl of clients) cl.close();

    await kill(w);
    proxy.upstreamPort = portOf(a);
    const drainedTo = await drain(proxy.url());
    await assertNothingLost(b.httpUrl, owed, drainedTo);
    // Both collectors really took part in storing fault-host's chain.
    expect(await ingested(a)).toBeGreaterThan(0);
    expect(await ingested(b)).toBeGreaterThan(0);
  });
});
