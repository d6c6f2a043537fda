import { MAX_INTERVAL_MS, MIN_INTERVAL_MS, type Reading, readMetrics } from "../platform/metrics.js";
import { intFlag, parse, printJson, UsageError } from "./args.js";
import { AGENT } from "./spec.js";

const GIB = 1024 ** 3;

function pct(p: number | null): string {
  return p === null ? "-" : `${p.toFixed(1)} %`;
}

/** The reading as a small table for people. */
export function formatReading(r: Reading): string {
  const rows: Array<[string, string]> = [];
  const cores = r.cpu.cores.map((c) => (c === null ? "-" : c.toFixed(0))).join(" ");
  rows.push(["cpu", `${pct(r.cpu.percent)}   per core: ${cores}`]);
  const rails = Object.entries(r.watts).map(([rail, w]) => `${rail} ${w.toFixed(2)} W`);
  rows.push(["power", rails.length ? rails.join("   ") : "no energy counters readable on this host"]);
  if (r.gpu) rows.push(["gpu", `${pct(r.gpu.activePercent)} active`]);
  const m = r.memory;
  let mem = `${(m.usedBytes / GIB).toFixed(1)} / ${(m.totalBytes / GIB).toFixed(1)} GiB used (${m.usedPercent.toFixed(0)} %)`;
  if (m.pressure)
    mem += `   pressure: some ${pct(m.pressure.somePercent)}, full ${pct(m.pressure.fullPercent)}`;
  if (m.pressureLevel) mem += `   pressure: ${m.pressureLevel}`;
  rows.push(["memory", mem]);
  const t = r.temperature;
  rows.push([
    "temperature",
    t.maxCelsius === null
      ? "no thermal zones readable on this host"
      : `max ${t.maxCelsius.toFixed(1)} C   ${t.zones.map((z) => `${z.type || z.zone} ${z.celsius.toFixed(1)}`).join(", ")}`,
  ]);
  rows.push(["interval", `${r.elapsedMs.toFixed(0)} ms (${r.platform})`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  return lines.join("\n");
}

/** forge-agent metrics [--json] [--interval MS]: one platform reading over MS (default 1000). */
export default async function (argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, AGENT.metrics.flags);
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const interval = intFlag(values.interval, "interval", 1000, MIN_INTERVAL_MS);
  if (interval > MAX_INTERVAL_MS) throw new UsageError(`--interval must be at most ${MAX_INTERVAL_MS}`);
  const reading = await readMetrics(interval);
  if (values.json) printJson(reading);
  else process.stdout.write(`${formatReading(reading)}\n`);
  return 0;
}
