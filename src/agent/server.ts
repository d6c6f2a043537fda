import { chmodSync, unlinkSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import { Codes, ForgeError } from "../errors.js";
import type { Peer } from "./api.js";
import { callAgent } from "./client.js";
import { onClientError } from "./http.js";

export interface ListenOptions {
  maxHeaderBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

type Handler = (req: IncomingMessage, res: ServerResponse, peer: Peer) => Promise<void>;

const PEER = Symbol("forge.peer");

/**
 * An HTTP server with the API's limits, that finds each connection's peer once (`peerOf`) and
 * hands it to every request on that connection. Counts in-flight requests so shutdown can drain.
 */
export function createApiServer(
  handler: Handler,
  peerOf: (socket: Socket) => Peer,
  o: ListenOptions,
): { server: Server; inflight: () => number } {
  let inflight = 0;
  const server = createServer(
    {
      maxHeaderSize: o.maxHeaderBytes,
      headersTimeout: o.headersTimeoutMs,
      requestTimeout: o.requestTimeoutMs,
      keepAliveTimeout: o.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, o.headersTimeoutMs),
    },
    (req, res) => {
      inflight++;
      res.once("close", () => inflight--);
      const peer = (req.socket as Socket & { [PEER]?: Peer })[PEER] ?? { ok: false, error: "no peer" };
      void handler(req, res, peer);
    },
  );
  server.on("connection", (socket: Socket & { [PEER]?: Peer }) => {
    socket[PEER] = peerOf(socket);
  });
  server.on("clientError", onClientError);
  return { server, inflight: () => inflight };
}

/**
 * Listens on a Unix socket with mode 0660. A socket file left by a dead agent is removed; one an
 * agent still answers on is refused with FORGE_AGENT_RUNNING.
 */
export async function listenUnix(server: Server, path: string): Promise<void> {
  await assertSocketFree(path);
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    // Keep the window in which the socket exists with a looser mode small: listen, then chmod.
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
  chmodSync(path, 0o660);
}

/** Listens on loopback TCP ("127.0.0.1:11434"). */
export async function listenTcp(server: Server, hostPort: string): Promise<string> {
  const i = hostPort.lastIndexOf(":");
  const host = hostPort.slice(0, i).replace(/^\[|\]$/g, "");
  const port = Number(hostPort.slice(i + 1));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const a = server.address();
  return typeof a === "object" && a !== null ? `${a.address}:${a.port}` : hostPort;
}

/** Throws FORGE_AGENT_RUNNING when something answers on `path`, naming the agent's pid when its /v1/health says. */
export async function assertSocketFree(path: string): Promise<void> {
  if (!(await answers(path))) return;
  const pid = await agentPid(path);
  const fix = "stop it first, or set 'socket' (FORGE_SOCKET) to another path";
  throw new ForgeError(
    Codes.AGENT_RUNNING,
    pid === null
      ? `an agent already answers on ${path}: ${fix}`
      : `an agent is already running (pid ${pid}, socket ${path}): ${fix}`,
    { details: { pid, socket: path } },
  );
}

/** The pid the agent on `path` reports in /v1/health, or null (not an agent, or no answer in time). */
async function agentPid(path: string): Promise<number | null> {
  try {
    const r = await callAgent(path, "GET", "/v1/health", undefined, 2000);
    const pid = (r.body as { pid?: unknown } | null)?.pid;
    return r.status === 200 && typeof pid === "number" ? pid : null;
  } catch {
    return null;
  }
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
    s.setTimeout(1000, () => done(false));
  });
}

/** Where `npm start` serves the governed Ollama API: Ollama's own port, so stock clients find it. */
export const OLLAMA_LISTEN = "127.0.0.1:11434";
/** The documented fallback when 11434 is taken (a real Ollama, usually); then any free port. */
export const OLLAMA_FALLBACK_LISTEN = "127.0.0.1:11435";

/**
 * Picks the loopback address for the facade: `preferred` (11434) when free, else `fallback`
 * (11435), else one the OS picks ("127.0.0.1:0"). `note` says in a sentence why it is not the
 * preferred one (null when it is).
 */
export async function pickFacadeListen(
  preferred = OLLAMA_LISTEN,
  fallback = OLLAMA_FALLBACK_LISTEN,
): Promise<{ listen: string; note: string | null }> {
  if (await tcpFree(preferred)) return { listen: preferred, note: null };
  const who = (await isOllama(preferred)) ? "an Ollama server answers there" : "another program holds it";
  const listen = (await tcpFree(fallback)) ? fallback : "127.0.0.1:0";
  const where = listen === fallback ? fallback : `a free port (${fallback} is taken too)`;
  return {
    listen,
    note: `${preferred} is taken (${who}); the governed endpoint uses ${where}: point clients at the OLLAMA_HOST line below, or set FORGE_FACADE_LISTEN=127.0.0.1:PORT`,
  };
}

function tcpFree(hostPort: string): Promise<boolean> {
  const server = createServer();
  return listenTcp(server, hostPort).then(
    () => new Promise<boolean>((resolve) => server.close(() => resolve(true))),
    () => false,
  );
}

async function isOllama(hostPort: string): Promise<boolean> {
  try {
    const r = await fetch(`http://${hostPort}/`, { signal: AbortSignal.timeout(1000) });
    return (await r.text()).includes("Ollama is running");
  } catch {
    return false;
  }
}
