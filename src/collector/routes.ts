import type { IncomingMessage } from "node:http";

/** One HTTP request as a route handler sees it. */
export interface RouteRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  /** Parsed JSON body (POST/PUT), or undefined. */
  body: unknown;
}

/** A JSON response, or raw text (e.g. Prometheus metrics, HTML). */
export type RouteResponse =
  | { status?: number; json: unknown }
  | { status?: number; text: string; contentType: string };

export type RouteHandler = (req: RouteRequest) => Promise<RouteResponse> | RouteResponse;

interface Route {
  method: string;
  parts: string[];
  handler: RouteHandler;
}

/**
 * A small route table: `add("GET", "/v1/hosts/:host_id", h)`. Later components (dashboard,
 * reviews, policy bundles) register their routes in their own files.
 */
export class RouteTable {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: RouteHandler): void {
    this.routes.push({ method: method.toUpperCase(), parts: split(pattern), handler });
  }

  /** The matching handler and params; `methodMismatch` when only the path matched. */
  match(
    method: string,
    path: string,
  ): { handler: RouteHandler; params: Record<string, string> } | "none" | "method" {
    const parts = split(path);
    let pathMatched = false;
    for (const r of this.routes) {
      const params = matchParts(r.parts, parts);
      if (params === null) continue;
      if (r.method !== method) {
        pathMatched = true;
        continue;
      }
      return { handler: r.handler, params };
    }
    return pathMatched ? "method" : "none";
  }
}

function split(path: string): string[] {
  return path.split("/").filter((p) => p !== "");
}

function matchParts(pattern: string[], parts: string[]): Record<string, string> | null {
  if (pattern.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.startsWith(":")) {
      try {
        params[p.slice(1)] = decodeURIComponent(parts[i]!);
      } catch {
        return null;
      }
    } else if (p !== parts[i]) return null;
  }
  return params;
}
