// forge-agent fleet dashboard: plain ES module, no build step, no dependencies.
// Views: #/ (fleet), #/host/ID, #/reviews, #/sessions, #/session/ID, #/decisions, #/alerts. Polls the JSON API every 2 s.
// A view's options ride in the hash after "?" (#/host/ID?range=1h, #/sessions?q=deploy&range=24h).

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
/** A duration in ms for people: "850 ms", "42 s", "14 min", "2 h 5 min", "3 d 4 h". */
const dur = (ms) => {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "–";
  const a = Math.abs(ms);
  if (a < 1000) return `${Math.round(a)} ms`;
  const s = Math.round(a / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400)
    return `${Math.floor(s / 3600)} h${s % 3600 >= 60 ? ` ${Math.floor((s % 3600) / 60)} min` : ""}`;
  return `${Math.floor(s / 86400)} d${s % 86400 >= 3600 ? ` ${Math.floor((s % 86400) / 3600)} h` : ""}`;
};
const ago = (ms) => {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "never";
  const d = Date.now() - ms;
  return d < 1000 && d > -1000 ? "just now" : d > 0 ? `${dur(d)} ago` : `in ${dur(-d)}`;
};
const time = (t) => (t ? new Date(t).toLocaleTimeString([], { hour12: false }) : "–");
/** epoch ms from epoch ms or RFC 3339; NaN for anything else (an agent wrote it). */
const msOf = (t) => {
  const ms = typeof t === "number" ? t : typeof t === "string" ? Date.parse(t) : Number.NaN;
  return Number.isNaN(new Date(ms).getTime()) ? Number.NaN : ms;
};
/**
 * A moment as people read it: relative ("3 min ago"), then the local time (the date too when not
 * today); the full local date and time in the tooltip, the exact instant in `datetime`.
 */
function stamp(t, none = "–") {
  const ms = msOf(t);
  if (Number.isNaN(ms)) return `<span class="muted">${esc(none)}</span>`;
  const d = new Date(ms);
  const today = d.toDateString() === new Date().toDateString();
  const local = today
    ? d.toLocaleTimeString([], { hour12: false })
    : d.toLocaleString([], {
        hour12: false,
        month: "short",
        day: "numeric",
        hour: "2-digit",
        minute: "2-digit",
      });
  return `<time class="ts" datetime="${esc(d.toISOString())}" title="${esc(d.toLocaleString([], { hour12: false }))}">${esc(ago(ms))} <span class="muted">${esc(local)}</span></time>`;
}

/** The time ranges the range selector offers (#/host/ID?range=…, #/sessions?range=…). */
const RANGES = { "15m": 15 * 60e3, "1h": 3600e3, "6h": 6 * 3600e3, "24h": 24 * 3600e3, "7d": 7 * 86400e3 };
const rangeMs = (opts, fallback) => RANGES[opts.get("range")] ?? RANGES[fallback];
function rangeSelect(opts, fallback) {
  const cur = RANGES[opts.get("range")] ? opts.get("range") : fallback;
  return `<label class="range">range <select id="range">${Object.keys(RANGES)
    .map((k) => `<option value="${k}"${k === cur ? " selected" : ""}>last ${k}</option>`)
    .join("")}</select></label>`;
}
/** Sets one option of the current view in the hash (the view re-renders on hashchange). */
function setOption(name, value) {
  const [path, query] = (location.hash || "#/").split("?");
  const q = new URLSearchParams(query ?? "");
  if (value) q.set(name, value);
  else q.delete(name);
  const qs = q.toString();
  location.hash = qs ? `${path}?${qs}` : path;
}
function wireRange() {
  $("#range")?.addEventListener("change", (e) => setOption("range", e.target.value));
}
const hostLink = (id) =>
  id == null ? "–" : `<a class="host-link" href="#/host/${esc(encodeURIComponent(id))}">${esc(id)}</a>`;

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
  if (a.kind === "inference")
    return `inference <b class="model">${esc(a.model ?? "?")}</b> <code>${esc(a.endpoint ?? "")}</code>`;
  return `<code>${esc(a.kind ?? "")}</code> <span class="muted mono">${esc(JSON.stringify(a).slice(0, 160))}</span>`;
}

/** An `inference` record: the model, the request and what came back, never its raw JSON. */
function inferenceText(x) {
  const a = x.proposed_action && typeof x.proposed_action === "object" ? x.proposed_action : {};
  const r = x.execution_result && typeof x.execution_result === "object" ? x.execution_result : {};
  const t = r.timing && typeof r.timing === "object" ? r.timing : null;
  const calls = Array.isArray(r.tool_calls) ? r.tool_calls : [];
  const parts = [
    `<b class="model">${esc(r.model ?? a.model ?? "?")}</b> <span class="muted">${esc(r.backend ?? a.backend ?? "")}</span> <code>${esc(a.endpoint ?? "")}</code>`,
  ];
  if (t)
    parts.push(
      `${num(t.prompt_tokens)} prompt → ${num(t.generated_tokens)} generated tokens · ${fmt(t.tokens_per_s)} tokens/s · first token ${dur(t.ttft_ms)}`,
    );
  // Records before execution_result.duration_ms carried the request's time in latency_ms.
  const took = typeof r.duration_ms === "number" ? r.duration_ms : x.latency_ms;
  parts.push(`request ${dur(took)}${r.done_reason ? ` · ${esc(r.done_reason)}` : ""}`);
  if (calls.length)
    parts.push(
      `tool calls: ${calls.map((c) => `<code>${esc(c?.name)}</code> ${evBadge(typeof c?.evaluation === "string" ? c.evaluation : null)}`).join(", ")}`,
    );
  if (r.error && typeof r.error === "object")
    parts.push(`<span class="error">${esc(r.error.code)}: ${esc(r.error.message)}</span>`);
  return `<div class="inference">${parts.map((p) => `<div>${p}</div>`).join("")}</div>`;
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
        <td>${stamp(h.last_heartbeat_ms, "never")}</td></tr>`;
    })
    .join("");
  const alertRows = alerts.alerts
    .map(
      (a) =>
        `<tr><td>${hostLink(a.host_id)}</td><td><code>${esc(a.code)}</code></td><td>${esc(a.message)}</td><td class="num">${num(a.count)}</td><td>${stamp(a.last_ms)}</td></tr>`,
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

async function hostView(id, opts) {
  const span = rangeMs(opts, "1h");
  const since = Date.now() - span;
  const hid = encodeURIComponent(id);
  const [h, ss] = await Promise.all([
    api(`/v1/hosts/${hid}?since=${since}`),
    api(`/v1/sessions?host_id=${hid}&since=${since}&limit=12`),
  ]);
  const hb = h.heartbeat ?? {};
  const facts = hb.facts ?? {};
  const s = h.series ?? [];
  const railNames = [...new Set(s.flatMap((p) => Object.keys(p.watts ?? {})))];
  const power = railNames.map((r) => ({ name: r, points: s.map((p) => [p.t, p.watts?.[r]]) }));
  const sessionRows = ss.sessions
    .map(
      (v) =>
        `<tr class="link" data-session="${esc(v.session_id)}"><td><code>${esc(v.session_id)}</code></td><td class="num">${num(v.records)}</td><td>${stamp(v.last_ms)}</td></tr>`,
    )
    .join("");
  // No power counters: one line instead of an empty chart.
  const powerPanel =
    power.length > 0
      ? chart("Power", "W", power)
      : `<div class="card collapsed" id="power-empty"><h2>Power</h2> <span class="muted">${esc(s.length ? "this host reports no power counters (RAPL on Linux, IOReport on macOS)" : "no data in this range")}</span></div>`;
  view.innerHTML = `
    <h1>${esc(h.host_id)} <span class="status ${esc(h.status)}">${esc(h.status)}</span> <span class="reasons">${h.reasons.map(esc).join("; ")}</span>
      <span class="toolbar">${rangeSelect(opts, "1h")}</span></h1>
    ${power.length > 0 ? "" : powerPanel}
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
        <dt>heartbeat</dt><dd>${stamp(h.last_heartbeat_ms, "never")}</dd></dl></div>
      ${power.length > 0 ? powerPanel : ""}
      ${chart("CPU", "%", [{ name: "cpu busy", points: s.map((p) => [p.t, p.cpu_percent]) }], { max: 100 })}
      ${chart("Gate latency p99", "µs", [{ name: "p99", points: s.map((p) => [p.t, typeof p.gate_p99_ms === "number" ? p.gate_p99_ms * 1000 : null]) }])}
    </div>
    <div class="grid">
      <div class="card"><h2>Sessions <span class="muted">in this range · <a href="#/sessions?host_id=${esc(hid)}">search</a></span></h2><table id="host-sessions"><thead><tr><th>session</th><th class="num">records</th><th>last</th></tr></thead><tbody>${sessionRows || `<tr><td colspan="3" class="muted">none</td></tr>`}</tbody></table></div>
      <div class="card"><h2>Alerts</h2><table><tbody>${(h.alerts ?? []).map((a) => `<tr><td><code>${esc(a.code)}</code></td><td>${esc(a.message)}</td><td>${stamp(a.last_ms)}</td></tr>`).join("") || `<tr><td class="muted">none</td></tr>`}</tbody></table></div>
    </div>`;
  wireRange();
  for (const tr of view.querySelectorAll("tr[data-session]"))
    tr.addEventListener(
      "click",
      () => (location.hash = `#/session/${encodeURIComponent(tr.dataset.session)}`),
    );
}

/** #/sessions: a search over the sessions the collector holds (GET /v1/sessions), by text, host and range. */
async function sessionsView(opts) {
  const q = opts.get("q") ?? "";
  const host = opts.get("host_id") ?? "";
  const params = new URLSearchParams({ since: String(Date.now() - rangeMs(opts, "24h")), limit: "200" });
  if (q) params.set("q", q);
  if (host) params.set("host_id", host);
  let rows = "";
  let error = "";
  try {
    const r = await api(`/v1/sessions?${params}`);
    rows = r.sessions
      .map(
        (
          v,
        ) => `<tr data-session="${esc(v.session_id)}"><td><a href="#/session/${esc(encodeURIComponent(v.session_id))}"><code>${esc(v.session_id)}</code></a></td>
        <td>${(Array.isArray(v.hosts) ? v.hosts : []).map(hostLink).join(", ")}</td><td class="num">${num(v.records)}</td>
        <td>${stamp(v.first_ms)}</td><td>${stamp(v.last_ms)}</td></tr>`,
      )
      .join("");
  } catch (err) {
    if (err instanceof Unauthenticated) throw err;
    error = err.message;
  }
  view.innerHTML = `<div class="card"><h2>Sessions</h2>
    <form id="session-search" class="search">
      <input name="q" type="search" placeholder="session id or text in its records" aria-label="search" value="${esc(q)}">
      <input name="host_id" placeholder="host" aria-label="host" value="${esc(host)}">
      ${rangeSelect(opts, "24h")}
      <button type="submit">Search</button></form>
    <p class="error" id="search-error" role="alert">${esc(error)}</p>
    <table id="sessions"><thead><tr><th>session</th><th>hosts</th><th class="num">records</th><th>first</th><th>last</th></tr></thead>
    <tbody>${rows || `<tr><td colspan="5" class="muted">${error ? "" : "no session matches"}</td></tr>`}</tbody></table></div>`;
  const form = $("#session-search");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const next = new URLSearchParams();
    for (const k of ["q", "host_id", "range"]) if (f.get(k)) next.set(k, String(f.get(k)));
    location.hash = `#/sessions?${next}`;
  });
  form.querySelector("select").name = "range";
}

async function reviewsView() {
  const r = await api("/v1/reviews");
  const rows = r.reviews
    .map(
      (v) => `<tr data-review="${esc(v.action_id)}">
      <td><b>${hostLink(v.host_id)}</b><div class="reasons"><a href="#/session/${esc(encodeURIComponent(v.session_id))}">${esc(v.session_id)}</a></div></td>
      <td>${actionText(v.proposed_action)}<div class="reasons">${(v.reasons ?? []).map(esc).join("; ")}</div></td>
      <td class="num">${esc(v.risk ?? "–")}</td>
      <td>${stamp(v.timestamp)}</td>
      <td class="deadline">${deadlineText(v.deadline_ms)}</td>
      <td><div class="actions"><input class="reason" placeholder="reason (optional)" aria-label="reason">
        <button class="approve" data-decision="approve">Approve</button><button class="deny" data-decision="deny">Deny</button></div>
        <div class="error"></div></td></tr>`,
    )
    .join("");
  const decided = r.decided
    .map(
      (d) =>
        `<tr data-decided="${esc(d.action_id)}"><td>${hostLink(d.host_id)}${d.session_id ? `<div class="reasons"><a href="#/session/${esc(encodeURIComponent(d.session_id))}">${esc(d.session_id)}</a></div>` : ""}</td>
        <td>${d.proposed_action ? actionText(d.proposed_action) : `<code>${esc(d.action_id)}</code>`}</td>
        <td><b>${esc(d.decision)}</b></td><td class="reason">${d.reason ? esc(d.reason) : `<span class="muted">no reason given</span>`}</td><td>${esc(d.reviewer)}</td>
        <td>${evBadge(d.evaluation)} ${esc(d.state ?? "")}</td><td>${stamp(d.at_ms)}</td></tr>`,
    )
    .join("");
  view.innerHTML = `<div class="card"><h2>Escalations waiting for review</h2><table id="reviews">
    <thead><tr><th>host / session</th><th>proposed action</th><th class="num">risk</th><th>proposed</th><th>deadline</th><th></th></tr></thead>
    <tbody>${rows || `<tr><td colspan="6" class="muted">nothing waiting</td></tr>`}</tbody></table></div>
    <div class="card"><h2>Decided here</h2><table id="decided"><thead><tr><th>host / session</th><th>action</th><th>decision</th><th>reason</th><th>reviewer</th><th>result</th><th>when</th></tr></thead>
    <tbody>${decided || `<tr><td colspan="7" class="muted">none yet</td></tr>`}</tbody></table></div>`;
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

/**
 * A deadline (epoch ms: an escalation's review.deadline_ms, or an allowed action's result deadline
 * on the agent) as the time left, the local time in the tooltip.
 */
function deadlineText(deadline, what = "denied in", unless = "unless reviewed") {
  const ms = msOf(deadline);
  if (Number.isNaN(ms)) return `<span class="muted">none</span>`;
  const left = ms - Date.now();
  const local = esc(new Date(ms).toLocaleString([], { hour12: false }));
  return left > 0
    ? `<span title="${local}">${what} ${esc(dur(left))} ${unless}</span>`
    : `<span title="${local}">deadline passed ${esc(dur(-left))} ago</span>`;
}

const excerpt = (v) => (typeof v === "string" ? v : (v?.excerpt ?? ""));

/** A timeline entry for an action that is not a record yet (an escalation, or in flight). */
function pendingItem(p) {
  const what = p.proposed_action ? actionText(p.proposed_action) : `<code>${esc(p.summary ?? "")}</code>`;
  const review =
    p.state === "escalated"
      ? ` · <a href="#/reviews">waiting for review</a>${p.reasons?.length ? ` — ${esc(p.reasons.join("; "))}` : ""}${p.deadline_ms != null ? ` · ${deadlineText(p.deadline_ms)}` : ""}`
      : p.state === "allowed" && p.deadline_ms != null
        ? ` · ${deadlineText(p.deadline_ms, "recorded as unreported in", "unless the caller reports its result")}`
        : "";
  return `<li class="pending ${esc(p.evaluation ?? "none")}" data-action="${esc(p.action_id)}">
    <div class="head">${stamp(p.timestamp)} <b>${hostLink(p.host_id)}</b> ${evBadge(p.evaluation)}
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
  deadline_ms: d.deadline_ms,
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
      if (x.kind === "inference")
        return `<li class="inference none" data-seq="${num(x.seq)}">
        <div class="head">${stamp(x.timestamp)} <b>${hostLink(x.host_id)}</b> #${num(x.seq)} <code>inference</code></div>
        ${inferenceText(x)}</li>`;
      const out =
        res && typeof res === "object"
          ? [excerpt(res.stdout), excerpt(res.stderr)].filter(Boolean).join("\n")
          : "";
      // The gate's own time, for a record the gate decided (an ungated record has none).
      const gate =
        x.evaluation && typeof x.latency_ms === "number"
          ? `<span class="muted gate-latency">gate ${fmt(x.latency_ms * 1000, 0)} µs</span>`
          : "";
      const unreported = res && typeof res === "object" && res.status === "unreported";
      return `<li class="${esc(x.evaluation ?? "none")}" data-seq="${num(x.seq)}">
        <div class="head">${stamp(x.timestamp)} <b>${hostLink(x.host_id)}</b> #${num(x.seq)} <code>${esc(x.kind)}</code> ${evBadge(x.evaluation)}
          ${gate}</div>
        <div>${actionText(x.proposed_action)}</div>
        <div class="reasons">rules: ${esc((x.policy_matched?.rules ?? []).map((m) => `${m.rule_id} (${m.effect})`).join(", ") || "none")}
          · policy ${esc(x.policy_matched?.bundle?.id ?? "–")} v${esc(x.policy_matched?.bundle?.version ?? "?")}</div>
        ${pr ? `<div class="review">review: <b>${esc(pr.decision)}</b> by <b class="reviewer">${esc(pr.reviewer)}</b> ${stamp(pr.at)}${pr.reason ? ` — ${esc(pr.reason)}` : ""}</div>` : ""}
        ${
          unreported
            ? `<div>result: none reported before its deadline (${esc(new Date(msOf(res.deadline_ms) || 0).toLocaleString([], { hour12: false }))})</div>`
            : res && typeof res === "object"
              ? `<div>result: exit ${esc(res.exit_code ?? res.status ?? "–")}${typeof res.duration_ms === "number" ? ` in ${esc(dur(res.duration_ms))}` : ""}</div>${out ? `<pre>${esc(out)}</pre>` : ""}`
              : ""
        }
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
      return `<tr data-decision-row="${esc(x.action_id)}"><td><b>${hostLink(x.host_id)}</b><div class="reasons"><a href="#/session/${encodeURIComponent(x.session_id)}">${esc(x.session_id)}</a></div></td>
        <td>${actionText(p.proposed_action)}<div class="reasons"><code>${esc(x.action_id)}</code></div></td>
        <td>${evBadge(p.evaluation)}</td><td class="state">${esc(x.state)}</td>
        <td>${stamp(p.timestamp)}</td><td>${stamp(x.received_ms)}</td></tr>`;
    })
    .join("");
  view.innerHTML = `<div class="card"><h2>Decisions shipped before their final records</h2><table id="decisions">
    <thead><tr><th>host / session</th><th>proposed action</th><th>evaluation</th><th>state</th><th>decided</th><th>received</th></tr></thead>
    <tbody>${rows || `<tr><td colspan="6" class="muted">none yet</td></tr>`}</tbody></table></div>`;
}

async function alertsView() {
  const a = await api("/v1/alerts?limit=200");
  view.innerHTML = `<div class="card"><h2>Alerts</h2><table id="alerts"><thead><tr><th>host</th><th>code</th><th>message</th><th class="num">count</th><th>first</th><th>last</th></tr></thead><tbody>
    ${a.alerts.map((x) => `<tr data-alert="${esc(x.id)}"><td>${hostLink(x.host_id)}</td><td><code>${esc(x.code)}</code></td><td>${esc(x.message)}</td><td class="num">${num(x.count)}</td><td>${stamp(x.first_ms)}</td><td>${stamp(x.last_ms)}</td></tr>`).join("") || `<tr><td colspan="6" class="muted">none</td></tr>`}
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
  const [path, query] = h.split("?");
  const opts = new URLSearchParams(query ?? "");
  const [, name, arg] = path.split("/");
  for (const a of document.querySelectorAll("[data-nav]"))
    a.classList.toggle(
      "active",
      a.dataset.nav === (name || "fleet") ||
        (name === "host" && a.dataset.nav === "fleet") ||
        (name === "session" && a.dataset.nav === "sessions"),
    );
  try {
    if (name === "host") await hostView(decodeURIComponent(arg), opts);
    else if (name === "sessions") await sessionsView(opts);
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
  // Nor a view under a form the operator is using (the session search, the range selector).
  timer = setInterval(() => {
    const el = document.activeElement;
    if (location.hash.startsWith("#/reviews") && el?.classList.contains("reason")) return;
    if (el?.closest?.("form, #range")) return;
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
