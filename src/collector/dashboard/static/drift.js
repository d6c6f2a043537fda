// Reconnaissance panel (#/drift): what is drifting that no tolerance names yet. For every signal
// that drifted (fleet-wide and per host), its reference and current distributions side by side,
// the test that found it, the categories that moved most, and example sessions from the current
// window linking to their trace. Data: GET /v1/drift (src/collector/drift.ts). Every value shown
// goes through esc(); bars are SVG attributes (the page's CSP allows no inline styles).

const W = 300;
const BAR_H = 16;

/** Two bar charts on the same labels and scale: reference (left) and current (right), shares. */
export function sideBySide(dist, esc) {
  const share = (counts) => {
    const total = counts.reduce((a, b) => a + b, 0) || 1;
    return counts.map((c) => c / total);
  };
  const ref = share(dist.reference);
  const cur = share(dist.current);
  const max = Math.max(...ref, ...cur, 0.0001);
  const labelW = 130;
  const H = dist.labels.length * (BAR_H + 4) + 20;
  const bars = (values, cls) =>
    values
      .map((v, i) => {
        const y = 18 + i * (BAR_H + 4);
        const w = Math.max(0, (v / max) * (W - labelW - 50));
        return `<text x="${labelW - 6}" y="${y + 12}" text-anchor="end" font-size="11" fill="#444">${esc(dist.labels[i].slice(0, 18))}</text>
          <rect class="${cls}" x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${cls === "ref" ? "#8a94a8" : "#d7792d"}"/>
          <text x="${(labelW + w + 4).toFixed(1)}" y="${y + 12}" font-size="11" fill="#444">${(v * 100).toFixed(1)}%</text>`;
      })
      .join("");
  const svg = (title, values, cls) =>
    `<svg class="dist ${cls}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">
      <text x="4" y="12" font-size="12" font-weight="bold" fill="#222">${esc(title)}</text>${bars(values, cls)}</svg>`;
  return `<div class="side-by-side">${svg("reference", ref, "ref")}${svg("current", cur, "cur")}</div>`;
}

const num = (v, fmt) => (typeof v === "number" ? fmt(v, Math.abs(v) < 1 ? 4 : 2) : String(v ?? "–"));

function finding(scope, s, { esc, fmt }) {
  const l = s.last;
  const p =
    l.pvalue === null
      ? ""
      : ` · p ${esc(num(l.pvalue, fmt))}${l.pvalue_adjusted === null ? "" : ` (adjusted ${esc(num(l.pvalue_adjusted, fmt))}, ${esc(l.correction)})`}`;
  const top = l.top
    .map(
      (t) =>
        `<tr><td><code>${esc(t.category)}</code></td><td class="num">${esc(fmt(t.reference_share * 100, 1))}%</td><td class="num">${esc(fmt(t.current_share * 100, 1))}%</td><td class="num">${esc(num(t.contribution, fmt))}</td></tr>`,
    )
    .join("");
  const examples = l.examples
    .map(
      (id) =>
        `<li><a class="trace" href="#/session/${encodeURIComponent(id)}">${esc(id)}</a> <span class="muted mono">forge-agent trace ${esc(id)}</span></li>`,
    )
    .join("");
  const win = (w) =>
    `n ${esc(w.n)}${w.mean === undefined ? "" : esc(` · mean ${num(w.mean, fmt)} · sd ${num(w.std, fmt)} · p50 ${num(w.p50, fmt)} · p90 ${num(w.p90, fmt)}`)}`;
  return `<div class="card finding" data-signal="${esc(s.signal)}" data-scope="${esc(scope)}">
    <h2><span class="status drift">drift</span> ${esc(s.signal)} <span class="muted">${esc(scope)}</span></h2>
    <p><b>${esc(l.method)}</b> ${esc(num(l.statistic, fmt))} vs threshold ${esc(num(l.threshold, fmt))}${p}
      · since ${s.since_ms ? esc(new Date(s.since_ms).toISOString()) : "–"}</p>
    <p class="muted">reference: ${win(l.reference)} · current: ${win(l.current)}</p>
    ${sideBySide(l.distribution, esc)}
    <div class="grid">
      <div><h3>Moved most</h3><table class="top"><thead><tr><th>category</th><th class="num">reference</th><th class="num">current</th><th class="num">contribution</th></tr></thead><tbody>${top || `<tr><td colspan="4" class="muted">–</td></tr>`}</tbody></table></div>
      <div><h3>Investigate: sessions from the current window</h3><ul class="examples">${examples || `<li class="muted">none recorded</li>`}</ul></div>
    </div></div>`;
}

function signalTable(scope, signals, { esc, fmt }) {
  const rows = signals
    .map((s) => {
      const l = s.last;
      return `<tr><td><code>${esc(s.signal)}</code></td><td><span class="status ${esc(s.status)}">${esc(s.status)}</span></td>
        <td>${esc(l?.method ?? "–")}</td><td class="num">${l ? esc(num(l.statistic, fmt)) : "–"}</td><td class="num">${l ? esc(num(l.threshold, fmt)) : "–"}</td>
        <td class="num">${l?.pvalue == null ? "–" : esc(num(l.pvalue, fmt))}</td><td class="num">${esc(s.reference_n)}</td><td class="num">${esc(s.current_n)}</td></tr>`;
    })
    .join("");
  return `<details class="card"><summary>${esc(scope)}: ${signals.length} signal(s)</summary><table>
    <thead><tr><th>signal</th><th>status</th><th>method</th><th class="num">statistic</th><th class="num">threshold</th><th class="num">p</th><th class="num">ref n</th><th class="num">cur n</th></tr></thead>
    <tbody>${rows || `<tr><td colspan="8" class="muted">no signals yet</td></tr>`}</tbody></table></details>`;
}

export async function driftView({ api, view, esc, fmt }) {
  const d = await api("/v1/drift");
  const scopes = [
    ...(d.fleet ? [["fleet-wide", d.fleet]] : []),
    ...d.hosts.map((h) => [`host ${h.host_id}`, h]),
  ];
  const drifted = scopes.flatMap(([scope, v]) =>
    v.signals.filter((s) => s.status === "drift" && s.last).map((s) => [scope, s]),
  );
  view.innerHTML = `<h1>Reconnaissance <span class="muted">drift from each signal's reference (${esc(d.config?.mode ?? "")}, ${esc(d.config?.correction ?? "")} at α ${esc(d.config?.alpha ?? "")})</span></h1>
    ${d.enabled ? "" : `<div class="card muted">drift detection is disabled on this collector</div>`}
    <div class="tiles"><div class="tile"><div class="n" data-count="drifted">${drifted.length}</div>drifted signals</div>
      <div class="tile"><div class="n">${d.hosts.length}</div>hosts watched</div></div>
    ${drifted.map(([scope, s]) => finding(scope, s, { esc, fmt })).join("") || `<div class="card muted" id="no-drift">no signal drifts</div>`}
    ${scopes.map(([scope, v]) => signalTable(scope, v.signals, { esc, fmt })).join("")}`;
}
