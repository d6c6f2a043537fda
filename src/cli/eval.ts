/**
 * `forge-agent eval --model REF --suite REF [--json]`: evaluates a registry model on a registry
 * suite, pushes the signed eval-result statement as a referrer of the model and records it
 * (kind `evaluation`). Exit 0 passed, 1 failed (the artefact is still pushed) or refused, 2 usage.
 */
import { runEval } from "../lifecycle/run-eval.js";
import { parse, printJson, UsageError } from "./args.js";
import type { Env } from "./forge-agent.js";
import { openLifecycle } from "./lifecycle-context.js";
import { AGENT } from "./spec.js";

export default async function evalCommand(argv: string[], env: Env): Promise<number> {
  const { values: v, positionals } = parse(argv, AGENT.eval.flags);
  if (positionals.length > 0 || !v.model || !v.suite)
    throw new UsageError("give --model REF and --suite REF");
  const o = await openLifecycle(v, env);
  try {
    const r = await runEval(v.model, v.suite, o.ctx);
    if (v.json) printJson(r);
    else {
      process.stdout.write(
        `${r.passed ? "PASSED" : "FAILED"}  ${r.model.reference}  suite ${r.suite.name} v${r.suite.version}\n`,
      );
      for (const c of r.claims)
        process.stdout.write(
          `  ${c.passed ? "pass" : "FAIL"}  ${c.metric} = ${Number(c.value.toFixed(4))} (${c.comparator} ${c.threshold}, n=${c.sampleSize})\n`,
        );
      process.stdout.write(
        `  artefact ${r.artefact.reference}\n  record ${r.record.host_id}#${r.record.seq}\n`,
      );
    }
    return r.passed ? 0 : 1;
  } finally {
    await o.close();
  }
}
