// forge-agent fleet dashboard: plain ES module, no build step, no dependencies.
// Views: #/ (fleet), #/host/ID, #/reviews, #/session/ID, #/decisions, #/alerts. Polls the JSON API every 2 s.

const $ = (sel) => document.querySelector(sel);
const view = $("#view");
const POLL_MS = 2000;
let timer = null;
let operator = null;

const esc = (v) =>
  String(v ?? "").replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c],
  );
// Every value from the API goes into the page through esc(), num() or fmt(): heartbeats are
// written by agents, and an agent is not trusted with the operator's page.
/** A whole count: a finite number, else "–" (never the value's own text). */
const num = (v) => (typeof v === "number" && Number.isFinite(v) ? String(v) : "–");
const fmt = (v, digits = 1) => (typeof v === "number" && Number.isFinite(v) ? v.toFixed(digits) : "–");
const ago = (ms) => {
  if (typeof ms !== "number") return "never";
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 60 ? `${s} s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
};
const time = (t) => (t ? new Date(t).toLocaleTimeString([], { hour12: false }) : "–");

class Unauthenticated extends Error {
  constructor(message, details) {
    super(message);
    this.details = details ?? {};
  }
}

async function api(path, init) {
  const res = await fetch(path, { credentials: "same-origin", ...init });
  const body = await res.json().catch(() => ({}));
  if (res.status === 401) throw new Unauthenticated(body?.error?.message ?? "sign in", body?.error?.details);
  if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
  return body;
}

function showLogin(message) {
  operator = null;
  clearInterval(timer);
  $("#nav").hidden = true;
  $("#who").textContent = "";
  view.innerHTML = "";
  $("#login").hidden = false;
  $("#login-error").textContent = message ?? "";
}

$("#login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  try {
    const r = await api("/v1/session", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: f.get("name"), password: f.get("password") }),
    });
    signedIn(r.operator);
  } catch (err) {
    $("#login-error").textContent = err.message;
  }
});

function signedIn(name) {
  operator = name;
  $("#login").hidden = true;
  $("#nav").hidden = false;
  $("#who").innerHTML = `operator <b>${esc(name)}</b> <button id="signout">Sign out</button>`;
  $("#signout").addEventListener("click", async () => {
    await fetch("/v1/session", { method: "DELETE" });
    showLogin();
  });
  route();
}

// --- charts: inline SVG polylines ---------------------------------------------------------------

/** series: [{name, points: [[t, v], …]}]; `opts.max` fixes the y range (percent); `opts.empty` explains no data. */
function chart(title, unit, series, opts = {}) {
  const W = 600;
  const H = 180;
  const L = 44;
  const B = 20;
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p[1]));
  if (all.length === 0)
    return `<div class="card chart"><h2>${esc(title)}</h2><p class="muted">${esc(opts.empty ?? "no data yet")}</p></div>`;
  const t0 = Math.min(...all.map((p) => p[0]));
  const t1 = Math.max(...all.map((p) => p[0]), t0 + 1);
  const vmax = opts.max ?? (Math.max(...all.map((p) => p[1]), 0) * 1.1 || 1);
  const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - 8);
  const y = (v) => H - B - (v / vmax) * (H - B - 10);
  const colors = ["#2d5bd7", "#d7792d", "#1f8a4c", "#9b3fc2", "#c2332f"];
  const grid = [0, 0.5, 1]
    .map((f) => {
      const v = vmax * f;
      return `<line x1="${L}" x2="${W - 8}" y1="${y(v)}" y2="${y(v)}" stroke="#e3e6ec"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11" fill="#6b7385">${fmt(v, v < 10 ? 2 : 0)}</text>`;
    })
    .join("");
  const lines = series
    .map((s, i) => {
      const pts = s.points.filter((p) => Number.isFinite(p[1]));
      if (pts.length === 0) return "";
      const d = pts.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ");
      const dot =
        pts.length === 1
          ? `<circle cx="${x(pts[0][0])}" cy="${y(pts[0][1])}" r="3" fill="${colors[i % 5]}"/>`
          : "";
      return `<polyline fill="none" stroke="${colors[i % 5]}" stroke-width="2" points="${d}"/>${dot}`;
    })
    .join("");
  const axis = `<text x="${L}" y="${H - 4}" font-size="11" fill="#6b7385">${time(t0)}</text><text x="${W - 8}" y="${H - 4}" font-size="11" fill="#6b7385" text-anchor="end">${time(t1)}</text>`;
  const legend = series
    .map((s, i) => `<span><i class="swatch sw${i % 5}"></i>${esc(s.name)}</span>`)
    .join("");
  return `<div class="card chart"><h2>${esc(title)} <span class="muted">(${esc(unit)})</span></h2>
    <svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" aria-label="${esc(title)}">${grid}${lines}${axis}</svg>
    <div class="legend">${legend}</div></div>`;
}

// --- views ---------------------------------------------------------------------------------------

const rails = (w) =>
  Object.entries(w ?? {})
    .map(([k, v]) => `${esc(k)} ${fmt(v, 1)}`)
    .join(" · ") || "–";
const counts = (g) => {
  const c = g?.counts ?? {};
  return `<span class="ev ALLOW">${num(c.ALLOW ?? 0)}</span> <span class="ev DENY">${num(c.DENY ?? 0)}</span> <span class="ev ESCALATE">${num(c.ESCALATE ?? 0)}</span>`;
};
const p99 = (g) => (typeof g?.p99_ms === "number" ? `${fmt(g.p99_ms * 1000, 0)} µs` : "–");
const evBadge = (e) => `<span class="ev ${esc(e ?? "none")}">${esc(e ?? kindless(e))}</span>`;
const kindless = () => "—";

function actionText(a) {
  if (!a || typeof a !== "object") return esc(JSON.stringify(a));
  if (a.kind === "shell") return `<code>$ ${esc(a.command)}</code>`;
  if (a.kind === "http") return `<code>${esc(a.method ?? "GET")} ${esc(a.url)}</code>`;
  if (a.kind === "file") return `<code>${esc(a.op ?? "")} ${esc(a.path)}</code>`;
  return `<code>${esc(a.kind ?? "")}</code> <span class="muted mono">${esc(JSON.stringify(a).slice(0, 160))}</span>`;
}

async function fleetView() {
  const [f, alerts] = await Promise.all([api("/v1/fleet"), api("/v1/alerts?limit=8")]);
  const rows = f.hosts
    .map((h) => {
      const hb = h.heartbeat ?? {};
      const r = hb.reading ?? {};
      return `<tr class="link" data-host="${esc(h.host_id)}">
        <td><b>${esc(h.host_id)}</b><div class="reasons">${esc(hb.facts?.chip ?? "")}</div></td>
        <td><span class="status ${esc(h.status)}">${esc(h.status)}</span><div class="reasons">${h.reasons.map(esc).join("<br>")}</div></td>
        <td class="num">${fmt(r.cpu_percent)}</td>
        <td>${rails(r.watts)}</td>
        <td class="num">${fmt(r.temperature_c)}</td>
        <td>${counts(hb.gate)}</td>
        <td class="num">${p99(hb.gate)}</td>
        <td class="num">${num(hb.evidence?.backlog)}</td>
        <td>${esc(hb.policy?.id ?? "–")} <b>v${esc(hb.policy?.version ?? "?")}</b></td>
        <td class="num">${Array.isArray(hb.reviews) ? hb.reviews.length : 0}</td>
        <td class="muted">${ago(h.last_heartbeat_ms)}</td></tr>`;
    })
    .join("");
  const alertRows = alerts.alerts
    .map(
      (a) =>
        `<tr><td>${esc(a.host_id ?? "–")}</td><td><code>${esc(a.code)}</code></td><td>${esc(a.message)}</td><td class="num">${a.count}</td><td class="muted">${ago(a.last_ms)}</td></tr>`,
    )
    .join("");
  view.innerHTML = `
    <div class="tiles">
      <div class="tile online"><div class="n" data-count="online">${num(f.counts.online)}</div>online</div>
      <div class="tile stale"><div class="n" data-count="stale">${num(f.counts.stale)}</div>stale</div>
      <div class="tile offline"><div class="n" data-count="offline">${num(f.counts.offline)}</div>offline</div>
      <div class="tile"><div class="n">${num(f.hosts.length)}</div>hosts</div>
    </div>
    <div class="card"><h2>Hosts</h2><table id="hosts">
      <thead><tr><th>host</th><th>status</th><th class="num">CPU %</th><th>power (W)</th><th class="num">°C</th>
      <th>gate A / D / E</th><th class="num">gate p99</th><th class="num">backlog</th><th>policy</th><th class="num">reviews</th><th>heartbeat</th></tr></thead>
      <tbody>${rows || `<tr><td colspan="11" class="muted">no hosts yet</td></tr>`}</tbody></table></div>
    <div class="card"><h2>Recent alerts</h2><table><thead><tr><th>host</th><th>code</th><th>message</th><th class="num">count</th><th>last</th></tr></thead>
      <tbody>${alertRows || `<tr><td colspan="5" class="muted">none</td></tr>`}</tbody></table></div>`;
  for (const tr of view.querySelectorAll("tr[data-host]"))
    tr.addEventListener("click", () => (location.hash = `#/host/${encodeURIComponent(tr.dataset.host)}`));
}

async function hostView(id) {
  const h = await api(`/v1/hosts/${encodeURIComponent(id)}`);
  const hb = h.heartbeat ?? {};
  const facts = hb.facts ?? {};
  const s = h.series ?? [];
  const railNames = [...new Set(s.flatMap((p) => Object.keys(p.watts ?? {})))];
  const power = railNames.map((r) => ({ name: r, points: s.map((p) => [p.t, p.watts?.[r]]) }));
  const from = Math.max(0, (h.last_seq ?? 0) - 300);
  const recs = await api(`/v1/records?host_id=${encodeURIComponent(id)}&after_seq=${from}&limit=300`);
  const sessions = new Map();
  for (const r of recs.records)
    sessions.set(r.session_id, { last: r.timestamp, n: (sessions.get(r.session_id)?.n ?? 0) + 1 });
  const sessionRows = [...sessions.entries()]
    .reverse()
    .slice(0, 12)
    .map(
      ([sid, v]) =>
        `<tr class="link" data-session="${esc(sid)}"><td><code>${esc(sid)}</code></td><td class="num">${num(v.n)}</td><td class="muted">${esc(v.last)}</td></tr>`,
    )
    .join("");
  view.innerHTML = `
    <h1>${esc(h.host_id)} <span class="status ${esc(h.status)}">${esc(h.status)}</span> <span class="reasons">${h.reasons.map(esc).join("; ")}</span></h1>
    <div class="grid">
      <div class="card"><h2>Host</h2><dl class="facts">
        <dt>model</dt><dd>${esc(facts.model ?? "–")}</dd><dt>chip</dt><dd>${esc(facts.chip ?? "–")}</dd>
        <dt>memory</dt><dd>${facts.memory_bytes ? fmt(facts.memory_bytes / 2 ** 30, 1) + " GiB" : "–"}</dd>
        <dt>OS</dt><dd>${esc(facts.os ?? "–")} (${esc(facts.arch ?? "")})</dd><dt>agent</dt><dd>${esc(facts.version ?? hb.version ?? "–")}</dd>
        <dt>policy</dt><dd>${esc(hb.policy?.id ?? "–")} v${esc(hb.policy?.version ?? "?")} <span class="muted mono">${esc((hb.policy?.sha256 ?? "").slice(0, 12))}</span> (${esc(hb.policy?.source ?? "")})</dd>
        <dt>models</dt><dd>${esc((hb.models ?? []).map((m) => `${m.backend}:${m.model ?? "default"}`).join(", ") || "–")}</dd>
        <dt>tokens/s</dt><dd>${fmt(hb.inference?.tokens_per_second)}</dd>
        <dt>evidence</dt><dd>seq ${num(h.last_seq)} · backlog ${num(hb.evidence?.backlog)} · checkpoint ${num(h.checkpoint_seq)}</dd>
        <dt>gate</dt><dd>${counts(hb.gate)} · p99 ${p99(hb.gate)}</dd>
        <dt>heartbeat</dt><dd>${ago(h.last_heartbeat_ms)}</dd></dl></div>
      ${chart("Power", "W", power, { empty: s.length ? "this host reports no power counters (RAPL on Linux, IOReport on macOS)" : "no data yet" })}
      ${chart("CPU", "%", [{ name: "cpu busy", points: s.map((p) => [p.t, p.cpu_percent]) }], { max: 100 })}
      ${chart("Gate latency p99", "µs", [{ name: "p99", points: s.map((p) => [p.t, typeof p.gate_p99_ms === "number" ? p.gate_p99_ms * 1000 : null]) }])}
    </div>
    <div class="grid">
      <div class="card"><h2>Sessions</h2><table><thead><tr><th>session</th><th class="num">records</th><th>last</th></tr></thead><tbody>${sessionRows || `<tr><td colspan="3" class="muted">none</td></tr>`}</tbody></table></div>
      <div class="card"><h2>Alerts</h2><table><tbody>${(h.alerts ?? []).map((a) => `<tr><td><code>${esc(a.code)}</code></td><td>${esc(a.message)}</td><td class="muted">${ago(a.last_ms)}</td></tr>`).join("") || `<tr><td class="muted">none</td></tr>`}</tbody></table></div>
    </div>`;
  for (const tr of view.querySelectorAll("tr[data-session]"))
    tr.addEventListener(
      "click",
      () => (location.hash = `#/session/${encodeURIComponent(tr.dataset.session)}`),
    );
}

async function reviewsView() {
  const r = await api("/v1/reviews");
  const rows = r.reviews
    .map(
      (v) => `<tr data-review="${esc(v.action_id)}">
      <td><b>${esc(v.host_id)}</b><div class="reasons"><a href="#/session/${encodeURIComponent(v.session_id)}">${esc(v.session_id)}</a></div></td>
      <td>${actionText(v.proposed_action)}<div class="reasons">${(v.reasons ?? []).map(esc).join("; ")}</div></td>
      <td class="num">${esc(v.risk ?? "–")}</td>
      <td class="muted">${v.timestamp ? ago(Date.parse(v.timestamp)) : "–"}</td>
      <td><div class="actions"><input class="reason" placeholder="reason (optional)" aria-label="reason">
        <button class="approve" data-decision="approve">Approve</button><button class="deny" data-decision="deny">Deny</button></div>
        <div class="error"></div></td></tr>`,
    )
    .join("");
  const decided = r.decided
    .map(
      (d) =>
        `<tr><td>${esc(d.host_id)}</td><td><code>${esc(d.action_id)}</code></td><td>${esc(d.decision)}</td><td>${esc(d.reviewer)}</td><td>${evBadge(d.evaluation)} ${esc(d.state ?? "")}</td><td class="muted">${ago(d.at_ms)}</td></tr>`,
    )
    .join("");
  view.innerHTML = `<div class="card"><h2>Escalations waiting for review</h2><table id="reviews">
    <thead><tr><th>host / session</th><th>proposed action</th><th class="num">risk</th><th>waiting</th><th></th></tr></thead>
    <tbody>${rows || `<tr><td colspan="5" class="muted">nothing waiting</td></tr>`}</tbody></table></div>
    <div class="card"><h2>Decided here</h2><table id="decided"><thead><tr><th>host</th><th>action</th><th>decision</th><th>reviewer</th><th>result</th><th>when</th></tr></thead>
    <tbody>${decided || `<tr><td colspan="6" class="muted">none yet</td></tr>`}</tbody></table></div>`;
  for (const tr of view.querySelectorAll("tr[data-review]")) {
    for (const b of tr.querySelectorAll("button[data-decision]")) {
      b.addEventListener("click", async () => {
        clearInterval(timer);
        for (const x of tr.querySelectorAll("button")) x.disabled = true;
        try {
          await api(`/v1/reviews/${encodeURIComponent(tr.dataset.review)}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({
              decision: b.dataset.decision,
              reason: tr.querySelector(".reason").value || null,
            }),
          });
        } catch (err) {
          tr.querySelector(".error").textContent = err.message;
        }
        route();
      });
    }
  }
}

const excerpt = (v) => (typeof v === "string" ? v : (v?.excerpt ?? ""));

/** A timeline entry for an action that is not a record yet (an escalation, or in flight). */
function pendingItem(p) {
  const what = p.proposed_action ? actionText(p.proposed_action) : `<code>${esc(p.summary ?? "")}</code>`;
  const review =
    p.state === "escalated"
      ? ` · <a href="#/reviews">waiting for review</a>${p.reasons?.length ? ` — ${esc(p.reasons.join("; "))}` : ""}`
      : "";
  return `<li class="pending ${esc(p.evaluation ?? "none")}" data-action="${esc(p.action_id)}">
    <div class="head"><span class="muted mono">${esc(p.timestamp ?? "–")}</span> <b>${esc(p.host_id)}</b> ${evBadge(p.evaluation)}
      <span class="state">${esc(p.state)}</span> <span class="muted">not final yet: no record until it settles</span></div>
    <div>${what}</div><div class="reasons"><code>${esc(p.action_id)}</code>${review}</div>
  </li>`;
}

/**
 * A decision the host shipped the moment it made it (GET /v1/decisions), as a pending item: its
 * draft record carries the action, the evaluation and (for an ALLOW) the plan.
 */
const decisionPending = (d) => ({
  action_id: d.action_id,
  host_id: d.host_id,
  state: d.state,
  evaluation: d.record?.evaluation,
  timestamp: d.record?.timestamp,
  proposed_action: d.record?.proposed_action,
  // The agent wrote this record: a rule list of another shape shows as none, never as markup.
  reasons: Array.isArray(d.record?.policy_matched?.rules)
    ? d.record.policy_matched.rules.map((m) => String(m?.rule_id ?? ""))
    : [],
});

async function sessionView(id) {
  const [r, p, dec] = await Promise.all([
    api(`/v1/records?session_id=${encodeURIComponent(id)}&limit=1000`),
    api(`/v1/sessions/${encodeURIComponent(id)}/pending`),
    api(`/v1/decisions?session_id=${encodeURIComponent(id)}&limit=1000`),
  ]);
  const final = new Set(r.records.map((x) => `${x.host_id} ${x.action_id}`));
  // A record can arrive before the heartbeat that stops listing its action: the record wins. A
  // shipped decision shows until its final record arrives, even when the host stopped reporting.
  const listed = new Set(p.pending.map((x) => `${x.host_id} ${x.action_id}`));
  const shipped = dec.decisions
    .filter((d) => !listed.has(`${d.host_id} ${d.action_id}`))
    .map(decisionPending);
  const pending = [...p.pending, ...shipped].filter((x) => !final.has(`${x.host_id} ${x.action_id}`));
  const recs = [...r.records].sort((a, b) => a.timestamp.localeCompare(b.timestamp) || a.seq - b.seq);
  const items = recs
    .map((x) => {
      const pr = x.principal_review;
      const res = x.execution_result;
      const out =
        res && typeof res === "object"
          ? [excerpt(res.stdout), excerpt(res.stderr)].filter(Boolean).join("\n")
          : "";
      return `<li class="${esc(x.evaluation ?? "none")}" data-seq="${x.seq}">
        <div class="head"><span class="muted mono">${esc(x.timestamp)}</span> <b>${esc(x.host_id)}</b> #${x.seq} <code>${esc(x.kind)}</code> ${evBadge(x.evaluation)}
          <span class="muted">gate ${fmt(x.latency_ms * 1000, 0)} µs</span></div>
        <div>${actionText(x.proposed_action)}</div>
        <div class="reasons">rules: ${esc((x.policy_matched?.rules ?? []).map((m) => `${m.rule_id} (${m.effect})`).join(", ") || "none")}
          · policy ${esc(x.policy_matched?.bundle?.id ?? "–")} v${esc(x.policy_matched?.bundle?.version ?? "?")}</div>
        ${pr ? `<div class="review">review: <b>${esc(pr.decision)}</b> by <b class="reviewer">${esc(pr.reviewer)}</b> at ${esc(pr.at)}${pr.reason ? ` — ${esc(pr.reason)}` : ""}</div>` : ""}
        ${res && typeof res === "object" ? `<div>result: exit ${esc(res.exit_code ?? res.status ?? "–")}</div>${out ? `<pre>${esc(out)}</pre>` : ""}` : ""}
      </li>`;
    })
    .join("");
  const waiting = pending.map(pendingItem).join("");
  view.innerHTML = `<h1>Session <code>${esc(id)}</code> <span class="muted">${recs.length} record(s), reconstructed from evidence${pending.length ? `, ${pending.length} pending` : ""}</span></h1>
    <ol class="timeline">${items + waiting || `<li class="muted">no records for this session yet</li>`}</ol>`;
}

/** Decisions the hosts shipped before their final records, newest first; "final" once the record arrived. */
async function decisionsView() {
  const d = await api("/v1/decisions?limit=200");
  const rows = d.decisions
    .map((x) => {
      const p = decisionPending(x);
      return `<tr data-decision-row="${esc(x.action_id)}"><td><b>${esc(x.host_id)}</b><div class="reasons"><a href="#/session/${encodeURIComponent(x.session_id)}">${esc(x.session_id)}</a></div></td>
        <td>${actionText(p.proposed_action)}<div class="reasons"><code>${esc(x.action_id)}</code></div></td>
        <td>${evBadge(p.evaluation)}</td><td class="state">${esc(x.state)}</td>
        <td class="muted mono">${esc(p.timestamp ?? "–")}</td><td class="muted">${ago(x.received_ms)}</td></tr>`;
    })
    .join("");
  view.innerHTML = `<div class="card"><h2>Decisions shipped before their final records</h2><table id="decisions">
    <thead><tr><th>host / session</th><th>proposed action</th><th>evaluation</th><th>state</th><th>decided</th><th>received</th></tr></thead>
    <tbody>${rows || `<tr><td colspan="6" class="muted">none yet</td></tr>`}</tbody></table></div>`;
}

async function alertsView() {
  const a = await api("/v1/alerts?limit=200");
  view.innerHTML = `<div class="card"><h2>Alerts</h2><table><thead><tr><th>host</th><th>code</th><th>message</th><th class="num">count</th><th>first</th><th>last</th></tr></thead><tbody>
    ${a.alerts.map((x) => `<tr><td>${esc(x.host_id ?? "–")}</td><td><code>${esc(x.code)}</code></td><td>${esc(x.message)}</td><td class="num">${x.count}</td><td class="muted">${ago(x.first_ms)}</td><td class="muted">${ago(x.last_ms)}</td></tr>`).join("") || `<tr><td colspan="6" class="muted">none</td></tr>`}
    </tbody></table></div>`;
}

async function updateReviewCount() {
  try {
    const r = await api("/v1/reviews");
    const el = $("#review-count");
    el.textContent = String(r.reviews.length);
    el.classList.toggle("zero", r.reviews.length === 0);
  } catch {
    // the view's own request reports errors
  }
}

async function render() {
  const h = location.hash || "#/";
  const [, name, arg] = h.split("/");
  for (const a of document.querySelectorAll("[data-nav]"))
    a.classList.toggle(
      "active",
      a.dataset.nav === (name || "fleet") || (name === "host" && a.dataset.nav === "fleet"),
    );
  try {
    if (name === "host") await hostView(decodeURIComponent(arg));
    else if (name === "reviews") await reviewsView();
    else if (name === "session") await sessionView(decodeURIComponent(arg));
    else if (name === "alerts") await alertsView();
    else if (name === "decisions") await decisionsView();
    else if (name === "drift") await (await import("/dashboard/drift.js")).driftView({ api, view, esc, fmt });
    else if (name === "models" || name === "lineage")
      await (await import("/dashboard/lineage.js"))[`${name}View`](
        { api, view, esc, fmt },
        decodeURIComponent(arg ?? ""),
      );
    else if (name === "training")
      await (await import("/dashboard/training.js")).trainingView({ api, view, esc, fmt });
    else if (name === "benchmarks")
      await (await import("/dashboard/benchmarks.js")).benchmarksView({ api, view, esc, fmt });
    else await fleetView();
    await updateReviewCount();
    document.body.dataset.ready = h;
  } catch (err) {
    if (err instanceof Unauthenticated) return showLogin();
    view.innerHTML = `<div class="card error">${esc(err.message)}</div>`;
  }
}

function route() {
  clearInterval(timer);
  if (operator === null) return;
  render();
  // The review queue is not re-rendered under the operator's cursor while they type a reason.
  timer = setInterval(() => {
    if (!(location.hash.startsWith("#/reviews") && document.activeElement?.classList.contains("reason")))
      render();
  }, POLL_MS);
}

window.addEventListener("hashchange", route);

/** A collector without operators: the form could never succeed, so say what to configure instead. */
function noOperators(message) {
  showLogin(message);
  for (const el of $("#login-form").querySelectorAll("input, button")) el.disabled = true;
}

api("/v1/session")
  .then((r) => signedIn(r.operator))
  .catch((err) =>
    err instanceof Unauthenticated && err.details.operators_configured === false
      ? noOperators(err.message)
      : showLogin(),
  );
