import { createServer, request, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import { HostAllowlist, resolveAllowed } from "./allowlist.js";

/**
 * The allowlist proxy for one sandboxed action: HTTP CONNECT (any TCP, e.g. TLS) and absolute-form
 * HTTP requests, on a Unix socket bound into the sandbox. The sandbox has no other network (its own
 * empty network namespace), so this is the only way out, and it asks `resolveAllowed` at connect time.
 */
export class AllowlistProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  /** What was refused, for the record. */
  readonly refused: string[] = [];

  constructor(hosts: readonly string[]) {
    const allow = new HostAllowlist(hosts);
    this.server = createServer((req, res) => {
      let url: URL;
      try {
        url = new URL(req.url ?? "");
      } catch {
        res.writeHead(400).end("forge-agent proxy: absolute-form request URL expected\n");
        return;
      }
      const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
      void resolveAllowed(url.hostname, port, allow).then((r) => {
        if (!r.ok) {
          this.refused.push(r.reason);
          res.writeHead(403, { "content-type": "text/plain" }).end(`forge-agent sandbox: ${r.reason}\n`);
          return;
        }
        const up = request(
          {
            host: r.address,
            port,
            method: req.method,
            path: `${url.pathname}${url.search}`,
            headers: req.headers,
          },
          (upRes) => {
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            upRes.pipe(res);
          },
        );
        up.on("error", (e) => res.writeHead(502).end(`forge-agent proxy: ${e.message}\n`));
        req.pipe(up);
      });
    });
    this.server.on("connect", (req, client: Socket, head) => {
      // Node takes its error listener off a socket it hands to "connect": a client that resets
      // before the upstream answers would otherwise be an uncaught ECONNRESET in the agent.
      client.on("error", () => client.destroy());
      this.track(client);
      const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(req.url ?? "");
      if (m === null) {
        client.end("HTTP/1.1 400 Bad Request\r\n\r\n");
        return;
      }
      const host = m[1]!.replace(/^\[|\]$/g, "");
      void resolveAllowed(host, Number(m[2]), allow).then((r) => {
        if (!r.ok) {
          this.refused.push(r.reason);
          client.end(
            `HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\n\r\nforge-agent sandbox: ${r.reason}\n`,
          );
          return;
        }
        const up = this.track(connect({ host: r.address, port: Number(m[2]) }));
        up.on("connect", () => {
          client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
          if (head.length > 0) up.write(head);
          up.pipe(client);
          client.pipe(up);
        });
        up.on("error", () => client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n"));
        client.on("error", () => up.destroy());
      });
    });
  }

  private track(s: Socket): Socket {
    this.sockets.add(s);
    s.on("close", () => this.sockets.delete(s));
    return s;
  }

  listen(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(path, () => resolve());
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
