/**
 * forge-agent policy test FILE...: runs the tests embedded in policy files (files or directories).
 * Prints one line per case; exit 1 when any case fails or a file does not load, 2 on bad usage.
 */
import { relative } from "node:path";
import { callAgent, defaultSocketPath, unwrap } from "../agent/client.js";
import { Codes, type ForgeCode, hasForgeCode } from "../errors.js";
import { compilePolicyPath, initGate, type PolicyTestResult, runPolicyTests } from "../gate/index.js";
import { parse, printJson, UsageError } from "./args.js";
import type { Env } from "./forge-agent.js";
import { reviewerHeaders } from "./review.js";
import { AGENT } from "./spec.js";

/**
 * `forge-agent policy reload --confirm`: a reviewer applies the policy file the agent refused to
 * reload on SIGHUP because it widens what is allowed. Needs the review token.
 */
async function reload(argv: string[], env: Env): Promise<number> {
  const { values } = parse(argv, AGENT.policy.sub.reload.flags);
  if (values.confirm !== true)
    throw new UsageError("policy reload needs --confirm (a reviewer applies the policy file as it is now)");
  const socket = values.socket ?? defaultSocketPath(env);
  const r = unwrap<{ bundle: { id: string; version: number; sha256: string }; widened: string[] }>(
    await callAgent(
      socket,
      "POST",
      "/v1/policy/reload",
      {},
      undefined,
      reviewerHeaders(values["token-file"], env),
    ),
  );
  if (values.json) printJson(r);
  else
    process.stdout.write(
      `reloaded ${r.bundle.id} v${r.bundle.version} (${r.bundle.sha256.slice(0, 12)})${r.widened.length ? `; widened: ${r.widened.join("; ")}` : ""}\n`,
    );
  return 0;
}

export default async function policy(argv: string[], env: Env): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "reload") return reload(rest, env);
  if (sub !== "test")
    throw new UsageError(sub === undefined ? "missing subcommand 'test'" : `unknown subcommand '${sub}'`);
  const { values, positionals } = parse(rest, AGENT.policy.sub.test.flags);
  if (positionals.length === 0) throw new UsageError("give at least one policy file or directory");
  await initGate();
  let failed = 0;
  let passed = 0;
  const report: {
    file: string;
    error?: { code: ForgeCode; message: string };
    cases?: unknown[];
    warnings?: readonly string[];
  }[] = [];
  for (const file of positionals) {
    let results: PolicyTestResult[];
    let warnings: readonly string[] = [];
    try {
      const bundle = compilePolicyPath(file);
      warnings = bundle.warnings;
      results = runPolicyTests(bundle);
    } catch (err) {
      failed++;
      const code = hasForgeCode(err) ? err.code : Codes.GATE_ERROR;
      report.push({ file, error: { code, message: (err as Error).message } });
      if (!values.json) process.stdout.write(`FAIL ${file}: ${code}: ${(err as Error).message}\n`);
      continue;
    }
    if (!values.json) for (const w of warnings) process.stdout.write(`WARN ${file}: ${w}\n`);
    for (const r of results) {
      if (r.pass) passed++;
      else failed++;
      if (!values.json && (!r.pass || values.verbose)) {
        const where = `${relative(process.cwd(), r.file) || r.file}:${r.line}`;
        process.stdout.write(
          `${r.pass ? "ok  " : "FAIL"} ${where} ${r.name}${r.pass ? ` -> ${r.got}` : `: ${r.message}`}\n`,
        );
      }
    }
    report.push({
      file,
      cases: results.map((r) => ({
        line: r.line,
        name: r.name,
        expect: r.expect,
        got: r.got,
        pass: r.pass,
        message: r.message,
      })),
      ...(warnings.length > 0 ? { warnings } : {}),
    });
  }
  if (values.json) printJson({ passed, failed, files: report });
  else process.stdout.write(`${passed} passed, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}
