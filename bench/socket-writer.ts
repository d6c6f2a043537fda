/**
 * Issue 18 target 2's proposed fix, measured before it is built: does a SQLite writer on a worker
 * thread answer an HTTP-over-UDS request with its durable row sooner than the writer on the main
 * thread (as the store has it)? Two minimal servers, the same in every way but where the commit
 * runs: each reads the body, commits the same pending row (the store's schema, WAL,
 * synchronous=FULL, group commit: every row queued in one turn shares one transaction) and answers
 * once it is committed. "main": better-sqlite3 on the event loop, which blocks for the fsync.
 * "worker": the same statements on a worker thread; the event loop posts the row and is free until
 * the worker posts back the ids it committed. Measured with one client (sequential: the socket
 * suite's ALLOW) and with CONCURRENT clients in flight (where a free event loop could pipeline:
 * requests parsed while the previous batch syncs), in alternating rounds.
 */
import { randomUUID } from "node:crypto";
import { createServer, Agent as HttpAgent, request, type Server } from "node:http";
import { join } from "node:path";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { SCHEMA_SQL } from "../src/evidence/schema.js";
import { nowNs, sampleAsync } from "./harness.js";

/** Requests in flight in the concurrent measurement (one keep-alive connection each). */
export const CONCURRENT = 16;

interface Row {
  id: string;
  record: string;
  deadline: number;
  created: number;
}

/** One database connection that commits queued rows in groups: all rows queued in a turn, one transaction. */
function groupWriter(path: string, onCommitted: (ids: string[]) => void) {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec(SCHEMA_SQL);
  const put = db.prepare(
    "INSERT OR REPLACE INTO pending (action_id, session_id, state, record, deadline_ms, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const commit = db.transaction((rows: Row[]) => {
    for (const r of rows) put.run(r.id, "bench", "allowed", r.record, r.deadline, r.created);
  }).immediate;
  let queue: Row[] = [];
  let scheduled = false;
  let commits = 0;
  let commitMs = 0;
  const flush = () => {
    scheduled = false;
    const rows = queue;
    queue = [];
    const t0 = performance.now();
    commit(rows);
    commitMs += performance.now() - t0;
    commits++;
    onCommitted(rows.map((r) => r.id));
  };
  return {
    add(row: Row) {
      queue.push(row);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    commits: () => commits,
    commitMs: () => commitMs,
    close: () => db.close(),
  };
}

/** The worker thread's side: rows in, committed ids out. */
function workerMain(path: string): void {
  const w = groupWriter(path, (ids) => parentPort!.postMessage({ ids }));
  parentPort!.on("message", (m: Row | "commits" | "close") => {
    if (m === "commits") parentPort!.postMessage({ commits: w.commits(), commitMs: w.commitMs() });
    else if (m === "close") {
      w.close();
      parentPort!.close();
    } else w.add(m);
  });
  parentPort!.postMessage({ ready: true });
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === "sqlite-writer")
  workerMain((workerData as { path: string }).path);

interface Writer {
  commit(row: Row): Promise<void>;
  /** Transactions committed so far, and the time spent inside them (ms). */
  commits(): Promise<{ n: number; ms: number }>;
  close(): Promise<void>;
}

function mainWriter(path: string): Writer {
  const waiting = new Map<string, () => void>();
  const w = groupWriter(path, (ids) => {
    for (const id of ids) {
      waiting.get(id)!();
      waiting.delete(id);
    }
  });
  return {
    commit: (row) =>
      new Promise<void>((resolve) => {
        waiting.set(row.id, resolve);
        w.add(row);
      }),
    commits: async () => ({ n: w.commits(), ms: w.commitMs() }),
    close: async () => {
      w.close();
    },
  };
}

async function workerWriter(path: string): Promise<Writer> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: "sqlite-writer", path } });
  const waiting = new Map<string, () => void>();
  let onCommits: ((c: { n: number; ms: number }) => void) | undefined;
  worker.on("message", (m: { ids?: string[]; commits?: number; commitMs?: number; ready?: true }) => {
    if (m.ids)
      for (const id of m.ids) {
        waiting.get(id)!();
        waiting.delete(id);
      }
    if (m.commits !== undefined) onCommits?.({ n: m.commits, ms: m.commitMs! });
  });
  await new Promise<void>((resolve, reject) => {
    worker.once("message", () => resolve());
    worker.once("error", reject);
  });
  return {
    commit: (row) =>
      new Promise<void>((resolve) => {
        waiting.set(row.id, resolve);
        worker.postMessage(row);
      }),
    commits: () =>
      new Promise<{ n: number; ms: number }>((resolve) => {
        onCommits = resolve;
        worker.postMessage("commits");
      }),
    close: async () => {
      worker.postMessage("close");
      await new Promise((r) => worker.once("exit", r));
    },
  };
}

/** The minimal server: body read and parsed, the row committed, then the answer. */
async function serve(socketPath: string, writer: Writer, record: string): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { session_id: string };
      const now = Date.now();
      const id = randomUUID();
      void writer.commit({ id, record, deadline: now + 300_000, created: now }).then(() => {
        const out = JSON.stringify({ action_id: id, session_id: body.session_id, recorded: true });
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(out) });
        res.end(out);
      });
    });
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  return server;
}

function post(agent: HttpAgent, socketPath: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        path: "/v1/actions",
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on("end", () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** `n` clients in flight for `seconds`, each request timed (µs). */
async function sampleConcurrent(
  fn: (i: number) => Promise<void>,
  n: number,
  o: { seconds: number; warmup: number; signal: AbortSignal },
): Promise<number[]> {
  const out: number[] = [];
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let w = 0; w < o.warmup; w++) await fn(i++);
    }),
  );
  const end = nowNs() + o.seconds * 1e9;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (nowNs() < end && !o.signal.aborted) {
        const t0 = nowNs();
        await fn(i++);
        out.push((nowNs() - t0) / 1e3);
      }
    }),
  );
  return out;
}

export interface WriterSamples {
  sequential: { main: number[]; worker: number[] };
  concurrent: { main: number[]; worker: number[] };
  /** Rows per commit in the concurrent rounds (group commit at work), per writer. */
  rowsPerCommit: { main: number; worker: number };
  /** Mean time inside one commit (the transaction and its fsync) in the sequential rounds, ms. */
  commitMs: { main: number; worker: number };
}

/** Alternating rounds of the two writers, sequential then CONCURRENT clients; µs per request. */
export async function compareWriters(o: {
  dir: string;
  record: string;
  rounds: number;
  seconds: number;
  signal: AbortSignal;
}): Promise<WriterSamples> {
  const writers = {
    main: mainWriter(join(o.dir, "writer-main.sqlite")),
    worker: await workerWriter(join(o.dir, "writer-worker.sqlite")),
  };
  const servers: Server[] = [];
  const paths = { main: join(o.dir, "writer-main.sock"), worker: join(o.dir, "writer-worker.sock") };
  const agent = new HttpAgent({ keepAlive: true, maxSockets: CONCURRENT });
  const out: WriterSamples = {
    sequential: { main: [], worker: [] },
    concurrent: { main: [], worker: [] },
    rowsPerCommit: { main: Number.NaN, worker: Number.NaN },
    commitMs: { main: Number.NaN, worker: Number.NaN },
  };
  const requests = { main: 0, worker: 0 };
  const commits = { main: 0, worker: 0 };
  const seq = { main: { n: 0, ms: 0 }, worker: { n: 0, ms: 0 } };
  try {
    for (const k of ["main", "worker"] as const) servers.push(await serve(paths[k], writers[k], o.record));
    const body = (i: number) =>
      JSON.stringify({
        session_id: `bench-${i & 63}`,
        proposed_action: { kind: "file.read", path: "README.md" },
      });
    const slice = o.seconds / o.rounds / 2;
    for (let r = 0; r < o.rounds && !o.signal.aborted; r++) {
      for (const k of ["main", "worker"] as const) {
        const s0 = await writers[k].commits();
        out.sequential[k].push(
          ...(await sampleAsync((i) => post(agent, paths[k], body(i)), {
            seconds: slice,
            warmup: r === 0 ? 200 : 20,
            signal: o.signal,
          })),
        );
        const c0 = await writers[k].commits();
        seq[k].n += c0.n - s0.n;
        seq[k].ms += c0.ms - s0.ms;
        const us = await sampleConcurrent((i) => post(agent, paths[k], body(i)), CONCURRENT, {
          seconds: slice,
          warmup: r === 0 ? 20 : 2,
          signal: o.signal,
        });
        commits[k] += (await writers[k].commits()).n - c0.n;
        requests[k] += us.length + CONCURRENT * (r === 0 ? 20 : 2);
        out.concurrent[k].push(...us);
      }
    }
    for (const k of ["main", "worker"] as const) {
      out.rowsPerCommit[k] = requests[k] / commits[k];
      out.commitMs[k] = seq[k].ms / seq[k].n;
    }
  } finally {
    agent.destroy();
    for (const s of servers) await new Promise((r) => s.close(r));
    await writers.main.close();
    await writers.worker.close();
  }
  return out;
}
