import { homedir, hostname, userInfo } from "node:os";
import { callAgent, unwrap } from "../agent/client.js";
import { loadConfig } from "../agent/config.js";
import { assertSocketFree } from "../agent/server.js";
import { Codes, hasForgeCode } from "../errors.js";
import { EvidenceStore } from "../evidence/index.js";
import { defaultPolicyPath, Gate, initGate, loadPolicy } from "../gate/index.js";
import type { PrincipalReview } from "../protocol/record.js";
import type { JobReport } from "../training/job.js";
import type { JobSpec } from "../training/spec.js";
import { parse, printJson, UsageError } from "./args.js";
import type { Env } from "./forge-agent.js";
import { registryClients } from "./lifecycle-context.js";
import { AGENT } from "./spec.js";

/**
 * `forge-agent train JOB.yaml [--resume] [--json] [--home DIR] [--config FILE] [--insecure]
 * [--auth-file FILE]`: a governed
 * training run. Exit 0 DONE, 1 HALTED or FAILED, 2 a bad job file.
 *
 * The evidence store has one writer: with a daemon answering on the socket the job runs in the
 * daemon (POST /v1/training/run; its review queue answers escalations). Without one, train opens
 * the local store directly (as bench does) and there is no review queue, so an ESCALATE (at start
 * or an `escalate` anomaly) ends as `expired`: halted.
 */
export default async function train(argv: string[], env: Env): Promise<number> {
  const { values, positionals } = parse(argv, AGENT.train.flags);
  if (positionals.length !== 1) throw new UsageError("give exactly one JOB.yaml");
  const { loadJob } = await import("../training/spec.js");
  let job: ReturnType<typeof loadJob>;
  try {
    job = loadJob(positionals[0]!);
  } catch (err) {
    if (hasForgeCode(err) && err.code === Codes.TRAINING_JOB_INVALID) {
      if (values.json) printJson({ error: { code: err.code, message: err.message } });
      process.stderr.write(`forge-agent: ${err.code}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const config = loadConfig({
    flags: {
      ...(values.config === undefined ? {} : { config: values.config }),
      ...(values.home === undefined ? {} : { home: values.home }),
    },
    env,
    hostname: hostname(),
  });
  // A running daemon owns the chain and the review queue: the job runs there, and an ESCALATE
  // (at start, or an `escalate` anomaly) waits for a reviewer like any action.
  try {
    await assertSocketFree(config.socket);
  } catch (err) {
    if (!hasForgeCode(err) || err.code !== Codes.AGENT_RUNNING) throw err;
    process.stderr.write(`forge-agent: running job '${job.spec.job}' in the agent (${config.socket})\n`);
    const report = unwrap<JobReport>(
      await callAgent(
        config.socket,
        "POST",
        "/v1/training/run",
        { job: job.file, resume: values.resume },
        timeoutMs(job, config),
      ),
    );
    return printReport(report, values.json);
  }
  await initGate();
  const gate = new Gate(loadPolicy(config.policy ?? defaultPolicyPath()), {
    home: env.HOME ?? homedir(),
    cwd: job.dir,
  });
  const store = EvidenceStore.open({
    path: config.evidence.path,
    hostId: config.host_id,
    keyDir: config.evidence.keys,
    ...(config.evidence.synchronous === undefined ? {} : { synchronous: config.evidence.synchronous }),
  });
  const noQueue = async (): Promise<PrincipalReview> => ({
    decision: "expired",
    reviewer: "system",
    at: new Date().toISOString(),
    reason: "no review queue: forge-agent train runs without the daemon, so an escalation cannot be approved",
  });
  // A registry dataset or base model is a `model.pull` judged by the same gate (no queue here:
  // only ALLOW pulls).
  const { registryResolver } = await import("../training/dataset.js");
  const { registryBase } = await import("../training/base.js");
  const registry = {
    client: registryClients(config, values, env),
    judge: async (action: object) => {
      const d = gate.evaluate({ session_id: "training-pull", action });
      return { evaluation: d.evaluation, reasons: d.reasons };
    },
  };
  const { runJob } = await import("../training/job.js");
  const { makeTrainer } = await import("../training/trainers.js");
  const { exportGguf } = await import("../training/export.js");
  try {
    const report = await runJob({
      job,
      resume: values.resume,
      store,
      gate,
      reviewer: { review: noQueue, reviewStart: noQueue },
      makeTrainer: (spec) =>
        makeTrainer(spec, { torchPython: env.FORGE_TORCH_PYTHON, mlxPython: env.FORGE_MLX_PYTHON }),
      resolver: registryResolver(registry),
      baseResolver: registryBase(registry),
      principal: `uid:${process.getuid?.() ?? 0} pid:${process.pid} user:${userInfo().username}`,
      exportModel: exportGguf,
    });
    return printReport(report, values.json);
  } finally {
    await store.close();
  }
}

/** Prints the report (the --json document, or one line) and returns the exit code. */
function printReport(report: JobReport, json: boolean): number {
  if (json) printJson(report);
  else {
    const a = report.anomalies.map((x) => `${x.rule}@${x.step}:${x.outcome}`).join(", ") || "none";
    process.stdout.write(
      `${report.state}: job ${report.job_id} session ${report.session_id}: ${report.steps} steps, ${report.tokens} tokens, loss ${report.loss?.first ?? "-"} → ${report.loss?.last ?? "-"}; anomalies ${a}${report.gguf ? `; gguf ${report.gguf}` : ""}\n`,
    );
    if (report.error) process.stderr.write(`forge-agent: ${report.error.code}: ${report.error.message}\n`);
    if (report.halted_by)
      process.stderr.write(`forge-agent: halted by ${JSON.stringify(report.halted_by)}\n`);
  }
  return report.state === "DONE" ? 0 : 1;
}

/**
 * How long to wait for the daemon's answer, never forever: the job's wall budget (which counts the
 * time anomaly reviews take), the start's review and its pulls' reviews, and ten minutes of margin.
 */
function timeoutMs(job: { spec: JobSpec }, config: { review: { deadline_ms: number } }): number {
  const wall = job.spec.budgets.max_wall_seconds ?? 24 * 3600;
  return wall * 1000 + 3 * config.review.deadline_ms + 600_000;
}
