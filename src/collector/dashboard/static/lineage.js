// Model lifecycle panels. #/models: which model digest each host serves and its stage (an
// unpromoted model is flagged). #/lineage/<action id | sha256:…>: the path from an action back to
// its training data (action → inference → model → promotion → evaluation → training → a fine-tune's base → dataset),
// drawn as a chain of SVG boxes, each marked verified or not. Data: GET /v1/models,
// GET /v1/lineage/:id (src/lifecycle/lineage.ts). Every value shown goes through esc().

const BOX_W = 150;
const BOX_H = 64;
const GAP = 28;

function short(v) {
  const s = String(v ?? "");
  return s.startsWith("sha256:") ? `${s.slice(0, 19)}…` : s.length > 22 ? `${s.slice(0, 21)}…` : s;
}

function caption(l) {
  const d = l.detail ?? {};
  switch (l.step) {
    case "action":
      return `${d.kind ?? ""} ${d.evaluation ?? ""}`;
    case "inference":
      return d.endpoint ?? "";
    case "model":
      return `${short(d.digest)}${d.stage ? ` @${d.stage}` : ""}`;
    case "promotion":
      return `${d.stage ?? ""} by ${d.reviewer ?? d.by ?? "?"}`;
    case "evaluation":
      return d.passed === true ? "passed" : d.passed === false ? "failed" : "";
    case "training":
      return `${(d.checkpoints ?? []).length} ckpt, ${(d.anomalies ?? []).length} anomalies`;
    case "base":
    case "dataset":
      return short(d.sha256 ? `sha256:${d.sha256}` : "");
    default:
      return "";
  }
}

/** The lineage chain as one SVG: a box per link, arrows between, green when verified. */
export function chainSvg(lineage, esc) {
  const n = lineage.links.length;
  const W = n * BOX_W + (n - 1) * GAP + 8;
  const boxes = lineage.links
    .map((l, i) => {
      const x = 4 + i * (BOX_W + GAP);
      const cls = l.verified ? "ok" : "bad";
      const where = l.host_id ? `${l.host_id}#${l.seq}` : "";
      const arrow =
        i < n - 1
          ? `<line x1="${x + BOX_W}" y1="${BOX_H / 2 + 4}" x2="${x + BOX_W + GAP - 4}" y2="${BOX_H / 2 + 4}" stroke="#555" marker-end="url(#arrow)"/>`
          : "";
      return `<g class="link ${cls}" data-step="${esc(l.step)}" data-verified="${l.verified}">
        <rect x="${x}" y="4" width="${BOX_W}" height="${BOX_H}" rx="6" fill="${l.verified ? "#e6f4ea" : "#fdecea"}" stroke="${l.verified ? "#2e7d32" : "#c62828"}"/>
        <text x="${x + 8}" y="22" font-size="12" font-weight="bold" fill="#222">${esc(l.step)} ${l.verified ? "✓" : "✗"}</text>
        <text x="${x + 8}" y="40" font-size="11" fill="#444">${esc(short(where))}</text>
        <text x="${x + 8}" y="56" font-size="11" fill="#444">${esc(short(caption(l)))}</text></g>${arrow}`;
    })
    .join("");
  return `<svg class="lineage" viewBox="0 0 ${W} ${BOX_H + 8}" width="${W}" height="${BOX_H + 8}" role="img" aria-label="lineage">
    <defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>${boxes}</svg>`;
}

export async function lineageView({ api, view, esc }, id) {
  const l = await api(`/v1/lineage/${encodeURIComponent(id)}`);
  const missing = l.missing.map((m) => `<li>${esc(m)}</li>`).join("");
  const actions = l.actions
    .map(
      (a) =>
        `<tr><td>${esc(a.host_id)}#${esc(a.seq)}</td><td><code>${esc(a.action_id)}</code></td><td>${esc(a.kind)}</td><td>${esc(a.evaluation ?? "")}</td></tr>`,
    )
    .join("");
  view.innerHTML = `<h1>Lineage <span class="muted"><code>${esc(id)}</code></span></h1>
    <div class="card"><p><span class="status ${l.verified ? "online" : "offline"}" id="lineage-status">${l.verified ? "every link verified" : "incomplete"}</span>
      ${l.dataset ? ` dataset <code id="lineage-dataset">sha256:${esc(l.dataset.sha256)}</code> (${esc(l.dataset.ref)})` : ""}</p>
      ${chainSvg(l, esc)}
      ${missing ? `<h3>Missing</h3><ul>${missing}</ul>` : ""}</div>
    ${l.direction === "forward" ? `<div class="card"><h3>Actions this model proposed</h3><table><thead><tr><th>record</th><th>action</th><th>kind</th><th>verdict</th></tr></thead><tbody>${actions || `<tr><td colspan="4" class="muted">none</td></tr>`}</tbody></table></div>` : ""}`;
}

export async function modelsView({ api, view, esc }) {
  const m = await api("/v1/models");
  const rows = m.hosts
    .map(
      (
        h,
      ) => `<tr data-host="${esc(h.host_id)}"><td><a href="#/host/${esc(encodeURIComponent(h.host_id))}">${esc(h.host_id)}</a></td>
        <td class="model"><b>${esc(h.model ?? "–")}</b>${h.backend ? ` <span class="muted">${esc(h.backend)}</span>` : ""}</td>
        <td>${h.digest ? `<a href="#/lineage/${esc(encodeURIComponent(h.digest))}"><code>${esc(short(h.digest))}</code></a>` : "–"}</td>
        <td class="stage">${esc(h.stage ?? (h.exempt ? "exempt" : "–"))}</td>
        <td>${h.unpromoted ? `<span class="status offline">unpromoted</span>` : h.exempt ? `<span class="status">smoke-test</span>` : `<span class="status online">promoted</span>`}</td>
        <td class="muted">${esc(h.label ?? "")}</td></tr>`,
    )
    .join("");
  view.innerHTML = `<h1>Models <span class="muted">what each host serves</span></h1>
    <div class="card"><table id="models"><thead><tr><th>host</th><th>model</th><th>digest</th><th>stage</th><th>admission</th><th>label</th></tr></thead>
    <tbody>${rows || `<tr><td colspan="6" class="muted">no host has served a model yet</td></tr>`}</tbody></table></div>`;
}
