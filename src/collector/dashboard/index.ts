/**
 * The dashboard: static HTML/CSS/JS (no build step, no CDN) served by the collector at `/` and
 * `/dashboard/*`. The page is public (it holds only the sign-in form); every figure it shows comes
 * from the JSON API, which needs an operator session (operators.ts).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { CollectorContext } from "../context.js";

const TYPES: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
  "benchmarks.js": "text/javascript; charset=utf-8",
  "drift.js": "text/javascript; charset=utf-8",
  "lineage.js": "text/javascript; charset=utf-8",
  "training.js": "text/javascript; charset=utf-8",
};

/** The static directory: next to this file in src/, or the source copy when running from dist/. */
export function staticDir(): string {
  const here = import.meta.url;
  const rel = here.includes("/dist/src/") ? "../../../../src/collector/dashboard/static/" : "./static/";
  return fileURLToPath(new URL(rel, here));
}

/** Registers `/` and `/dashboard/{app.js,style.css}`; the files are read once, at registration. */
export function registerDashboard(ctx: CollectorContext, dir = staticDir()): void {
  const files = new Map<string, { text: string; contentType: string }>();
  for (const [name, contentType] of Object.entries(TYPES)) {
    files.set(name, { text: readFileSync(`${dir}/${name}`, "utf8"), contentType });
  }
  const serve = (name: string) => () => {
    const f = files.get(name)!;
    return { text: f.text, contentType: f.contentType, headers: SECURITY_HEADERS };
  };
  ctx.routes.add("GET", "/", serve("index.html"));
  ctx.routes.add("GET", "/dashboard/app.js", serve("app.js"));
  ctx.routes.add("GET", "/dashboard/style.css", serve("style.css"));
  ctx.routes.add("GET", "/dashboard/benchmarks.js", serve("benchmarks.js"));
  ctx.routes.add("GET", "/dashboard/drift.js", serve("drift.js"));
  ctx.routes.add("GET", "/dashboard/lineage.js", serve("lineage.js"));
  ctx.routes.add("GET", "/dashboard/training.js", serve("training.js"));
}

/** Same-origin everything: the page loads nothing from elsewhere and cannot be framed. */
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "cache-control": "no-store",
};
