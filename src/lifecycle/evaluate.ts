/**
 * Runs one suite against one GGUF: quality (loss and perplexity per byte token on held-out
 * text, exact/contains-match tasks, greedy) on llama.cpp, and governance (the model answers
 * agentic prompts with tool calls; each call is judged by the real gate; shares of ALLOW, DENY,
 * ESCALATE and the count of unsafe proposals). No I/O beyond loading the model.
 */
import { getLlama, type Llama, type Token } from "node-llama-cpp";
import { Codes, ForgeError } from "../errors.js";
import type { Gate } from "../gate/index.js";
import type { ToolSpec } from "../inference/backend.js";
import { openLlamaBackend } from "../inference/llama.js";
import { toolCallToAction } from "../inference/tools.js";
import { BYTE_OFFSET, tokenize } from "../training/dataset.js";
import { type Claim, compare } from "./statement.js";
import { DEFAULT_TOOLS, type Suite } from "./suite.js";

export interface Proposal {
  prompt: number;
  tool: string | null;
  evaluation: "ALLOW" | "DENY" | "ESCALATE";
  risk: number;
  rules: string[];
  reasons: string[];
}

export interface EvalOutcome {
  metrics: Record<string, number>;
  claims: Claim[];
  passed: boolean;
  samples: { heldout_tokens: number; tasks: number; proposals: number };
  proposals: Proposal[];
  tasks: { prompt: string; expect: string; match: string; output: string; passed: boolean }[];
  timings: { quality_ms: number; governance_ms: number };
  engine: { name: string; version: string };
}

export const ENGINE = { name: "llama.cpp (node-llama-cpp)", version: "3.21.1" };
const BOS = 1;

/** Evaluates the model at `ggufPath` on `suite`; `heldout` is the held-out text's bytes (if any). */
export async function evaluate(
  ggufPath: string,
  suite: Suite,
  heldout: Buffer | null,
  gate: Gate,
  o: { llama?: Llama } = {},
): Promise<EvalOutcome> {
  const llama = o.llama ?? (await getLlama({ gpu: false, build: "never" }));
  try {
    const t0 = performance.now();
    const quality = await runQuality(llama, ggufPath, suite, heldout);
    const t1 = performance.now();
    const governance = await runGovernance(llama, ggufPath, suite, gate);
    const t2 = performance.now();
    const metrics: Record<string, number> = { ...quality.metrics, ...governance.metrics };
    const sizes: Record<string, number> = {
      loss: quality.tokens,
      perplexity: quality.tokens,
      exact_match: quality.tasks.filter((t) => t.match === "exact").length,
      contains_match: quality.tasks.filter((t) => t.match === "contains").length,
    };
    const claims = suite.thresholds.map((t): Claim => {
      const value = metrics[t.metric];
      if (value === undefined)
        throw new ForgeError(
          Codes.EVAL_INVALID,
          `suite ${suite.name}: threshold on '${t.metric}', which this suite does not measure (add ${t.metric.startsWith("governance") ? "governance.prompts" : t.metric.includes("match") ? `a '${t.metric.split("_")[0]}' task` : "quality.heldout"})`,
        );
      return {
        metric: t.metric,
        comparator: t.comparator,
        threshold: t.threshold,
        value,
        passed: compare(value, t.comparator, t.threshold),
        sampleSize: sizes[t.metric] ?? governance.proposals.length,
      };
    });
    return {
      metrics,
      claims,
      passed: claims.every((c) => c.passed),
      samples: {
        heldout_tokens: quality.tokens,
        tasks: quality.tasks.length,
        proposals: governance.proposals.length,
      },
      proposals: governance.proposals,
      tasks: quality.tasks,
      timings: { quality_ms: t1 - t0, governance_ms: t2 - t1 },
      engine: ENGINE,
    };
  } finally {
    if (!o.llama) await llama.dispose();
  }
}

async function runQuality(llama: Llama, path: string, suite: Suite, heldout: Buffer | null) {
  const model = await llama.loadModel({ modelPath: path });
  const contextSize = Math.min(model.trainContextSize, 512);
  const ctx = await model.createContext({ contextSize, threads: 1 });
  const metrics: Record<string, number> = {};
  let tokens = 0;
  const tasks: EvalOutcome["tasks"] = [];
  // One sequence, its history cleared between windows and tasks (a context has one by default).
  const seq = ctx.getSequence();
  try {
    if (heldout !== null) {
      // Teacher-forced next-token NLL over windows of the context, byte tokens (the trainer's).
      const ids = [...heldout.subarray(0, suite.quality.max_tokens)].map((b) => BYTE_OFFSET + b);
      const window = contextSize - 1;
      let nll = 0;
      for (let start = 0; start < ids.length; start += window) {
        const chunk = ids.slice(start, start + window);
        await seq.clearHistory();
        {
          const input: Parameters<typeof seq.controlledEvaluate>[0] = [
            BOS as Token,
            ...chunk.slice(0, -1),
          ].map((t) => [t as Token, { generateNext: { probabilities: true } }] as const) as never;
          const out = await seq.controlledEvaluate(input);
          // Output i is the distribution after input i (BOS, then the chunk): it predicts chunk[i].
          for (let i = 0; i < chunk.length; i++) {
            const target = chunk[i]!;
            const p = out[i]?.next?.probabilities?.get(target as Token) ?? 0;
            nll += -Math.log(Math.max(p, 1e-12));
            tokens++;
          }
        }
      }
      metrics.loss = tokens > 0 ? nll / tokens : Number.NaN;
      metrics.perplexity = Math.exp(metrics.loss);
    }
    for (const t of suite.quality.tasks) {
      await seq.clearHistory();
      {
        const out: number[] = [];
        const gen = seq.evaluate([BOS, ...tokenize(t.prompt)] as Token[], { temperature: 0 });
        for await (const tok of gen) {
          if ((tok as number) === 2 || out.length >= t.max_tokens) break;
          out.push(tok as number);
        }
        const text = Buffer.from(out.filter((x) => x >= BYTE_OFFSET).map((x) => x - BYTE_OFFSET)).toString(
          "utf8",
        );
        const passed = t.match === "exact" ? text.trim() === t.expect.trim() : text.includes(t.expect);
        tasks.push({ prompt: t.prompt, expect: t.expect, match: t.match, output: text, passed });
      }
    }
    const share = (m: string) => {
      const l = tasks.filter((t) => t.match === m);
      return l.length === 0 ? undefined : l.filter((t) => t.passed).length / l.length;
    };
    const em = share("exact");
    const cm = share("contains");
    if (em !== undefined) metrics.exact_match = em;
    if (cm !== undefined) metrics.contains_match = cm;
  } finally {
    seq.dispose();
    await ctx.dispose();
    await model.dispose();
  }
  return { metrics, tokens, tasks };
}

async function runGovernance(llama: Llama, path: string, suite: Suite, gate: Gate) {
  const proposals: Proposal[] = [];
  const metrics: Record<string, number> = {};
  if (suite.governance.prompts.length === 0) return { metrics, proposals };
  const backend = await openLlamaBackend({ backend: "llama", model: path, threads: 1 }, { llama });
  const tools = (suite.governance.tools ?? DEFAULT_TOOLS) as ToolSpec[];
  try {
    for (const [i, prompt] of suite.governance.prompts.entries()) {
      const calls: { function: { name: string; arguments: Record<string, unknown> } }[] = [];
      let failure: string | null = null;
      try {
        for await (const chunk of backend.chat({
          messages: [{ role: "user", content: prompt }],
          tools,
          tool_choice: "required",
          options: { temperature: 0, seed: suite.seed + i, num_predict: suite.governance.max_tokens },
        }))
          calls.push(...(chunk.tool_calls ?? []));
      } catch (err) {
        // A call cut off or malformed never reaches the gate: counted as refused (unsafe: not governable).
        failure = (err as Error).message;
      }
      // No usable call: counted as a refusal the gate never saw (unsafe: not governable).
      const unusable =
        failure !== null ? `no usable tool call: ${failure}` : calls.length === 0 ? "no-tool-call" : null;
      if (unusable !== null) {
        proposals.push({
          prompt: i,
          tool: null,
          evaluation: "DENY",
          risk: 100,
          rules: [],
          reasons: [unusable],
        });
        continue;
      }
      for (const call of calls) {
        let action: ReturnType<typeof toolCallToAction>;
        try {
          action = toolCallToAction(call);
        } catch (err) {
          proposals.push({
            prompt: i,
            tool: call.function.name,
            evaluation: "DENY",
            risk: 100,
            rules: [],
            reasons: [`invalid tool call: ${(err as Error).message}`],
          });
          continue;
        }
        const d = gate.evaluate({ session_id: `eval-${suite.name}`, action });
        proposals.push({
          prompt: i,
          tool: call.function.name,
          evaluation: d.evaluation,
          risk: d.risk,
          rules: d.policy_matched.map((m) => m.rule_id),
          reasons: d.reasons,
        });
      }
    }
  } finally {
    await backend.close();
  }
  const n = proposals.length;
  const count = (e: string) => proposals.filter((p) => p.evaluation === e).length;
  metrics.governance_proposals = n;
  metrics.governance_allow_share = count("ALLOW") / n;
  metrics.governance_deny_share = count("DENY") / n;
  metrics.governance_escalate_share = count("ESCALATE") / n;
  // Unsafe: a proposal the gate refused outright (DENY), including calls it could not even parse.
  metrics.governance_unsafe = count("DENY");
  return { metrics, proposals };
}
