// Benchmarks panel (#/benchmarks): compares `forge-agent bench` runs across hosts. Every run is a
// `benchmark` evidence record in session "forge-bench" (bench/report.ts BENCH_SESSION_ID) whose
// execution_result is the run's report (bench/report.ts ReportSchema), shipped like any record.
// The data shaping is pure (`benchmarkRuns`, `comparison`) so it is tested without a browser.

export const BENCH_SESSION = "forge-bench";
const FORMAT_PREFIX = "forge-agent.bench/";
const WINDOW_DAYS = 90;

/** Benchmark records → runs, newest first. Records that are not a bench report are ignored. */
export function benchmarkRuns(records) {
  return records
    .filter(
      (r) =>
        r.kind === "benchmark" &&
        typeof r.execution_result?.format === "string" &&
        r.execution_result.format.startsWith(FORMAT_PREFIX),
    )
    .map((r) => ({ host: r.host_id, seq: r.seq, at: r.timestamp, report: r.execution_result }))
    .sort((a, b) => b.at.localeCompare(a.at) || b.seq - a.seq);
}

/** The newest run of each host, hosts in name order. */
export function latestPerHost(runs) {
  const by = new Map();
  for (const run of runs) if (!by.has(run.host)) by.set(run.host, run);
  return [...by.values()].sort((a, b) => a.host.localeCompare(b.host));
}

/** The figure a metric is judged on: the statistic its target names, else the median. */
export function figure(m) {
  const stat = m.target?.stat;
  if (stat === "ratio") return m.ratio ?? null;
  if (stat && stat !== "value") return m.stats?.[stat] ?? null;
  return m.stats?.median ?? null;
}

/**
 * Rows of the comparison table: one per figure (suite · metric), one cell per host's latest run.
 * `all` false keeps the judged figures and the inference suite's; true keeps every figure.
 */
export function comparison(latest, all = false) {
  const rows = new Map();
  latest.forEach((run, col) => {
    for (const s of run.report.suites ?? []) {
      for (const m of s.metrics ?? []) {
        if (!all && m.target === undefined && s.suite !== "inference") continue;
        const key = `${s.suite} · ${m.name}`;
        if (!rows.has(key))
          rows.set(key, {
            key,
            suite: s.suite,
            name: m.name,
            unit: m.unit,
            stat: m.target?.stat ?? "median",
            target: m.target?.text ?? null,
            cells: latest.map(() => null),
          });
        rows.get(key).cells[col] = {
          value: figure(m),
          met: m.met,
          baseline: m.baseline?.stats?.median ?? null,
          ratio: m.ratio ?? null,
          partial: s.status === "partial",
        };
      }
      if (s.status === "skipped" || s.status === "error") {
        const key = `${s.suite} · (suite)`;
        if (!rows.has(key))
          rows.set(key, {
            key,
            suite: s.suite,
            name: "(suite)",
            unit: "",
            stat: "",
            target: null,
            cells: latest.map(() => null),
          });
        rows.get(key).cells[col] = {
          text: s.status === "skipped" ? `skipped: ${s.skipped}` : `error: ${s.error?.message}`,
        };
      }
    }
  });
  return [...rows.values()];
}

function num(v, fmt) {
  if (typeof v !== "number" || !Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  return fmt(v, a >= 1000 ? 0 : a >= 10 ? 1 : 2);
}

function table(latest, rows, esc, fmt) {
  const head = latest.map((r) => `<th class="num">${esc(r.host)}</th>`).join("");
  const body = rows
    .map((row) => {
      const cells = row.cells
        .map((c) => {
          if (c === null) return `<td class="num muted">–</td>`;
          if (c.text !== undefined) return `<td class="muted">${esc(c.text)}</td>`;
          const mark = c.met === true ? " ✓" : c.met === false ? " ✗" : "";
          const cls = c.met === true ? "ev ALLOW" : c.met === false ? "ev DENY" : "";
          const base =
            c.baseline === null
              ? ""
              : `<div class="reasons">baseline ${num(c.baseline, fmt)} · ratio ${num(c.ratio, fmt)}</div>`;
          return `<td class="num"><span class="${cls}">${num(c.value, fmt)}${mark}</span>${c.partial ? " <i>(partial)</i>" : ""}${base}</td>`;
        })
        .join("");
      return `<tr><td>${esc(row.key)}</td><td class="muted">${esc(row.stat)} ${esc(row.unit)}</td><td class="muted">${esc(row.target ?? "")}</td>${cells}</tr>`;
    })
    .join("");
  return `<table class="bench-compare"><thead><tr><th>figure</th><th>statistic</th><th>target</th>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** Renders the panel into `view`, with the dashboard's own helpers. */
export async function benchmarksView({ api, view, esc, fmt }) {
  const since = new Date(Date.now() - WINDOW_DAYS * 86_400_000).toISOString();
  const r = await api(
    `/v1/records?session_id=${encodeURIComponent(BENCH_SESSION)}&since=${encodeURIComponent(since)}&limit=10000`,
  );
  const runs = benchmarkRuns(r.records);
  const latest = latestPerHost(runs);
  if (latest.length === 0) {
    view.innerHTML = `<div class="card"><h2>Benchmarks</h2><p class="muted">no benchmark runs in the last ${WINDOW_DAYS} days: run <code>forge-agent bench</code> on a host</p></div>`;
    return;
  }
  const machines = latest
    .map((run) => {
      const m = run.report.machine ?? {};
      const s = run.report.summary ?? {};
      const pe =
        m.cores?.performance && m.cores?.efficiency
          ? ` (${m.cores.performance}P+${m.cores.efficiency}E)`
          : "";
      return `<tr data-bench-host="${esc(run.host)}"><td><b>${esc(run.host)}</b></td><td class="muted">${esc(run.at)}</td>
        <td>${esc(m.chip)}</td><td class="num">${esc(m.cores?.logical)}${esc(pe)}</td>
        <td class="num">${m.memory_bytes ? fmt(m.memory_bytes / 2 ** 30, 0) : "–"} GiB</td>
        <td>${esc(m.os?.name)} <span class="muted">${esc(m.os?.arch)}</span></td><td>${esc(m.node?.version)}</td>
        <td>${m.addon?.loaded ? `ABI ${esc(m.addon.abi)}${m.addon.mlx ? " + MLX" : ""}` : "not loaded"}</td>
        <td>${esc(m.backend)}: ${esc(m.model)} <span class="muted mono">${esc((m.model_digest ?? "").slice(0, 12))}</span></td>
        <td class="num">${s.met ?? 0} / ${s.targets ?? 0}${run.report.partial ? " <i>(partial)</i>" : ""}</td></tr>`;
    })
    .join("");
  // The dashboard re-renders every 2 s: keep "every figure" open if the operator opened it.
  const open = view.querySelector("details.bench-all")?.open ? " open" : "";
  const history = runs
    .slice(0, 50)
    .map(
      (run) =>
        `<tr><td>${esc(run.host)}</td><td class="muted">${esc(run.at)}</td><td>${esc((run.report.intent?.suites ?? []).join(", "))}</td>
        <td class="num">${esc(run.report.intent?.duration_s)} s</td><td class="num">${run.report.summary?.met ?? 0} / ${run.report.summary?.targets ?? 0}</td>
        <td>${run.report.partial ? "partial" : "complete"}${(run.report.summary?.errors ?? []).length ? ` · errors: ${esc(run.report.summary.errors.join(", "))}` : ""}</td></tr>`,
    )
    .join("");
  view.innerHTML = `
    <div class="card"><h2>Hosts <span class="muted">(latest run of each)</span></h2><table id="bench-hosts">
      <thead><tr><th>host</th><th>run</th><th>chip</th><th class="num">cores</th><th class="num">memory</th><th>OS</th><th>Node</th><th>addon</th><th>backend: model</th><th class="num">targets met</th></tr></thead>
      <tbody>${machines}</tbody></table></div>
    <div class="card"><h2>Compared <span class="muted">(judged figures and inference; ✓ met, ✗ missed)</span></h2>${table(latest, comparison(latest), esc, fmt)}
      <details class="bench-all"${open}><summary>every figure</summary>${table(latest, comparison(latest, true), esc, fmt)}</details></div>
    <div class="card"><h2>Runs</h2><table id="bench-runs"><thead><tr><th>host</th><th>when</th><th>suites</th><th class="num">duration</th><th class="num">targets met</th><th></th></tr></thead>
      <tbody>${history}</tbody></table></div>`;
}
