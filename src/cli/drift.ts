import { callAgent, defaultSocketPath, unwrap } from "../agent/client.js";
import { parse, printJson, UsageError } from "./args.js";
import type { Env } from "./forge-agent.js";
import { AGENT } from "./spec.js";

interface Last {
  method: string;
  statistic: number | string;
  threshold: number;
  pvalue: number | null;
  pvalue_adjusted: number | null;
  drifted: boolean;
  top: { category: string; reference_share: number; current_share: number }[];
  examples: string[];
}
interface SignalRow {
  signal: string;
  status: string;
  reference_n: number;
  current_n: number;
  since_ms: number | null;
  last: Last | null;
}
interface EventRow {
  event: string;
  signal?: string;
  trigger?: string;
  signals?: string[];
  at_ms: number;
  method?: string;
  statistic?: number | string;
  threshold?: number;
  pvalue?: number | null;
}
interface DriftView {
  host_id: string;
  enabled: boolean;
  signals: SignalRow[];
  events: EventRow[];
  stats: { records: number; rounds: number; signals: number; dropped_signals: number; memory_bytes: number };
}

/** `forge-agent drift [--json] [--signal NAME] [--since T]`: the agent's reconnaissance state, over its socket. */
export default async function drift(argv: string[], env: Env): Promise<number> {
  const { values, positionals } = parse(argv, AGENT.drift.flags);
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const q = new URLSearchParams();
  if (values.signal !== undefined) q.set("signal", values.signal);
  if (values.since !== undefined) {
    const t = /^\d+$/.test(values.since) ? Number(values.since) : Date.parse(values.since);
    if (!Number.isFinite(t))
      throw new UsageError(`--since '${values.since}' must be RFC 3339 (2026-12-02T10:00:00Z) or epoch ms`);
    q.set("since", String(t));
  }
  const socket = values.socket ?? defaultSocketPath(env);
  const path = `/v1/drift${q.size > 0 ? `?${q}` : ""}`;
  const view = unwrap<DriftView>(await callAgent(socket, "GET", path));
  if (values.json) {
    printJson(view);
    return 0;
  }
  const out: string[] = [];
  const st = view.stats;
  out.push(
    `drift on ${view.host_id}: ${view.enabled ? "on" : "off"}; ${st.records} records, ${st.rounds} rounds, ${st.signals} signals` +
      `${st.dropped_signals ? ` (${st.dropped_signals} observations of signals past the cap dropped)` : ""}, ${Math.round(st.memory_bytes / 1024)} KiB`,
  );
  const drifted = view.signals.filter((s) => s.status === "drift");
  out.push(drifted.length === 0 ? "no signal drifts" : `${drifted.length} signal(s) drift:`);
  for (const s of view.signals) {
    const l = s.last;
    const test =
      l === null
        ? `learning (reference ${s.reference_n})`
        : `${l.method} ${num(l.statistic)} vs ${num(l.threshold)}${l.pvalue === null ? "" : ` p=${num(l.pvalue)}`}`;
    out.push(
      `  ${s.status.padEnd(8)} ${s.signal.padEnd(44)} ${test}  ref ${s.reference_n} cur ${s.current_n}`,
    );
    if (s.status === "drift" && l !== null) {
      for (const t of l.top.slice(0, 3))
        out.push(`           ${t.category}: ${pct(t.reference_share)} → ${pct(t.current_share)}`);
      if (l.examples.length > 0) out.push(`           investigate: forge-agent trace ${l.examples[0]}`);
    }
  }
  if (view.events.length > 0) {
    out.push("events:");
    for (const e of view.events) {
      const when = new Date(e.at_ms).toISOString();
      out.push(
        e.event === "reset"
          ? `  ${when} reset by ${e.trigger}: ${e.signals?.length ?? 0} signals`
          : `  ${when} ${e.event} ${e.signal}: ${e.method} ${num(e.statistic ?? 0)} vs ${num(e.threshold ?? 0)}`,
      );
    }
  }
  process.stdout.write(`${out.join("\n")}\n`);
  return 0;
}

const num = (v: number | string) => (typeof v === "number" ? String(Math.round(v * 10_000) / 10_000) : v);
const pct = (v: number) => `${Math.round(v * 1000) / 10}%`;
