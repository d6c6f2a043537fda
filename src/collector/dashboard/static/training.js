// #/training: the fleet's training runs (GET /v1/training, src/lifecycle/lineage.ts trainingRuns):
// state, steps, tokens, budgets consumed against their limits, the loss curve per step (an SVG
// polyline of the checkpoint and end records' bounded `loss_curve`), anomalies with their outcome and reviewer, checkpoints. An
// `escalate` anomaly waiting for a human is an ordinary escalated action: it is in #/reviews.
// Every value shown goes through esc().

function lossSvg(points) {
  const pts = points.filter((p) => typeof p.loss === "number");
  if (pts.length === 0) return `<span class="muted">no trained step recorded yet</span>`;
  const W = 240;
  const H = 60;
  const maxS = Math.max(...pts.map((p) => p.step), 1);
  // A log scale when every loss is positive (cross-entropy is): one approved spike does not flatten the rest.
  const logScale = pts.every((p) => p.loss > 0);
  const v = (l) => (logScale ? Math.log(l) : l);
  const lo = Math.min(...pts.map((p) => v(p.loss)));
  const hi = Math.max(...pts.map((p) => v(p.loss)));
  const x = (p) => ((p.step / maxS) * (W - 8) + 4).toFixed(1);
  const y = (l) => (hi === lo ? H / 2 : 4 + ((hi - v(l)) / (hi - lo)) * (H - 8)).toFixed(1);
  const path = pts.map((p) => `${x(p)},${y(p.loss)}`).join(" ");
  const dots = pts.map((p) => `<circle cx="${x(p)}" cy="${y(p.loss)}" r="1.6" fill="#1565c0"/>`).join("");
  return `<svg class="loss" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="loss curve${logScale ? " (log scale)" : ""}" data-points="${pts.length}">
    <polyline fill="none" stroke="#1565c0" stroke-width="1.5" points="${path}"/>${dots}</svg>`;
}

function budgets(run, esc) {
  const c = run.budgets_consumed ?? {};
  const rows = [
    ["steps", c.steps, run.budgets.max_steps],
    ["tokens", c.tokens, run.budgets.max_tokens],
    ["wall s", c.wall_seconds, run.budgets.max_wall_seconds],
    ["memory MB", c.memory_mb, run.budgets.max_memory_mb],
    ["energy J", c.energy_joules, run.budgets.max_energy_joules],
  ];
  return rows
    .map(([k, v, max]) => {
      const val = typeof v === "number" ? Math.round(v * 10) / 10 : "–";
      return `<div>${esc(k)}: ${esc(val)} / ${esc(max ?? "∞")}</div>`;
    })
    .join("");
}

export async function trainingView({ api, view, esc }) {
  const t = await api("/v1/training");
  const rows = t.runs
    .map((r) => {
      const anomalies = r.anomalies
        .map(
          (a) =>
            `<li>${esc(a.rule)} @${esc(a.step)}: ${esc(a.action)} → <b>${esc(a.outcome)}</b>${a.reviewer ? ` by ${esc(a.reviewer)}` : ""}</li>`,
        )
        .join("");
      const cks = r.checkpoints
        .map((c) => `<li>step ${esc(c.step)} <code>${esc(c.digest.slice(0, 12))}</code></li>`)
        .join("");
      const cls = r.state === "DONE" ? "online" : r.state === "RUNNING" ? "stale" : "offline";
      return `<tr data-run="${esc(r.session_id)}"><td>${esc(r.host_id)}<br><code>${esc(r.job)}</code> <span class="muted">${esc(r.trainer)}</span></td>
        <td><span class="status ${cls} state">${esc(r.state)}</span></td>
        <td>${esc(r.steps)} steps<br>${esc(r.tokens)} tokens</td>
        <td class="budgets">${budgets(r, esc)}</td>
        <td>${lossSvg(r.loss)}</td>
        <td><ul class="anomalies">${anomalies || `<li class="muted">none</li>`}</ul></td>
        <td><ul class="checkpoints">${cks || `<li class="muted">none</li>`}</ul></td></tr>`;
    })
    .join("");
  view.innerHTML = `<h1>Training <span class="muted">governed runs across the fleet</span></h1>
    <div class="card"><p class="muted">An escalated anomaly waits in <a href="#/reviews">Reviews</a> like any action.</p>
    <table id="training"><thead><tr><th>host / job</th><th>state</th><th>progress</th><th>budgets (used / limit)</th><th>loss</th><th>anomalies</th><th>checkpoints</th></tr></thead>
    <tbody>${rows || `<tr><td colspan="7" class="muted">no training run yet</td></tr>`}</tbody></table></div>`;
}
