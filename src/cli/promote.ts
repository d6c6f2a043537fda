/**
 * `forge-agent promote REF --stage NAME [--reason TEXT] [--json]`: a governed promotion
 * (`model.promote`, record kind `promotion`); `--history` lists the repository's stage history.
 * Exit 0 promoted, 1 refused (DENY, or an escalation nobody could approve), 2 usage.
 */
import { callAgent, unwrap } from "../agent/client.js";
import { assertSocketFree } from "../agent/server.js";
import { Codes, hasForgeCode } from "../errors.js";
import { type PromotionReport, promote, stageHistory } from "../lifecycle/promote.js";
import { parseReference } from "../registry/index.js";
import { parse, printJson, UsageError } from "./args.js";
import type { Env } from "./forge-agent.js";
import { lifecycleConfig, openLifecycle } from "./lifecycle-context.js";
import { AGENT } from "./spec.js";

export default async function promoteCommand(argv: string[], env: Env): Promise<number> {
  const { values: v, positionals } = parse(argv, AGENT.promote.flags);
  if (positionals.length !== 1) throw new UsageError("give exactly one model REF");
  if (!v.history) {
    if (!v.stage) throw new UsageError("give --stage NAME");
    // A running daemon owns the chain and the review queue: the promotion runs there (an ESCALATE
    // waits for a reviewer on the socket or the collector console).
    const config = lifecycleConfig(v, env);
    try {
      await assertSocketFree(config.socket);
    } catch (err) {
      if (!hasForgeCode(err) || err.code !== Codes.AGENT_RUNNING) throw err;
      process.stderr.write(
        `forge-agent: promoting through the running agent (${config.socket}); an escalation waits for a reviewer\n`,
      );
      const r = unwrap<PromotionReport>(
        await callAgent(
          config.socket,
          "POST",
          "/v1/lifecycle/promote",
          { ref: positionals[0], stage: v.stage, reason: v.reason ?? null },
          config.review.deadline_ms + 60_000,
        ),
      );
      print(r, v.json);
      return 0;
    }
  }
  const o = await openLifecycle(v, env);
  try {
    if (v.history) {
      const h = stageHistory(parseReference(positionals[0]!).repository, o.ctx);
      if (v.json) printJson({ history: h });
      else
        for (const e of h)
          process.stdout.write(
            `${e.at}  ${e.stage}  ${e.evaluation}  ${e.digest}  replaced ${e.replaced ?? "-"}  by ${e.by ?? "?"}${e.reviewer ? ` reviewed by ${e.reviewer}` : ""}\n`,
          );
      return 0;
    }
    const r = await promote(positionals[0]!, { stage: v.stage!, reason: v.reason ?? null }, o.ctx);
    print(r, v.json);
    return 0;
  } finally {
    await o.close();
  }
}

function print(r: PromotionReport, json: boolean): void {
  if (json) printJson(r);
  else
    process.stdout.write(
      `${r.reference} → ${r.stage}${r.replaced ? ` (replaced ${r.replaced})` : ""}\n  record ${r.record.host_id}#${r.record.seq}\n  provenance ${r.provenance?.reference}\n  signature ${r.signature?.reference}\n`,
    );
}
