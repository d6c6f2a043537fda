import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, resolve } from "node:path";
import cliProgress from "cli-progress";
import type { Report } from "../../bench/report.js";
import {
  type Backend,
  DEFAULT_SUITES,
  formatReport,
  KNOWN_SUITES,
  type RunEvents,
  runBench,
} from "../../bench/run.js";
import { callAgent, unwrap } from "../agent/client.js";
import { type AgentConfig, loadConfig } from "../agent/config.js";
import { assertSocketFree } from "../agent/server.js";
import { Codes, ForgeError, hasForgeCode } from "../errors.js";
import { EvidenceStore } from "../evidence/index.js";
import { benchmarkRecord } from "../protocol/benchmark.js";
import { parse, UsageError } from "./args.js";
import type { Env } from "./forge-agent.js";
import { AGENT } from "./spec.js";

/** Exit code of a run stopped by SIGINT (128 + 2, as shells report it); the partial report is still written. */
export const EXIT_INTERRUPTED = 130;

const BACKENDS: readonly Backend[] = ["llama", "ollama", "openai"];

/**
 * forge-agent bench [--suite LIST] [--model SPEC] [--backend llama|ollama|openai] [--duration S]
 *   [--repeat N] [--json FILE|-] [--home DIR] [--config FILE] [--inference-host URL] [--no-record]
 * Runs the suites, prints one table per suite and the targets, writes the JSON report (--json),
 * and appends it as a `benchmark` evidence record to <home>/evidence.db (unless --no-record), or,
 * while an agent owns that store, through the agent's socket (POST /v1/benchmarks).
 * Exit 0: every suite ran or was skipped; 1: a suite failed or the record could not be written;
 * 2: bad usage; 130: interrupted (Ctrl-C), after writing the partial report and record.
 */
export default async function bench(argv: string[], env: Env): Promise<number> {
  const { values, positionals } = parse(argv, AGENT.bench.flags);
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);

  const suites = suiteList(values.suite);
  const durationS = values.duration === undefined ? 3 : Number(values.duration);
  if (!Number.isFinite(durationS) || durationS <= 0 || durationS > 3600)
    throw new UsageError("--duration must be a number of seconds > 0 and <= 3600");
  const repeats = values.repeat === undefined ? 3 : Number(values.repeat);
  if (!Number.isInteger(repeats) || repeats < 1 || repeats > 20)
    throw new UsageError("--repeat must be a whole number of runs from 1 to 20");
  if (values.backend !== undefined && !BACKENDS.includes(values.backend as Backend))
    throw new UsageError(`--backend must be one of ${BACKENDS.join(", ")}, got '${values.backend}'`);

  const config = loadConfig({
    flags: {
      ...(values.config === undefined ? {} : { config: values.config }),
      ...(values.home === undefined ? {} : { home: values.home }),
      ...(values.backend === undefined ? {} : { backend: values.backend }),
      ...(values.model === undefined ? {} : { model: values.model }),
    },
    env,
    hostname: hostname(),
  });
  // "none" (no inference) is a daemon setting; a benchmark of inference needs an engine.
  const backend: Backend = config.backend === "none" ? "llama" : config.backend;
  const model = config.model;
  if (backend === "llama" && model !== undefined && !existsSync(model))
    throw new UsageError(`--model ${model}: no such GGUF file`);
  const inferenceHost = values["inference-host"] ?? config.inference_host;
  if (backend !== "llama" && model === undefined && suites.includes("inference"))
    throw new UsageError(`--backend ${backend} needs --model NAME (a model the server has, e.g. llama3.2)`);

  // Where the record goes is settled before measuring: a run must not end in "could not record".
  const sink = values["no-record"] ? null : await recordSink(config);

  const ac = new AbortController();
  const onSigint = () => {
    if (ac.signal.aborted) process.exit(EXIT_INTERRUPTED);
    ac.abort();
    process.stderr.write(
      "\nbench: interrupted: stopping after the current measurement; the partial report follows (Ctrl-C again to quit now)\n",
    );
  };
  process.on("SIGINT", onSigint);
  const ui = process.stderr.isTTY ? barProgress() : lineProgress();
  let report: Report;
  try {
    report = await runBench({
      suites,
      durationS,
      repeats,
      backend,
      ...(model === undefined ? {} : { model }),
      ...(inferenceHost === undefined ? {} : { inferenceHost }),
      signal: ac.signal,
      events: ui.events,
    });
  } finally {
    ui.stop();
    process.off("SIGINT", onSigint);
  }

  let recordFailed = false;
  if (sink !== null) {
    report.record = await writeRecord(report, config, sink);
    recordFailed = !report.record.written;
  }

  const text = formatReport(report);
  if (values.json === "-") {
    process.stderr.write(`${text}\n`);
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    process.stdout.write(`${text}\n`);
    if (values.json !== undefined) {
      const file = resolve(values.json);
      writeAtomic(file, `${JSON.stringify(report, null, 2)}\n`);
      process.stdout.write(`report: ${file}\n`);
    }
  }
  if (report.record?.written)
    process.stdout.write(`record: benchmark seq ${report.record.seq} in ${report.record.path}\n`);
  else if (report.record)
    process.stderr.write(`bench: the benchmark record was not written: ${report.record.reason}\n`);

  if (ac.signal.aborted) return EXIT_INTERRUPTED;
  return report.summary.errors.length > 0 || recordFailed ? 1 : 0;
}

function suiteList(flag: string | undefined): string[] {
  if (flag === undefined) return [...DEFAULT_SUITES];
  const names = [...new Set(flag.split(",").map((s) => s.trim()))].filter((s) => s !== "");
  if (names.length === 0) throw new UsageError("--suite needs at least one suite name");
  const unknown = names.filter((n) => !KNOWN_SUITES.includes(n));
  if (unknown.length > 0)
    throw new UsageError(`unknown suite '${unknown[0]}': choose from ${KNOWN_SUITES.join(", ")}`);
  return names;
}

type Sink = { kind: "store" } | { kind: "agent"; socket: string };

/**
 * Where the benchmark record will go, decided before the run: the evidence store itself, or,
 * while an agent owns it (the store has one writer), that agent through its socket. Something on
 * the socket that is not an agent that takes records is refused now, before any measuring.
 */
async function recordSink(config: AgentConfig): Promise<Sink> {
  try {
    await assertSocketFree(config.socket);
    return { kind: "store" };
  } catch (err) {
    if (!hasForgeCode(err) || err.code !== Codes.AGENT_RUNNING) throw err;
  }
  let health: { status: number; body: unknown } | undefined;
  try {
    health = await callAgent(config.socket, "GET", "/v1/health", undefined, 5_000);
  } catch {
    // answered below
  }
  if (health?.status !== 200)
    throw new ForgeError(
      Codes.AGENT_RUNNING,
      `something answers on ${config.socket} (it owns ${config.evidence.path}) but is not an agent that takes benchmark records: stop it, or pass --no-record`,
    );
  process.stderr.write(
    `bench: an agent runs on ${config.socket}: the record goes through it (its own work shares this machine with the measurements)\n`,
  );
  return { kind: "agent", socket: config.socket };
}

/**
 * Appends the report as a `benchmark` record, so the shipper delivers it like any other: to the
 * evidence store, or through the agent that owns it.
 */
async function writeRecord(
  report: Report,
  config: AgentConfig,
  sink: Sink,
): Promise<NonNullable<Report["record"]>> {
  const path = config.evidence.path;
  const { record: _none, ...result } = report;
  const action_id = `bench-${report.started_at}-${process.pid}`;
  if (sink.kind === "agent") {
    try {
      const stored = unwrap<{ host_id: string; seq: number; hash: string; path: string }>(
        await callAgent(sink.socket, "POST", "/v1/benchmarks", { action_id, intent: report.intent, result }),
      );
      return {
        written: true,
        path: stored.path,
        host_id: stored.host_id,
        seq: stored.seq,
        hash: stored.hash,
      };
    } catch (err) {
      const code = hasForgeCode(err) ? `${err.code}: ` : "";
      return {
        written: false,
        path,
        reason: `the agent on ${sink.socket} refused it: ${code}${(err as Error).message}`,
      };
    }
  }
  let store: EvidenceStore | undefined;
  try {
    store = EvidenceStore.open({
      path,
      hostId: config.host_id,
      keyDir: config.evidence.keys,
      ...(config.evidence.synchronous === undefined ? {} : { synchronous: config.evidence.synchronous }),
    });
    const stored = await store.append(
      benchmarkRecord({
        action_id,
        intent: report.intent,
        result,
        principal: `uid:${process.getuid?.() ?? 0} pid:${process.pid}`,
      }),
    );
    return { written: true, path, host_id: stored.host_id, seq: stored.seq, hash: stored.hash };
  } catch (err) {
    const code = hasForgeCode(err) ? `${err.code}: ` : "";
    return { written: false, path, reason: `${code}${(err as Error).message}` };
  } finally {
    await store?.close();
  }
}

function writeAtomic(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

interface Ui {
  events: RunEvents;
  stop(): void;
}

/** A progress bar on stderr (TTY): overall progress across suites, the current suite and step. */
function barProgress(): Ui {
  const bar = new cliProgress.SingleBar(
    {
      format: "bench [{bar}] {percentage}% | {suite} | {label}",
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let count = 1;
  let index = 0;
  return {
    events: {
      suiteStart(name, i, n) {
        count = n;
        index = i;
        if (!started) bar.start(100, 0, { suite: name, label: "starting" });
        started = true;
        bar.update((100 * i) / n, { suite: `${name} (${i + 1}/${n})`, label: "starting" });
      },
      progress(_name, fraction, label) {
        bar.update((100 * (index + Math.min(1, Math.max(0, fraction)))) / count, { label });
      },
      suiteEnd(r, i, n) {
        bar.update((100 * (i + 1)) / n, {
          label: r.status === "skipped" ? `skipped: ${r.skipped}` : r.status,
        });
      },
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

/** Plain lines on stderr (not a TTY: CI logs, pipes): one when a suite starts, changes step, ends. */
function lineProgress(): Ui {
  let last = "";
  const say = (s: string) => process.stderr.write(`bench: ${s}\n`);
  return {
    events: {
      suiteStart(name, i, n) {
        last = "";
        say(`[${i + 1}/${n}] ${name}: started`);
      },
      progress(name, fraction, label) {
        if (label === last) return;
        last = label;
        say(`${name}: ${label} (${Math.round(100 * fraction)}%)`);
      },
      suiteEnd(r) {
        const why =
          r.status === "skipped"
            ? `: skipped: ${r.skipped}`
            : r.status === "error"
              ? `: ${r.error!.message}`
              : "";
        say(`${r.suite}: ${r.status}${why} (${r.elapsed_s.toFixed(1)} s)`);
      },
    },
    stop: () => {},
  };
}
