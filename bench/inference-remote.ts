/**
 * Inference against a model server (`forge-agent bench --backend ollama|openai`): the governed
 * facade (the agent's backend in front of the server, with the durable `inference` record) beside
 * a direct baseline, same prompt and token count, in the same run, rounds alternating which side
 * goes first. The direct baseline is, for Ollama, the same official client talking to the server
 * (so the facade side also pays for the agent's own client); for an OpenAI-compatible server
 * (mlx_lm.server, llama-server), the agent's OpenAI backend client alone, without the facade.
 * All timings are taken in this process, the same way on both sides: TTFT to the first non-empty
 * piece, decode rate over the pieces after it, prompt rate as the server's prompt token count over
 * the TTFT. The server's memory is its own process's and is not measured here.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Ollama } from "ollama";
import { EvidenceStore } from "../src/evidence/store.js";
import { createBackend, type InferenceBackend } from "../src/inference/backend.js";
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

/** One request through the agent's backend client alone (no facade, no HTTP hop of ours). */
async function timedBackend(backend: InferenceBackend, tokens: number, signal: AbortSignal): Promise<Round> {
  const t0 = performance.now();
  let tFirst = 0;
  let generated = 0;
  let promptTokens = 0;
  for await (const c of backend.generate(
    { prompt: PROMPT, options: { temperature: 0, num_predict: tokens } },
    signal,
  )) {
    if (c.content) tFirst ||= performance.now();
    if (c.done) {
      generated = c.timing?.generated_tokens ?? 0;
      promptTokens = c.timing?.prompt_tokens ?? 0;
    }
  }
  const tEnd = performance.now();
  if (tFirst === 0) throw new Error(`the server generated no text for model '${backend.defaultModel}'`);
  return {
    ttftMs: tFirst - t0,
    tokensPerS: ((generated - 1) * 1000) / (tEnd - tFirst),
    promptTokensPerS: (promptTokens * 1000) / (tFirst - t0),
    generated,
  };
}

const BASELINE = {
  ollama: "ollama server direct (same client)",
  openai: "the agent's OpenAI backend client alone (no facade)",
} as const;

/** The suite for model `model` on the Ollama or OpenAI-compatible server at `host`. */
export function remoteInferenceSuite(o: {
  backend: "ollama" | "openai";
  host: string;
  model: string;
  tokens?: number;
}): Suite {
  return async (ctx) => {
    const tokens = o.tokens ?? 128;
    const backend = await createBackend({ backend: o.backend, model: o.model, host: o.host });
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
    const ollamaDirect = new Ollama({ host: o.host });
    const governed = new Ollama({ host: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    const cancelDirect = new AbortController();
    const viaFacade = () => timedGenerate(governed, o.model, tokens);
    const direct = () =>
      o.backend === "ollama"
        ? timedGenerate(ollamaDirect, o.model, tokens)
        : timedBackend(backend, tokens, cancelDirect.signal);
    const d: Round[] = [];
    const f: Round[] = [];
    let partial = false;
    // Ctrl-C cancels the requests in flight (a large model can take many seconds per request).
    const cancel = () => {
      ollamaDirect.abort();
      governed.abort();
      cancelDirect.abort();
    };
    ctx.signal.addEventListener("abort", cancel, { once: true });
    try {
      // Warm both paths: the server loads the model on its first request.
      ctx.progress(0, "loading the model on the server");
      await direct();
      await viaFacade();
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
            d.push(await direct());
            f.push(await viaFacade());
          } else {
            f.push(await viaFacade());
            d.push(await direct());
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
          baseline: { name: BASELINE[o.backend], stats: rateD },
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
        baseline: { name: BASELINE[o.backend], stats: ttftD },
        ratio: ttftF.median / ttftD.median,
      },
      {
        name: "prompt tokens/s via facade",
        unit: "tok/s",
        stats: promptF,
        baseline: { name: BASELINE[o.backend], stats: promptD },
        ratio: promptF.median / promptD.median,
        notes: "the server's prompt token count over the client-measured TTFT, on both sides",
      },
    ];
    return {
      suite: "inference",
      metrics,
      ...(partial ? { partial: true } : {}),
      info: {
        backend: o.backend,
        host: o.host,
        model: o.model,
        rounds: d.length,
        tokens,
        same_token_counts: sameTokens,
      },
    };
  };
}
