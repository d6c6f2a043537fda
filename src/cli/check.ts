/**
 * forge-agent check: asks the gate about one shell line, one action, or a batch of them.
 * Exit codes of a single check (a command or --action), so shell scripts and hooks can branch on it:
 * 0 ALLOW (and ESCALATE without --strict), 3 DENY, 4 ESCALATE with --strict; 1 on failure (bad
 * policy), 2 on bad usage. --batch is a replay report: it exits 0 whatever the verdicts.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { resolve } from "node:path";
import { Codes } from "../errors.js";
import { type Decision, defaultPolicyPath, Gate, initGate, loadPolicy } from "../gate/index.js";
import { parse, printJson, UsageError } from "./args.js";
import { AGENT } from "./spec.js";

const OPTIONS = AGENT.check.flags;

/** The exit code of one verdict (see the header). */
export const EXIT = { DENY: 3, ESCALATE_STRICT: 4 } as const;

function exitCode(d: Decision, strict: boolean): number {
  if (d.evaluation === "DENY") return EXIT.DENY;
  if (d.evaluation === "ESCALATE" && strict) return EXIT.ESCALATE_STRICT;
  return 0;
}

/** The CLI's view of a decision: the docs/design.md fields first, then what helps a reader. */
function view(d: Decision): Record<string, unknown> {
  return {
    evaluation: d.evaluation,
    policy_matched: d.policy_matched,
    risk: d.risk,
    reasons: d.reasons,
    latency_ms: Number(d.latency_ms.toFixed(4)),
    bundle: d.bundle,
    composition_state: d.composition_state,
  };
}

function line(d: Decision, what: string): string {
  const rules = d.policy_matched.map((m) => m.rule_id).join(",") || "-";
  return `${d.evaluation.padEnd(8)} risk ${String(d.risk).padStart(3)}  ${what}\n  rules: ${rules}\n  ${d.reasons.join("\n  ")}`;
}

export default async function check(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, OPTIONS);
  const modes = [positionals.length > 0, v.action !== undefined, v.batch !== undefined].filter(
    Boolean,
  ).length;
  if (modes !== 1) throw new UsageError("give exactly one of: -- COMMAND..., --action JSON, --batch FILE");
  await initGate();
  const bundle = loadPolicy(resolve(v.policy ?? defaultPolicyPath()));
  const cwd = resolve(v.cwd ?? process.cwd());
  // The configured workspace roots (default: --cwd); an action's own cwd outside them is outside.
  const workspaces = (v.workspace ?? [cwd]).map((w) => resolve(w));
  const gate = new Gate(bundle, { home: homedir(), cwd, workspaces });
  const session = v.session ?? "cli";
  const principal = v.principal ?? null;

  if (v.batch !== undefined) return batch(gate, v.batch, session, principal, cwd, v.json === true);

  let action: unknown;
  let what: string;
  if (v.action !== undefined) {
    try {
      action = JSON.parse(v.action);
    } catch (err) {
      throw new UsageError(`--action is not JSON: ${(err as Error).message}`);
    }
    what = v.action;
  } else {
    what = positionals.join(" ");
    action = { kind: "shell", command: what, cwd };
  }
  const d = gate.evaluate({ session_id: session, principal, action });
  if (v.json) printJson(view(d));
  else process.stdout.write(`${line(d, what)}\n`);
  return exitCode(d, v.strict === true);
}

/** One JSON object a line in, one decision (or error object) a line out; sessions keep state across lines. */
function batch(
  gate: Gate,
  file: string,
  session: string,
  principal: string | null,
  cwd: string,
  json: boolean,
): number {
  let text: string;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read --batch ${file}: ${(err as Error).message}`);
  }
  const lines = text.split("\n");
  const counts = { ALLOW: 0, DENY: 0, ESCALATE: 0, error: 0 };
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === "") continue;
    const n = i + 1;
    const fail = (message: string) => {
      counts.error++;
      const err = { line: n, error: { code: Codes.BAD_REQUEST, message } };
      if (json) printJson(err);
      else process.stdout.write(`ERROR    line ${n}: ${message}\n`);
    };
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (err) {
      fail(`not JSON: ${(err as Error).message}`);
      continue;
    }
    if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
      fail("each line must be a JSON object");
      continue;
    }
    const o = obj as Record<string, unknown>;
    if ((o.command === undefined) === (o.action === undefined)) {
      fail("each line needs exactly one of 'command' or 'action'");
      continue;
    }
    for (const k of ["session_id", "cwd", "principal", "command"] as const) {
      if (o[k] !== undefined && typeof o[k] !== "string") {
        fail(`'${k}' must be a string`);
        obj = null;
        break;
      }
    }
    if (obj === null) continue;
    const lineCwd = typeof o.cwd === "string" ? resolve(cwd, o.cwd) : cwd;
    const action = o.command !== undefined ? { kind: "shell", command: o.command, cwd: lineCwd } : o.action;
    const d = gate.evaluate({
      session_id: (o.session_id as string | undefined) ?? session,
      principal: (o.principal as string | undefined) ?? principal,
      action,
      ...(typeof o.action_id === "string" ? { action_id: o.action_id } : {}),
    });
    counts[d.evaluation]++;
    if (json) printJson({ line: n, ...view(d) });
    else
      process.stdout.write(
        `${line(d, typeof o.command === "string" ? o.command : JSON.stringify(o.action))}\n`,
      );
  }
  if (!json) {
    process.stdout.write(
      `\n${counts.ALLOW} ALLOW, ${counts.ESCALATE} ESCALATE, ${counts.DENY} DENY, ${counts.error} error(s)\n`,
    );
  }
  return 0;
}
