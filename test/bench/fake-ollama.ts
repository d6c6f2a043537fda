import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stand-in for an Ollama server (Ollama cannot be installed on this machine): /api/version,
 * /api/tags, /api/ps and a streaming /api/generate that yields `num_predict` one-word pieces, one
 * per event-loop turn, and closes with Ollama's counters. Enough for the official client.
 */
export async function startFakeOllama(
  model: string,
  digest: string,
  /** Milliseconds between pieces (0: one event-loop turn). */
  pieceMs = 0,
): Promise<{ url: string; server: Server; requests: () => number }> {
  let generates = 0;
  const server = createServer((req, res) => {
    const json = (v: unknown) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(v));
    };
    if (req.url === "/api/version") return json({ version: "0.12.0" });
    if (req.url === "/api/tags")
      return json({
        models: [{ name: model, model, size: 1, digest, details: {}, modified_at: new Date().toISOString() }],
      });
    if (req.url === "/api/ps") return json({ models: [] });
    if (req.url === "/api/generate" && req.method === "POST") {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => (body += c));
      req.on("end", async () => {
        generates++;
        const r = JSON.parse(body) as { model: string; options?: { num_predict?: number } };
        const n = r.options?.num_predict ?? 16;
        res.writeHead(200, { "content-type": "application/x-ndjson" });
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < n; i++) {
          await new Promise((ok) => (pieceMs > 0 ? setTimeout(ok, pieceMs) : setImmediate(ok)));
          res.write(
            `${JSON.stringify({ model: r.model, created_at: new Date().toISOString(), response: " tok", done: false })}\n`,
          );
        }
        const ns = Number(process.hrtime.bigint() - t0);
        res.end(
          `${JSON.stringify({
            model: r.model,
            created_at: new Date().toISOString(),
            response: "",
            done: true,
            done_reason: "length",
            prompt_eval_count: 20,
            prompt_eval_duration: 1_000_000,
            eval_count: n,
            eval_duration: ns,
            total_duration: ns + 1_000_000,
            load_duration: 0,
          })}\n`,
        );
      });
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: "not found" }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    requests: () => generates,
  };
}

/**
 * A stand-in for an OpenAI-compatible server (mlx_lm.server, llama-server): /v1/models and a
 * streaming /v1/completions (server-sent events, one piece per event-loop turn, usage at the end).
 */
export async function startFakeOpenAi(
  model: string,
): Promise<{ url: string; server: Server; requests: () => number }> {
  let completions = 0;
  const server = createServer((req, res) => {
    if (req.url === "/v1/models") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "list", data: [{ id: model, object: "model" }] }));
      return;
    }
    if (req.url === "/v1/completions" && req.method === "POST") {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => (body += c));
      req.on("end", async () => {
        completions++;
        const r = JSON.parse(body) as { model: string; max_tokens?: number };
        const n = r.max_tokens ?? 16;
        res.writeHead(200, { "content-type": "text/event-stream" });
        const event = (v: unknown) => res.write(`data: ${JSON.stringify(v)}\n\n`);
        for (let i = 0; i < n; i++) {
          await new Promise((ok) => setImmediate(ok));
          event({
            object: "text_completion",
            model: r.model,
            choices: [{ index: 0, text: " tok", finish_reason: null }],
          });
        }
        event({
          object: "text_completion",
          model: r.model,
          choices: [{ index: 0, text: "", finish_reason: "length" }],
        });
        event({
          object: "text_completion",
          model: r.model,
          choices: [],
          usage: { prompt_tokens: 20, completion_tokens: n },
        });
        res.end("data: [DONE]\n\n");
      });
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { message: "not found" } }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    requests: () => completions,
  };
}
