/**
 * `forge-agent promote REF --stage NAME [--reason TEXT] [--json]`: a governed promotion
 * (`model.promote`, record kind `promotion`); `--history` lists the repository's stage history.
 * Exit 0 promoted, 1 refused (DENY, or an escalation nobody could approve), 2 usage.
 */
import { promote, stageHistory } from "../lifecycle/promote.js";
import { parseReference } from "../registry/index.js";
import { parse, printJson, UsageError } from "./args.js";
import { LIFECYCLE_FLAGS, openLifecycle } from "./lifecycle-context.js";

export default async function promoteCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, {
    ...LIFECYCLE_FLAGS,
    stage: { type: "string" },
    reason: { type: "string" },
    history: { type: "boolean", default: false },
  });
  if (positionals.length !== 1) throw new UsageError("give exactly one model REF");
  const o = await openLifecycle(v);
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
    if (!v.stage) throw new UsageError("give --stage NAME");
    const r = await promote(positionals[0]!, { stage: v.stage, reason: v.reason ?? null }, o.ctx);
    if (v.json) printJson(r);
    else
      process.stdout.write(
        `${r.reference} → ${r.stage}${r.replaced ? ` (replaced ${r.replaced})` : ""}\n  record ${r.record.host_id}#${r.record.seq}\n  provenance ${r.provenance?.reference}\n  signature ${r.signature?.reference}\n`,
      );
    return 0;
  } finally {
    await o.close();
  }
}
