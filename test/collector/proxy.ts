import { createConnection, createServer, type Server, type Socket } from "node:net";

/** A loopback TCP proxy the test controls: cut every connection, or point it at another upstream. */
export class TcpProxy {
  private server: Server;
  private readonly sockets = new Set<Socket>();
  upstreamPort: number;
  port = 0;
  /** Bytes forwarded client → upstream (to cut "mid-batch"). */
  forwarded = 0;

  constructor(upstreamPort: number) {
    this.upstreamPort = upstreamPort;
    this.server = createServer((client) => {
      const up = createConnection({ host: "127.0.0.1", port: this.upstreamPort });
      this.sockets.add(client).add(up);
      client.on("data", (d) => {
        this.forwarded += d.length;
      });
      client.pipe(up).pipe(client);
      const done = () => {
        client.destroy();
        up.destroy();
        this.sockets.delete(client);
        this.sockets.delete(up);
      };
      client.on("error", done).on("close", done);
      up.on("error", done).on("close", done);
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", () => r()));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  url(path = "/v1/ws"): string {
    return `ws://127.0.0.1:${this.port}${path}`;
  }

  /** Destroys every open connection at once (no close frame: like a cable pulled). */
  cutAll(): number {
    const n = this.sockets.size;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    return n;
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
