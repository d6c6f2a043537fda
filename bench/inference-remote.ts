/**
 * Inference against an Ollama server (`forge-agent bench --backend ollama`): the governed facade
 * (the agent's OllamaBackend in front of the server, with the durable `inference` record) beside
 * the same server called directly, with the same official client, prompt and token count, in the
 * same run. Rounds alternate which side goes first. All timings are taken by the client (this
 * process), so both sides are measured the same way: TTFT to the first non-empty piece, decode
 * rate over the pieces after it, prompt rate as the server's prompt_eval_count over the TTFT.
 * The server's memory is its own process's and is not measured here.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Ollama } from "ollama";
import { EvidenceStore } from "../src/evidence/store.js";
import { createBackend } from "../src/inference/backend.js";
import { createOllamaFacade } from "../src/inference/facade.js";
import { judge, type Metric, type Suite, stats } from "./harness.js";

const PROMPT = "The quick brown fox jumps over the lazy dog while the governed agent keeps the record.";

interface Round {
  ttftMs: number;
  tokensPerS: number;
  promptTokensPerS: number;
  generated: number;
}

async function timedGenerate(client: Ollama, model: string, tokens: number): Promise<Round> {
  const t0 = performance.now();
  let tFirst = 0;
  let generated = 0;
  let promptTokens = 0;
  const stream = await client.generate({
    model,
    prompt: PROMPT,
    raw: true,
    stream: true,
    options: { temperature: 0, num_predict: tokens },
  });
  for await (const piece of stream) {
    if (piece.response) tFirst ||= performance.now();
    if (piece.done) {
      generated = piece.eval_count ?? 0;
      promptTokens = piece.prompt_eval_count ?? 0;
    }
  }
  const tEnd = performance.now();
  if (tFirst === 0) throw new Error(`the server generated no text for model '${model}'`);
  return {
    ttftMs: tFirst - t0,
    tokensPerS: ((generated - 1) * 1000) / (tEnd - tFirst),
    promptTokensPerS: (promptTokens * 1000) / (tFirst - t0),
    generated,
  };
}

/** The suite for a model `model` on the Ollama server at `host`. */
export function remoteInferenceSuite(o: { host: string; model: string; tokens?: number }): Suite {
  return async (ctx) => {
    const tokens = o.tokens ?? 128;
    const backend = await createBackend({ backend: "ollama", model: o.model, host: o.host });
    const store = EvidenceStore.open({
      path: join(ctx.tmpDir, "bench-evidence.db"),
      hostId: "bench",
      keyDir: join(ctx.tmpDir, "keys"),
    });
    const facade = createOllamaFacade({
      backend,
      govern: async () => ({
        evaluation: "DENY",
        action_id: "none",
        reasons: ["no tools in this benchmark"],
      }),
      record: (r) => store.append(r),
      principal: null,
    });
    const server = createServer((req, res) => void facade(req, res));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const direct = new Ollama({ host: o.host });
    const governed = new Ollama({ host: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    const d: Round[] = [];
    const f: Round[] = [];
    let partial = false;
    // Ctrl-C cancels the requests in flight (a large model can take many seconds per request).
    const cancel = () => {
      direct.abort();
      governed.abort();
    };
    ctx.signal.addEventListener("abort", cancel, { once: true });
    try {
      // Warm both paths: the server loads the model on its first request.
      ctx.progress(0, "loading the model on the server");
      await timedGenerate(direct, o.model, tokens);
      await timedGenerate(governed, o.model, tokens);
      const minRounds = 5;
      const end = performance.now() + ctx.durationS * 1000;
      for (let i = 0; i < 500; i++) {
        if (ctx.signal.aborted) {
          partial = true;
          break;
        }
        if (i >= minRounds && performance.now() > end) break;
        try {
          if (i % 2 === 0) {
            d.push(await timedGenerate(direct, o.model, tokens));
            f.push(await timedGenerate(governed, o.model, tokens));
          } else {
            f.push(await timedGenerate(governed, o.model, tokens));
            d.push(await timedGenerate(direct, o.model, tokens));
          }
        } catch (err) {
          if (!ctx.signal.aborted) throw err;
          // Keep the rounds both sides completed; the figures are paired.
          d.length = f.length = Math.min(d.length, f.length);
          partial = true;
          break;
        }
        ctx.progress(
          Math.min(1, Math.max(i / minRounds, 1 - (end - performance.now()) / (ctx.durationS * 1000))),
          "inference rounds",
        );
      }
    } finally {
      ctx.signal.removeEventListener("abort", cancel);
      await new Promise((r) => server.close(r));
      await backend.close();
      await store.close();
    }

    const rateD = stats(d.map((r) => r.tokensPerS));
    const rateF = stats(f.map((r) => r.tokensPerS));
    const ttftD = stats(d.map((r) => r.ttftMs));
    const ttftF = stats(f.map((r) => r.ttftMs));
    const promptD = stats(d.map((r) => r.promptTokensPerS));
    const promptF = stats(f.map((r) => r.promptTokensPerS));
    const sameTokens = d.every((r, i) => r.generated === f[i]!.generated);
    const metrics: Metric[] = [
      judge(
        {
          name: "decode tokens/s via facade",
          unit: "tok/s",
          stats: rateF,
          baseline: { name: "ollama server direct", stats: rateD },
          ratio: rateF.median / rateD.median,
          ratio_of: "median facade tokens/s / median direct tokens/s",
          notes: `${d[0]?.generated ?? 0} tokens per request, ${sameTokens ? "equal on both sides in every round" : "UNEQUAL token counts"}`,
        },
        { text: "ratio >= 0.97", stat: "ratio", op: ">=", value: 0.97 },
      ),
      judge(
        {
          name: "ttft added by facade (paired)",
          unit: "ms",
          stats: stats(f.map((r, i) => r.ttftMs - d[i]!.ttftMs)),
          baseline: { name: "direct ttft", stats: ttftD },
        },
        { text: "median <= 1 ms", stat: "median", op: "<=", value: 1 },
      ),
      {
        name: "ttft via facade",
        unit: "ms",
        stats: ttftF,
        baseline: { name: "ollama server direct", stats: ttftD },
        ratio: ttftF.median / ttftD.median,
      },
      {
        name: "prompt tokens/s via facade",
        unit: "tok/s",
        stats: promptF,
        baseline: { name: "ollama server direct", stats: promptD },
        ratio: promptF.median / promptD.median,
        notes: "prompt_eval_count over the client-measured TTFT, on both sides",
      },
    ];
    return {
      suite: "inference",
      metrics,
      ...(partial ? { partial: true } : {}),
      info: {
        backend: "ollama",
        host: o.host,
        model: o.model,
        rounds: d.length,
        tokens,
        same_token_counts: sameTokens,
      },
    };
  };
}
