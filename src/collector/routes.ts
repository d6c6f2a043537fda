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
  /** The peer's address (the socket's, never a forwarded header): what sign-in limits count per source. */
  remote: string;
  /** The request came over TLS. */
  tls: boolean;
}

/** A JSON response, or raw text (e.g. Prometheus metrics, HTML); `headers` are added as given. */
export type RouteResponse =
  | { status?: number; json: unknown; headers?: Record<string, string> }
  | { status?: number; text: string; contentType: string; headers?: Record<string, string> };

export type RouteHandler = (req: RouteRequest) => Promise<RouteResponse> | RouteResponse;

/** Runs before every matched handler (e.g. operator sign-in); throwing (or rejecting) refuses the request. */
export type RouteGuard = (req: RouteRequest) => void | Promise<void>;

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
  private readonly guards: RouteGuard[] = [];

  /** Adds a route; the same method and pattern added again replaces the earlier handler. */
  add(method: string, pattern: string, handler: RouteHandler): void {
    const route = { method: method.toUpperCase(), parts: split(pattern), handler };
    const same = this.routes.findIndex(
      (r) => r.method === route.method && r.parts.join("/") === route.parts.join("/"),
    );
    if (same >= 0) this.routes[same] = route;
    else this.routes.push(route);
  }

  /** Adds a guard every matched request passes through first. */
  use(guard: RouteGuard): void {
    this.guards.push(guard);
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
      const { handler } = r;
      const guards = this.guards;
      if (guards.length === 0) return { handler, params };
      return {
        handler: async (req) => {
          for (const g of guards) await g(req);
          return handler(req);
        },
        params,
      };
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
